// The poison rule under repeated kill -9 of one stage (issue #20). A job whose lease expired more
// than max_retries times in one stage attempt is failed: it hangs or kills its workers. But a run
// killed with SIGKILL takes down every job it held, whatever they were: ten kills of
// `analyze --force` used to fail the first anime's jobs ('lease … expired 4 times'), then the next
// anime's, because each run claims the same first anime again. A lease of this host whose process
// is gone is no fault of its job and is not counted; a lease that another host held (whose process
// cannot be checked from here) still is, so a job whose own attempts keep dying is still failed.
import {expect} from 'chai'
import Database from 'better-sqlite3'
import {spawn} from 'node:child_process'
import {cpSync, existsSync, readFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {sqlTime} from '../../src/queue/clock.js'
import {seededRandom} from '../../src/stages/analyze/optimize.js'
import {BIN, filesUnder, openAt, runCli, runCliAsync, tempDir, writeShowSubtitles} from '../helpers.js'

const SHOWS = 3
const EPISODES = 4
const KILLS = 10
const SEED = 20261205
// max_retries in the default config: a job is failed when its lease expired more often than this
const MAX_RETRIES = 3
const GONE = 'process is gone (not counted against the job)'
// bootstrap replicates make each anime's fit last long enough to be killed in the middle of it
const FIT = ['--bootstrap', '300']
const ENV: Record<string, string> = {
  // this machine's name in lease owners (the name the test looks for), whatever the environment says
  ANIMEZIPF_QUEUE_HOST_ID: hostname(),
  ANIMEZIPF_QUEUE_LEASE_SECONDS: '2',
  ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
  ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '0',
  NO_COLOR: '1',
}

/** A read connection to the queue (SQLite in WAL mode: it never blocks the runs it watches). */
function watch(db: string) {
  const conn = new Database(db, {fileMustExist: true, timeout: 10_000})
  const held = conn.prepare<[string], {n: number}>(`SELECT COUNT(*) AS n FROM jobs WHERE stage = 'analyzing' AND lease_owner LIKE ?`)
  const live = conn.prepare<[string], {n: number}>(`SELECT COUNT(*) AS n FROM jobs WHERE lease_owner IS NOT NULL AND lease_expires_at >= ?`)
  const failed = conn.prepare<[], {id: number; error_message: string | null}>(`SELECT id, error_message FROM jobs WHERE stage = 'failed' ORDER BY id`)
  return {
    /** Jobs being analyzed under a lease of this host:pid. */
    heldBy: (host: string, pid: number) => held.get(`${host}:${pid}:%`)!.n,
    /** Failed jobs with their reasons. */
    failed: () => failed.all(),
    /** Until every lease in the queue has expired (the next run's recovery then takes them back). */
    async leasesExpired(): Promise<void> {
      while (live.get(sqlTime(Date.now()))!.n > 0) await sleep(50)
      await sleep(50)
    },
    close: () => conn.close(),
  }
}

interface Round {
  /** Killed while it held leases on jobs being analyzed. */
  killed: boolean
  out: string
}

/** One run of `args` killed with SIGKILL `delayMs` after it claimed work (or left to end, when it ends first). */
async function killAfterClaim(w: ReturnType<typeof watch>, args: string[], env: Record<string, string>, host: string, delayMs: number): Promise<Round> {
  const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...ENV, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  let exited = false
  const done = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())))
  while (!exited && w.heldBy(host, child.pid!) === 0) await sleep(10)
  let killed = false
  if (!exited) {
    await sleep(delayMs)
    if (!exited) {
      killed = w.heldBy(host, child.pid!) > 0
      child.kill('SIGKILL')
    }
  }
  await done
  return {killed, out}
}

describe('crash safety: the poison rule under repeated kill -9 of one stage', function () {
  this.timeout(180_000)
  // a queue with every episode tokenized, copied by each case
  let base: string
  const malIds: number[] = []

  before(() => {
    const work = tempDir()
    base = path.join(work, 'data')
    for (let s = 1; s <= SHOWS; s++) {
      const files = writeShowSubtitles(path.join(work, `show${s}`), EPISODES, 300 + s, 60)
      const r = runCli(['import', ...files, '--title', `Poison Show ${s}`, '--genre', 'Drama', '--studio', 'Studio P', '--data-dir', base, '--json'])
      expect(r.code, r.stderr).to.equal(0)
      malIds.push((JSON.parse(r.stdout) as {anime: {mal_id: number}}).anime.mal_id)
    }
    const t = runCli(['tokenize', '--workers', '2', '--data-dir', base])
    expect(t.code, t.stderr).to.equal(0)
  })

  function copyOfBase(): {data: string; db: string} {
    const data = path.join(tempDir(), 'data')
    cpSync(base, data, {recursive: true})
    return {data, db: path.join(data, 'jobs.db')}
  }

  it('ten kill -9 of analyze --force fail no job: the leases of a run whose process is gone are not counted', async () => {
    const {data, db} = copyOfBase()
    const w = watch(db)
    const random = seededRandom(SEED)
    const rounds: Round[] = []
    try {
      // analyze --force, killed at a seeded moment after each claim, until ten runs died holding
      // leases; each run first recovers what the one before held, then claims the same first anime
      for (let round = 0; round < 3 * KILLS && rounds.filter((r) => r.killed).length < KILLS; round++) {
        rounds.push(await killAfterClaim(w, ['analyze', '--force', ...FIT, '--data-dir', data], {}, hostname(), Math.floor(random() * 600)))
        await w.leasesExpired()
      }
      // (a queue that failed the jobs it took back has nothing left to claim, and fewer kills)
      expect(w.failed(), 'jobs failed by the kills').to.deep.equal([])
      expect(
        rounds.filter((r) => r.killed),
        'runs killed holding leases',
      ).to.have.length(KILLS)

      // one more run, not killed, finishes every job
      const last = await runCliAsync(['analyze', ...FIT, '--data-dir', data], {env: ENV})
      expect(last.code, last.stdout + last.stderr).to.equal(0)
      rounds.push({killed: false, out: last.stdout + last.stderr})
    } finally {
      w.close()
    }

    // the run after each kill said the leases it took back were of a process that is gone
    for (let i = 0; i < rounds.length - 1; i++) {
      if (rounds[i]!.killed) expect(rounds[i + 1]!.out, `the run after kill ${i + 1}`).to.include(GONE)
    }
    const said = rounds.map((r) => r.out).join('\n')
    expect(said).to.not.match(/time\(s\) in this stage|keeps killing/)

    const q = await openAt(db)
    try {
      const byStage = await q.stats.jobsPerStage()
      expect(byStage, JSON.stringify(byStage)).to.include({complete: SHOWS * EPISODES, failed: 0, analyzing: 0})
      let recovered = 0
      for (let id = 1; id <= SHOWS * EPISODES; id++) {
        const job = (await q.jobs.getJob(id))!
        expect(job.stage, `job ${id}`).to.equal('complete')
        expect(job.lease_owner, `job ${id} lease`).to.equal(null)
        expect(job.expiries, `job ${id} expiries`).to.equal(0)
        const events = await q.jobs.events(id)
        expect(
          events.filter((e) => e.event === 'failed'),
          `job ${id} failed events`,
        ).to.deep.equal([])
        const back = events.filter((e) => e.event === 'recovered')
        for (const e of back) expect(e.message).to.include(GONE)
        recovered += back.length
      }
      // at least the first anime's episodes were taken back after every kill
      expect(recovered, 'recoveries').to.be.at.least(KILLS * EPISODES)
      const analyzed = await q.analysis.analyzedAnime()
      expect(analyzed.map((a) => a.mal_id).sort()).to.deep.equal([...malIds].sort())
    } finally {
      await q.close()
    }

    // every anime's outputs and the corpus-wide ones are there and whole
    for (const [i, mal] of malIds.entries()) {
      const dir = path.join(data, 'analysis', 'per_anime', String(mal))
      const params = JSON.parse(readFileSync(path.join(dir, 'zipf_params.json'), 'utf8')) as Record<string, unknown>
      expect(params).to.include({anime_id: mal, anime_title: `Poison Show ${i + 1}`, episodes_analyzed: EPISODES, partial: false})
      const csv = readFileSync(path.join(dir, 'word_freq.csv'), 'utf8').trim().split('\n')
      expect(csv.length, `${mal} word_freq.csv`).to.be.greaterThan(10)
      expect(readFileSync(path.join(dir, 'zipf_plot.html'), 'utf8').trimEnd()).to.match(/^<!DOCTYPE html>[\s\S]*<\/html>$/)
    }
    const global = JSON.parse(readFileSync(path.join(data, 'analysis', 'aggregated', 'global_zipf.json'), 'utf8')) as {corpus: Record<string, unknown>}
    expect(global.corpus).to.include({anime: SHOWS, episodes: SHOWS * EPISODES})
    expect(existsSync(path.join(data, 'analysis', 'reports', 'final_report.html'))).to.equal(true)
    // a killed run may leave a half-written temp file: cleanup removes those of processes that are gone
    const cleaned = await runCliAsync(['cleanup', '--data-dir', data], {env: ENV})
    expect(cleaned.code, cleaned.stderr).to.equal(0)
    expect(
      filesUnder(data).filter((f) => /\.tmp$|\.part$/.test(f)),
      'temp files',
    ).to.deep.equal([])
  })

  it('still fails a job whose own attempts keep dying: leases of other hosts count, and the fifth expiry fails it', async () => {
    const {data, db} = copyOfBase()
    const w = watch(db)
    const random = seededRandom(SEED + 1)
    const mal = malIds[0]!
    const rounds: Round[] = []
    try {
      // the same anime is claimed on four machines in turn, each run killed in its fit: a host
      // cannot tell whether another host's worker died or hangs, so every expiry counts
      for (let k = 1; k <= MAX_RETRIES + 1; k++) {
        const host = `machine-${k}`
        const r = await killAfterClaim(
          w,
          ['analyze', '--anime-id', String(mal), ...FIT, '--data-dir', data],
          {ANIMEZIPF_QUEUE_HOST_ID: host},
          host,
          Math.floor(random() * 200),
        )
        expect(r.killed, `run on ${host} killed holding its leases:\n${r.out}`).to.equal(true)
        rounds.push(r)
        await w.leasesExpired()
      }
      const last = await runCliAsync(['analyze', '--anime-id', String(mal), ...FIT, '--data-dir', data], {env: {...ENV, ANIMEZIPF_QUEUE_HOST_ID: 'machine-5'}})
      rounds.push({killed: false, out: last.stdout + last.stderr})
    } finally {
      w.close()
    }
    for (let k = 1; k <= MAX_RETRIES; k++) {
      expect(rounds[k]!.out, `run ${k + 1}`).to.match(
        new RegExp(`under machine-${k}:\\d+:[0-9a-f]{8}:\\S+ whose lease expired \\(${k} time\\(s\\) in this stage\\): back to tokenized`),
      )
    }
    const last = rounds.at(-1)!.out
    expect(last).to.match(/under machine-4:\S+ whose lease expired \(4 time\(s\) in this stage\): failed, it keeps killing/)
    expect(rounds.map((r) => r.out).join('\n')).to.not.include(GONE)

    const q = await openAt(db)
    try {
      for (let id = 1; id <= SHOWS * EPISODES; id++) {
        const job = (await q.jobs.getJob(id))!
        expect(job.lease_owner, `job ${id} lease`).to.equal(null)
        if (job.mal_id === mal) {
          expect(job, `job ${id}`).to.include({stage: 'failed', failed_stage: 'analyzing', expiries: MAX_RETRIES + 1})
          expect(job.error_message).to.match(/^lease of machine-4:\S+ expired \(worker died or hung\) 4 times$/)
        } else {
          // the other anime were never claimed: untouched
          expect(job, `job ${id}`).to.include({stage: 'tokenized', expiries: 0})
        }
      }
    } finally {
      await q.close()
    }
  })
})
