import {expect} from 'chai'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {Output} from '../../src/app/output.js'
import {PermanentJobError} from '../../src/errors.js'
import {STAGES} from '../../src/queue/stages.js'
import {runPool, type UnitHandler} from '../../src/runner/pool.js'
import {openAt, openDatabase, seedDatabase, spawnFixture, tempDir} from '../helpers.js'

const stage = STAGES.tokenize

function quietOutput(): Output {
  const sink = {write: () => true} as unknown as NodeJS.WritableStream
  return new Output({json: false, verbose: false, stdout: sink, stderr: sink})
}

function pool(file: string, handler: UnitHandler, extra: Partial<Parameters<typeof runPool>[0]> = {}) {
  // the pool runs on a Queue; the assertions read the same file with plain SQL
  const db = openDatabase(file)
  return {
    db,
    run: async () => {
      const queue = await openAt(file)
      try {
        return await runPool({
          queue,
          stage,
          workers: 3,
          leaseMs: 60_000,
          graceMs: 1000,
          backoff: {baseMs: 60_000, maxMs: 60_000},
          output: quietOutput(),
          handler,
          handleSignals: false,
          ...extra,
        })
      } finally {
        await queue.close()
      }
    },
  }
}

describe('worker pool', () => {
  it('runs every job once with N workers at most N at a time, and records failures by kind', async () => {
    const file = path.join(tempDir(), 'jobs.db')
    await seedDatabase(file, 2, 10, 'transcribed')
    let running = 0
    let peak = 0
    const seen: number[] = []
    const p = pool(file, async ({job}) => {
      running++
      peak = Math.max(peak, running)
      seen.push(job.id)
      await sleep(5)
      running--
      if (job.episode === 3) throw new Error('flaky network')
      if (job.episode === 4) throw new PermanentJobError('not a transcript')
      return {fields: {word_count: job.episode * 10}, message: 'ok'}
    })
    const summary = await p.run()
    expect(peak).to.equal(3)
    expect(new Set(seen).size).to.equal(seen.length)
    expect(seen).to.have.length(20)
    expect(summary).to.include({claimed: 20, done: 16, retried: 2, failed: 2, lost: 0, released: 0, interrupted: false})
    const stages = p.db.prepare(`SELECT stage, COUNT(*) AS n FROM jobs GROUP BY stage ORDER BY stage`).all()
    expect(stages).to.deep.equal([
      {stage: 'failed', n: 2},
      {stage: 'tokenized', n: 16},
      {stage: 'transcribed', n: 2},
    ])
    const words = p.db.prepare(`SELECT SUM(word_count) AS w FROM jobs WHERE stage = 'tokenized'`).get() as {w: number}
    expect(words.w).to.equal(2 * 10 * (55 - 3 - 4))
    const workers = p.db.prepare(`SELECT worker_type, status FROM workers`).all()
    expect(workers).to.deep.equal(Array.from({length: 3}, () => ({worker_type: 'tokenizer', status: 'stopped'})))
    p.db.close()
  })

  it('--limit caps the jobs claimed in one run', async () => {
    const file = path.join(tempDir(), 'jobs.db')
    await seedDatabase(file, 1, 10, 'transcribed')
    const p = pool(file, async () => ({}), {limit: 4})
    const summary = await p.run()
    expect(summary.claimed).to.equal(4)
    expect((p.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE stage = 'tokenized'`).get() as {n: number}).n).to.equal(4)
    p.db.close()
  })

  it('heartbeats keep a long job leased, so another run cannot take it', async () => {
    const file = path.join(tempDir(), 'jobs.db')
    await seedDatabase(file, 1, 1, 'transcribed')
    const other = await openAt(file)
    let stolen = -1
    const p = pool(
      file,
      async () => {
        await sleep(500)
        await other.jobs.recoverExpired()
        stolen = (await other.jobs.claim({stage, owner: 'thief', count: 1, leaseMs: 1000})).length
        return {}
      },
      {leaseMs: 300, workers: 1},
    )
    const summary = await p.run()
    expect(stolen).to.equal(0)
    expect(summary.done).to.equal(1)
    p.db.close()
    await other.close()
  })

  it('on SIGINT stops claiming, releases unfinished jobs after the grace period and exits 130', async function () {
    const file = path.join(tempDir(), 'jobs.db')
    await seedDatabase(file, 1, 12, 'transcribed')
    const child = spawnFixture('pool-runner.ts', [file, '3', '4000', '300'])
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    // wait until the workers hold their jobs
    const probe = openDatabase(file)
    for (let i = 0; i < 100; i++) {
      const n = (probe.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE stage = 'tokenizing'`).get() as {n: number}).n
      if (n === 3) break
      await sleep(100)
    }
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).to.equal(130)
    const summary = JSON.parse(out)
    expect(summary).to.include({interrupted: true, released: 3, failed: 0, done: 0})
    const stages = probe.prepare(`SELECT stage, COUNT(*) AS n FROM jobs GROUP BY stage`).all()
    expect(stages).to.deep.equal([{stage: 'transcribed', n: 12}])
    const leftovers = probe.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE lease_owner IS NOT NULL OR retry_count > 0`).get() as {n: number}
    expect(leftovers.n).to.equal(0)
    const released = probe.prepare(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'released'`).get() as {n: number}
    expect(released.n).to.equal(3)
    probe.close()
  })
})
