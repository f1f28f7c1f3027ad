// PostgreSQL going away under a run (issue #20, item 8): the server ends the run's connections
// while a statement waits, or stops answering while the run holds jobs. Either way the run ends
// with exit 75 (try later) and one line, no internal error; the jobs it held go back (released
// when a connection can be had, else when their leases run out, not counted against them), and the
// next run finishes them. Real PostgreSQL (the test server), a relay the test can cut in front of it.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {copyFileSync, mkdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import pg from 'pg'

import {testMedia} from '../fakes/media.js'
import {pgRelay} from '../fixtures/tcp-proxy.js'
import {BIN, ROOT, openAt, runCliAsync, tempDir} from '../helpers.js'
import {PG_URL, freshPgDatabase} from '../pg.js'

const FAKE_WHISPER = path.join(ROOT, 'test', 'fakes', 'bin', 'whisper-fake')
const HOST = 'gone-host'

interface JobState {
  stage: string
  lease_owner: string | null
  attempts: number
  error_message: string | null
}

async function jobsOf(url: string): Promise<JobState[]> {
  const c = new pg.Client({connectionString: url})
  await c.connect()
  try {
    return (await c.query(`SELECT stage, lease_owner, attempts, error_message FROM jobs ORDER BY id`)).rows as JobState[]
  } finally {
    await c.end()
  }
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A PostgreSQL queue with `episodes` jobs in 'downloaded', their videos on this host, and a whisper that takes `whisperMs`. */
async function downloadedQueue(episodes: number, whisperMs: number): Promise<{url: string; env: Record<string, string>; scenarios: string}> {
  const media = testMedia()
  const work = tempDir()
  const data = path.join(work, 'data')
  const storage = path.join(work, 'storage')
  mkdirSync(path.join(data, 'models'), {recursive: true})
  writeFileSync(path.join(data, 'models', 'ggml-large-v3-turbo.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(1000)]))
  const url = await freshPgDatabase()
  const q = await openAt(url)
  try {
    const animeId = await q.anime.upsert({mal_id: 4242, title: 'Gone Show'})
    for (let e = 1; e <= episodes; e++) {
      const stored = `videos/4242/episodes/ep${String(e).padStart(3, '0')}.mp4`
      mkdirSync(path.dirname(path.join(storage, stored)), {recursive: true})
      copyFileSync(media.episode, path.join(storage, stored))
      await q.jobs.enqueue(
        [
          {
            animeId,
            malId: 4242,
            animeTitle: 'Gone Show',
            episode: e,
            stage: 'downloaded',
            fields: {video_path: stored, video_size_bytes: statSync(media.episode).size, video_host: HOST, duration_seconds: 3},
          },
        ],
        2,
      )
    }
  } finally {
    await q.close()
  }
  const scenarios = path.join(work, 'whisper.json')
  writeFileSync(scenarios, JSON.stringify({default: 'slow', slowMs: whisperMs}))
  return {
    url,
    scenarios,
    env: {
      ANIMEZIPF_DATA_ROOT_DIR: data,
      ANIMEZIPF_QUEUE_HOST_ID: HOST,
      ANIMEZIPF_DATA_STORAGE_DIR: storage,
      ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: FAKE_WHISPER,
      ANIMEZIPF_QUEUE_LEASE_SECONDS: '2',
      ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
      ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '0',
      FAKE_WHISPER_DATA: scenarios,
      NO_COLOR: '1',
    },
  }
}

function start(args: string[], env: Record<string, string>): {done: Promise<{code: number | null; stdout: string; stderr: string}>} {
  const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return {done: new Promise((resolve) => child.on('close', (code) => resolve({code, stdout, stderr})))}
}

function expectTryLater(r: {code: number | null; stderr: string}, message: RegExp): void {
  expect(r.code, r.stderr).to.equal(75)
  const last = r.stderr.trim().split('\n').at(-1)!
  expect(last).to.match(/^animezipf: lost the connection to the queue's database/)
  expect(last).to.match(message)
  expect(r.stderr).to.not.include('internal error')
  expect(r.stderr).to.not.match(/\n\s+at /)
}

describe('PostgreSQL going away under a run', function () {
  this.timeout(180_000)
  before(function () {
    // test/pg.test.ts fails the suite where PostgreSQL is required and missing
    if (!PG_URL) this.skip()
  })

  it('the server ends the connection of a waiting statement: exit 75 in one line, nothing changed', async () => {
    const {url, env} = await downloadedQueue(2, 1)
    const dbname = new URL(url).pathname.slice(1)
    const admin = new pg.Client({connectionString: url})
    await admin.connect()
    try {
      // hold the jobs table so that the run's first statement on it waits
      await admin.query('BEGIN')
      await admin.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE')
      const run = start(['transcribe', '--workers', '2'], {...env, ANIMEZIPF_QUEUE_URL: url})
      const watcher = new pg.Client({connectionString: url})
      await watcher.connect()
      try {
        await until('the run to wait on the lock', async () => {
          const {rows} = await watcher.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'animezipf' AND wait_event_type = 'Lock'`,
            [dbname],
          )
          return rows[0].n > 0
        })
      } finally {
        await watcher.end()
      }
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'animezipf'`, [dbname])
      await admin.query('ROLLBACK')
      const r = await run.done
      expectTryLater(r, /terminating connection due to administrator command/)
    } finally {
      await admin.end()
    }
    const jobs = await jobsOf(url)
    expect(jobs.map((j) => [j.stage, j.lease_owner, j.attempts])).to.deep.equal([
      ['downloaded', null, 0],
      ['downloaded', null, 0],
    ])
  })

  it('the server stops answering while the run holds jobs: exit 75, the jobs go back when their leases end, uncounted, and the next run does them', async () => {
    const {url, env, scenarios} = await downloadedQueue(2, 3000)
    const relay = await pgRelay(url)
    const run = start(['transcribe', '--workers', '2'], {...env, ANIMEZIPF_QUEUE_URL: relay.url})
    await until('both jobs to be held', async () => (await jobsOf(url)).every((j) => j.stage === 'transcribing' && j.lease_owner !== null))
    await relay.cut()
    const r = await run.done
    expectTryLater(r, /ECONNREFUSED|Connection terminated|ECONNRESET/)
    expect(r.stderr.trim().split('\n').at(-1)).to.match(/2 job\(s\) given back|0 job\(s\) given back, 2 go back when their leases run out/)
    const held = await jobsOf(url)
    // nothing was lost: each job is still held (its lease runs out) or back where it was
    for (const j of held) expect(['transcribing', 'downloaded']).to.include(j.stage)

    // the server is back (the real URL): the next run takes the jobs once their leases end, and the
    // dead run's leases are not counted against them
    await new Promise((resolve) => setTimeout(resolve, 2500))
    writeFileSync(scenarios, JSON.stringify({default: 'normal'}))
    const next = await runCliAsync(['transcribe', '--workers', '2'], {env: {...env, ANIMEZIPF_QUEUE_URL: url}})
    expect(next.code, next.stderr).to.equal(0)
    const stillHeld = held.filter((j) => j.lease_owner !== null).length
    const recovered = next.stderr.match(/process is gone \(not counted against the job\)/g) ?? []
    expect(recovered, next.stderr).to.have.length(stillHeld)
    expect(next.stderr).to.not.match(/lease expired \(\d+ time/)
    const after = await jobsOf(url)
    expect(after.map((j) => j.stage)).to.deep.equal(['transcribed', 'transcribed'])
  })
})
