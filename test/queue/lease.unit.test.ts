import {expect} from 'chai'
import path from 'node:path'

import {openDatabase} from '../../src/queue/db.js'
import {Queue, backoffDelay} from '../../src/queue/jobs.js'
import {STAGES} from '../../src/queue/stages.js'
import {FakeClock, seedDatabase, tempDir} from '../helpers.js'

const stage = STAGES.tokenize
const backoff = {baseMs: 1000, maxMs: 8000, random: () => 1}

describe('queue: leases, fencing, retries', () => {
  let file: string
  let clock: FakeClock

  beforeEach(() => {
    file = path.join(tempDir(), 'jobs.db')
    clock = new FakeClock()
    seedDatabase(file, 1, 3, 'transcribed', clock).close()
  })

  it('recovers the job of a dead worker, lets another finish it once, and rejects the late worker', () => {
    const dead = new Queue(openDatabase(file), clock)
    const alive = new Queue(openDatabase(file), clock)
    const [job] = dead.claim({stage, owner: 'dead', count: 1, leaseMs: 1000})
    expect(job!.stage).to.equal('tokenizing')
    expect(job!.lease_owner).to.equal('dead')

    // before expiry nothing is recovered and the job cannot be claimed twice
    clock.advance(999)
    expect(alive.recoverExpired()).to.deep.equal({recovered: 0, failed: 0})
    expect(alive.claim({stage, owner: 'alive', count: 3, leaseMs: 1000}).map((j) => j.id)).to.not.include(job!.id)

    clock.advance(2)
    expect(alive.recoverExpired().recovered).to.be.greaterThan(0)
    expect(alive.getJob(job!.id)!.stage).to.equal('transcribed')

    const [again] = alive.claim({stage, owner: 'alive2', count: 1, leaseMs: 1000})
    expect(again!.id).to.equal(job!.id)
    expect(again!.attempts).to.equal(2)

    // the dead worker wakes up: its heartbeat, finish and fail are all refused
    expect(dead.extendLease(job!.id, 'dead', 1000)).to.equal(false)
    expect(dead.finish(job!.id, 'dead', stage, {word_count: 1})).to.equal(false)
    expect(dead.fail(job!.id, 'dead', stage, 'boom', true, backoff)).to.equal('lost')

    expect(alive.finish(job!.id, 'alive2', stage, {word_count: 42, token_count: 50})).to.equal(true)
    expect(alive.finish(job!.id, 'alive2', stage, {word_count: 43})).to.equal(false)
    const row = alive.getJob(job!.id)!
    expect(row.stage).to.equal('tokenized')
    expect(row.word_count).to.equal(42)
    expect(row.lease_owner).to.equal(null)
    const events = alive.events(job!.id).map((e) => e.event)
    expect(events).to.deep.equal(['enqueued', 'claimed', 'recovered', 'claimed', 'finished'])
  })

  it('heartbeats keep a lease alive past its original expiry', () => {
    const q = new Queue(openDatabase(file), clock)
    const [job] = q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})
    for (let i = 0; i < 5; i++) {
      clock.advance(600)
      expect(q.extendLease(job!.id, 'w', 1000, i / 5)).to.equal(true)
    }
    expect(q.recoverExpired().recovered).to.equal(0)
    expect(q.getJob(job!.id)!.stage).to.equal('tokenizing')
  })

  it('retries a transient failure after a backoff, then fails it for good after max_retries', () => {
    const q = new Queue(openDatabase(file), clock)
    const id = q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})[0]!.id
    expect(q.fail(id, 'w', stage, 'network down', true, backoff)).to.equal('retry')
    let row = q.getJob(id)!
    expect(row.stage).to.equal('transcribed')
    expect(row.retry_count).to.equal(1)
    expect(row.run_after).to.be.a('string')

    // not claimable during the backoff; others are
    const others = q.claim({stage, owner: 'w', count: 5, leaseMs: 1000})
    expect(others.map((j) => j.id)).to.not.include(id)
    for (const o of others) q.finish(o.id, 'w', stage)
    expect(q.countEligible(stage)).to.deep.equal({ready: 0, waiting: 1})

    for (let attempt = 2; attempt <= 4; attempt++) {
      clock.advance(backoffDelay(attempt - 1, backoff))
      const [j] = q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})
      expect(j!.id).to.equal(id)
      const outcome = q.fail(id, 'w', stage, 'network down', true, backoff)
      expect(outcome).to.equal(attempt <= 3 ? 'retry' : 'failed')
    }
    row = q.getJob(id)!
    expect(row.stage).to.equal('failed')
    expect(row.failed_stage).to.equal('tokenizing')
    expect(row.error_message).to.equal('network down')

    expect(q.revive()).to.equal(1)
    row = q.getJob(id)!
    expect(row.stage).to.equal('transcribed')
    expect(row.retry_count).to.equal(0)
  })

  it('sends a permanent failure straight to failed', () => {
    const q = new Queue(openDatabase(file), clock)
    const id = q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})[0]!.id
    expect(q.fail(id, 'w', stage, 'not Japanese', false, backoff)).to.equal('failed')
    expect(q.getJob(id)!.retry_count).to.equal(1)
  })

  it('fails a job whose workers keep dying instead of recovering it forever', () => {
    const q = new Queue(openDatabase(file), clock)
    // finish the other episodes so only the poison job remains
    for (const j of q.claim({stage, owner: 'x', count: 3, leaseMs: 10_000})) {
      if (j.episode === 1) q.release(j.id, 'x', stage, 'keep')
      else q.finish(j.id, 'x', stage)
    }
    const outcomes = []
    for (let i = 0; i < 4; i++) {
      const [j] = q.claim({stage, owner: `w${i}`, count: 1, leaseMs: 10})
      expect(j!.episode).to.equal(1)
      clock.advance(20)
      outcomes.push(q.recoverExpired())
    }
    expect(outcomes.map((o) => o.failed)).to.deep.equal([0, 0, 0, 1])
    const failed = q.db.prepare(`SELECT id, failed_stage, error_message FROM jobs WHERE stage = 'failed'`).all() as {failed_stage: string; error_message: string}[]
    expect(failed).to.have.length(1)
    expect(failed[0]!.failed_stage).to.equal('tokenizing')
    expect(failed[0]!.error_message).to.match(/lease of w3 expired/)
  })

  it('releases a job at shutdown without counting a failure', () => {
    const q = new Queue(openDatabase(file), clock)
    const [j] = q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})
    expect(q.release(j!.id, 'w', stage, 'interrupted')).to.equal(true)
    const row = q.getJob(j!.id)!
    expect(row.stage).to.equal('transcribed')
    expect(row.retry_count).to.equal(0)
    expect(row.attempts).to.equal(0)
    expect(q.release(j!.id, 'w', stage, 'again')).to.equal(false)
  })

  it('claims by priority, then age, then id', () => {
    const q = new Queue(openDatabase(file), clock)
    const animeId = (q.db.prepare(`SELECT id FROM anime`).get() as {id: number}).id
    clock.advance(1000)
    q.enqueue([{animeId, malId: 1001, animeTitle: 'Show 1', episode: 99, stage: 'transcribed', priority: 5}], 3)
    q.enqueue([{animeId, malId: 1001, animeTitle: 'Show 1', episode: 98, stage: 'transcribed', priority: -1}], 3)
    const order = q.claim({stage, owner: 'w', count: 10, leaseMs: 1000}).map((j) => j.episode)
    expect(order).to.deep.equal([99, 1, 2, 3, 98])
  })

  it('enqueue is idempotent', () => {
    const q = new Queue(openDatabase(file), clock)
    const animeId = (q.db.prepare(`SELECT id FROM anime`).get() as {id: number}).id
    const jobs = [1, 2, 3, 4].map((e) => ({animeId, malId: 1001, animeTitle: 'Show 1', episode: e}))
    expect(q.enqueue(jobs, 3)).to.equal(1)
    expect(q.enqueue(jobs, 3)).to.equal(0)
    expect((q.db.prepare(`SELECT COUNT(*) AS n FROM jobs`).get() as {n: number}).n).to.equal(4)
  })
})
