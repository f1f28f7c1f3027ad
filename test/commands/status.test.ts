import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {sqlTime} from '../../src/queue/clock.js'
import {STAGES} from '../../src/queue/stages.js'
import {openAt, runCli, seedDatabase, tempDir} from '../helpers.js'

const backoff = {baseMs: 1000, maxMs: 1000}

/** 3 anime x 10 episodes, spread over stages, with a failure, a live lease, an expired lease and a worker. */
async function seeded(): Promise<{dir: string; file: string}> {
  const dir = tempDir()
  const file = path.join(dir, 'jobs.db')
  await seedDatabase(file, 3, 10, 'transcribed')
  const queue = await openAt(file)
  const q = queue.jobs
  const tok = STAGES.tokenize
  for (const j of await q.claim({stage: tok, owner: 'a', count: 8, leaseMs: 60_000, malId: 1001}))
    await q.finish(j.id, 'a', tok, {tokens_size_bytes: 1000, transcript_size_bytes: 500})
  const [bad] = await q.claim({stage: tok, owner: 'b', count: 1, leaseMs: 60_000, malId: 1002})
  await q.fail(bad!.id, 'b', tok, 'transcript is empty', false, backoff)
  const [bad2] = await q.claim({stage: tok, owner: 'b', count: 1, leaseMs: 60_000, malId: 1002})
  await q.fail(bad2!.id, 'b', tok, 'transcript is empty', false, backoff)
  await q.claim({stage: tok, owner: 'live-worker', count: 1, leaseMs: 600_000, malId: 1003})
  const [dead] = await q.claim({stage: tok, owner: 'dead-worker', count: 1, leaseMs: 600_000, malId: 1003})
  await queue.sql.run(`UPDATE jobs SET lease_expires_at = @expires WHERE id = @id`, {expires: sqlTime(Date.now() - 60_000), id: dead!.id})
  const reg = queue.workers
  const w = await reg.register('tokenizer', 'live-worker')
  await reg.beat(w, 'busy', null)
  await queue.sql.run(
    `INSERT INTO anime_selection_cache (mal_id, anime_title, search_query, selected_index, selected_title, confidence) VALUES (1001, 'Show 1', 'Show 1', 1, 'Show 1', 'high'), (1002, 'Show 2', 'Show 2', 2, 'Show 2 (TV)', 'low')`,
  )
  await queue.close()
  return {dir, file}
}

describe('status', () => {
  it('--json gives the documented shape and the right counts, and changes nothing', async () => {
    const {dir, file} = await seeded()
    const before = readFileSync(file)
    const r = runCli(['status', '--json', '--data-dir', dir])
    expect(r.code, r.stderr).to.equal(0)
    const s = JSON.parse(r.stdout)
    expect(s).to.have.all.keys(
      'generated_at',
      'database',
      // false in a folder with no queue yet (a fresh one, or a typo)
      'database_exists',
      // --anime-id's anime (null: the whole queue)
      'anime_id',
      // added by the queue rewrite (src/status/collect.ts StatusReport): the backend, this host, jobs and workers per host
      'backend',
      'host',
      'hosts',
      'anime',
      'jobs',
      'anime_progress',
      'failures',
      'running',
      'expired_leases',
      'disk',
      'throughput',
      // added by download: episodes, bytes, rates and the pauses for disk space
      'downloads',
      // added by transcribe: real-time factors per model and the backlog's ETA
      'transcription',
      'selection_confidence',
      'selections',
      'workers',
    )
    expect(s.anime).to.equal(3)
    expect(s.jobs.total).to.equal(30)
    expect(s.jobs.by_stage).to.include({transcribed: 18, tokenized: 8, failed: 2, tokenizing: 2, queued: 0, complete: 0})
    expect(s.failures).to.deep.equal([{stage: 'tokenizing', error: 'transcript is empty', count: 2}])
    expect(s.running).to.have.length(2)
    expect(s.expired_leases).to.equal(1)
    expect(s.running.find((j: {lease_owner: string}) => j.lease_owner === 'dead-worker').expired).to.equal(true)
    expect(s.throughput.tokenize).to.include({last_hour: 8, last_day: 8, remaining: 20})
    expect(s.downloads).to.include({episodes: 0, bytes: 0, mean_bytes_per_episode: null, pauses_last_day: 0, last_pause: null})
    expect(s.throughput.tokenize.eta_hours).to.equal(2.5)
    expect(s.selection_confidence).to.deep.equal({high: 1, medium: 0, low: 1, no_candidates: 0})
    expect(s.workers).to.have.length(1)
    expect(s.workers[0]).to.include({worker_type: 'tokenizer', status: 'busy', owner: 'live-worker'})
    expect(s.disk.permanent).to.include({transcripts: 4000, tokens: 8000})
    expect(s.disk.state).to.equal('ok')
    expect(s.anime_progress[0].running).to.equal(2)
    expect(s.anime_progress[0].mal_id).to.equal(1003)
    expect(readFileSync(file).equals(before)).to.equal(true)
  })

  it('--anime-id narrows to one anime; --job shows the history', async () => {
    const {dir} = await seeded()
    const one = JSON.parse(runCli(['status', '--json', '--data-dir', dir, '--anime-id', '1002']).stdout)
    expect(one.jobs.total).to.equal(10)
    expect(one.anime_progress).to.have.length(1)
    expect(one.anime_progress[0]).to.include({mal_id: 1002, failed: 2, complete: 0})
    expect(one.anime_id).to.equal(1002)
    // the header says whose jobs these are, not the whole queue's anime count beside them
    const header = runCli(['status', '--data-dir', dir, '--anime-id', '1002']).stdout.split('\n')[2]
    expect(header).to.equal('anime MAL 1002 only: 10 job(s)')

    const failedId = JSON.parse(runCli(['status', '--json', '--data-dir', dir]).stdout).running[0].id
    const job = JSON.parse(runCli(['status', '--json', '--data-dir', dir, '--job', String(failedId)]).stdout)
    expect(job.job.id).to.equal(failedId)
    expect(job.events.map((e: {event: string}) => e.event)).to.deep.equal(['enqueued', 'claimed'])

    const text = runCli(['status', '--data-dir', dir, '--job', String(failedId)])
    expect(text.code).to.equal(0)
    expect(text.stdout).to.match(/History/)
    expect(text.stdout).to.not.match(/\u001B\[/)
  })

  it('on a fresh data folder prints an empty queue and creates nothing', () => {
    const dir = tempDir()
    const r = runCli(['status', '--data-dir', path.join(dir, 'data')])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/jobs: 0/)
    expect(existsSync(path.join(dir, 'data'))).to.equal(false)
  })
})
