// The queue's contract, run against every backend: SQLite always, PostgreSQL when the test server
// is there (ANIMEZIPF_TEST_PG_URL). Each test gets an empty queue of its own.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {hostname} from 'node:os'

import type {Queue} from '../../src/queue/index.js'
import {STAGES} from '../../src/queue/stages.js'
import {backoffDelay} from '../../src/util/backoff.js'
import {FakeClock, freshQueueTarget, openAt, seedDatabase} from '../helpers.js'
import {BACKENDS} from '../pg.js'

const stage = STAGES.tokenize
const backoff = {baseMs: 1000, maxMs: 8000, random: () => 1}

for (const backend of BACKENDS) {
  describe(`queue contract [${backend}]`, () => {
    let target: string
    let clock: FakeClock
    const opened: Queue[] = []
    const open = async (host?: string): Promise<Queue> => {
      const q = await openAt(target, clock, host)
      opened.push(q)
      return q
    }
    const count = async (q: Queue, where: string): Promise<number> => (await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM jobs WHERE ${where}`))!.n

    beforeEach(async () => {
      target = await freshQueueTarget(backend)
      clock = new FakeClock()
      await seedDatabase(target, 1, 3, 'transcribed', clock)
    })

    afterEach(async () => {
      for (const q of opened.splice(0)) await q.close()
    })

    it('recovers the job of a dead worker, lets another finish it once, and rejects the late worker', async () => {
      const dead = (await open()).jobs
      const alive = (await open()).jobs
      const [job] = await dead.claim({stage, owner: 'dead', count: 1, leaseMs: 1000})
      expect(job!.stage).to.equal('tokenizing')
      expect(job!.lease_owner).to.equal('dead')

      // before expiry nothing is recovered and the job cannot be claimed twice
      clock.advance(999)
      expect((await alive.recoverExpired()).recovered).to.equal(0)
      expect((await alive.claim({stage, owner: 'alive', count: 3, leaseMs: 1000})).map((j) => j.id)).to.not.include(job!.id)

      clock.advance(2)
      const recovery = await alive.recoverExpired()
      expect(recovery.recovered).to.be.greaterThan(0)
      expect(recovery.details.find((d) => d.jobId === job!.id)).to.include({to: 'transcribed', owner: 'dead', expiries: 1})
      expect((await alive.getJob(job!.id))!.stage).to.equal('transcribed')

      const [again] = await alive.claim({stage, owner: 'alive2', count: 1, leaseMs: 1000})
      expect(again!.id).to.equal(job!.id)
      expect(again!.attempts).to.equal(2)

      // the dead worker wakes up: its heartbeat, finish and fail are all refused
      expect(await dead.extendLease(job!.id, 'dead', 1000)).to.equal(false)
      expect(await dead.finish(job!.id, 'dead', stage, {word_count: 1})).to.equal(false)
      expect(await dead.fail(job!.id, 'dead', stage, 'boom', true, backoff)).to.equal('lost')

      expect(await alive.finish(job!.id, 'alive2', stage, {word_count: 42, token_count: 50})).to.equal(true)
      expect(await alive.finish(job!.id, 'alive2', stage, {word_count: 43})).to.equal(false)
      const row = (await alive.getJob(job!.id))!
      expect(row.stage).to.equal('tokenized')
      expect(row.word_count).to.equal(42)
      expect(row.lease_owner).to.equal(null)
      expect(row.expiries).to.equal(0)
      const events = (await alive.events(job!.id)).map((e) => e.event)
      expect(events).to.deep.equal(['enqueued', 'claimed', 'recovered', 'claimed', 'finished'])
    })

    it('heartbeats keep a lease alive past its original expiry', async () => {
      const q = (await open()).jobs
      const [job] = await q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})
      for (let i = 0; i < 5; i++) {
        clock.advance(600)
        expect(await q.extendLease(job!.id, 'w', 1000, i / 5)).to.equal(true)
      }
      expect((await q.recoverExpired()).recovered).to.equal(0)
      expect((await q.getJob(job!.id))!.stage).to.equal('tokenizing')
    })

    it('retries a transient failure after a backoff, then fails it for good after max_retries', async () => {
      const q = (await open()).jobs
      const id = (await q.claim({stage, owner: 'w', count: 1, leaseMs: 1000}))[0]!.id
      expect(await q.fail(id, 'w', stage, 'network down', true, backoff)).to.equal('retry')
      let row = (await q.getJob(id))!
      expect(row.stage).to.equal('transcribed')
      expect(row.retry_count).to.equal(1)
      expect(row.run_after).to.be.a('string')

      // not claimable during the backoff; others are
      const others = await q.claim({stage, owner: 'w', count: 5, leaseMs: 1000})
      expect(others.map((j) => j.id)).to.not.include(id)
      for (const o of others) await q.finish(o.id, 'w', stage)
      expect(await q.countEligible(stage)).to.deep.equal({ready: 0, waiting: 1})

      for (let attempt = 2; attempt <= 4; attempt++) {
        clock.advance(backoffDelay(attempt - 1, backoff))
        const [j] = await q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})
        expect(j!.id).to.equal(id)
        const outcome = await q.fail(id, 'w', stage, 'network down', true, backoff)
        expect(outcome).to.equal(attempt <= 3 ? 'retry' : 'failed')
      }
      row = (await q.getJob(id))!
      expect(row.stage).to.equal('failed')
      expect(row.failed_stage).to.equal('tokenizing')
      expect(row.error_message).to.equal('network down')

      expect(await q.revive()).to.equal(1)
      row = (await q.getJob(id))!
      expect(row.stage).to.equal('transcribed')
      expect(row.retry_count).to.equal(0)
    })

    it('sends a permanent failure straight to failed', async () => {
      const q = (await open()).jobs
      const id = (await q.claim({stage, owner: 'w', count: 1, leaseMs: 1000}))[0]!.id
      expect(await q.fail(id, 'w', stage, 'not Japanese', false, backoff)).to.equal('failed')
      expect((await q.getJob(id))!.retry_count).to.equal(1)
    })

    it('fails a job whose workers keep dying instead of recovering it forever', async () => {
      const queue = await open()
      const q = queue.jobs
      // finish the other episodes so only the poison job remains
      for (const j of await q.claim({stage, owner: 'x', count: 3, leaseMs: 10_000})) {
        if (j.episode === 1) await q.release(j.id, 'x', stage, 'keep')
        else await q.finish(j.id, 'x', stage)
      }
      const outcomes = []
      for (let i = 0; i < 4; i++) {
        const [j] = await q.claim({stage, owner: `w${i}`, count: 1, leaseMs: 10})
        expect(j!.episode).to.equal(1)
        clock.advance(20)
        outcomes.push(await q.recoverExpired())
      }
      expect(outcomes.map((o) => o.failed)).to.deep.equal([0, 0, 0, 1])
      const failed = await queue.sql.all<{failed_stage: string; error_message: string}>(
        `SELECT id, failed_stage, error_message FROM jobs WHERE stage = 'failed'`,
      )
      expect(failed).to.have.length(1)
      expect(failed[0]!.failed_stage).to.equal('tokenizing')
      expect(failed[0]!.error_message).to.match(/lease of w3 expired/)
    })

    it('does not count against a job the leases of a process of this host that is gone (kill -9 of the whole run)', async () => {
      const queue = await open()
      const q = queue.jobs
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
      const deadRun = `${hostname()}:${Number(gone.stdout)}:0123abcd`
      // the same run of three jobs is killed ten times: each time every lease expires with its process
      for (let kill = 0; kill < 10; kill++) {
        const claimed = await q.claim({stage, owner: `${deadRun}:w1`, count: 3, leaseMs: 10})
        expect(claimed).to.have.length(3)
        clock.advance(20)
        const r = await q.recoverExpired()
        expect(r.failed).to.equal(0)
        expect(r.recovered).to.equal(3)
        expect(r.details.every((d) => d.processGone && d.expiries === 0)).to.equal(true)
      }
      expect(await count(queue, `stage = 'failed'`)).to.equal(0)
      expect(await count(queue, `expiries > 0`)).to.equal(0)
      // a lease whose process still runs (a hang) or that another host holds still counts
      const [hung] = await q.claim({stage, owner: `${hostname()}:${process.pid}:0123abcd:w1`, count: 1, leaseMs: 10})
      clock.advance(20)
      const r = await q.recoverExpired()
      expect(r.details.find((d) => d.jobId === hung!.id)).to.include({processGone: false, expiries: 1})
      const [remote] = await q.claim({stage, owner: `elsewhere:${Number(gone.stdout)}:0123abcd:w1`, count: 1, leaseMs: 10})
      clock.advance(20)
      expect((await q.recoverExpired()).details.find((d) => d.jobId === remote!.id)).to.include({processGone: false})
    })

    it('counts lease expiries per stage attempt: one crash after many runs does not fail the job', async () => {
      const queue = await open()
      const q = queue.jobs
      // tokenize, then --force twice (rewind), each run finishing normally: attempts pile up
      for (let run = 0; run < 3; run++) {
        for (const j of await q.claim({stage, owner: `run${run}`, count: 3, leaseMs: 1000})) expect(await q.finish(j.id, `run${run}`, stage)).to.equal(true)
        if (run < 2) expect(await q.rewind(stage, ['tokenized'])).to.equal(3)
      }
      expect(await q.rewind(stage, ['tokenized'])).to.equal(3)
      // one SIGKILL: the lease expires once
      await q.claim({stage, owner: 'killed', count: 3, leaseMs: 1000})
      clock.advance(2000)
      const r = await q.recoverExpired()
      expect(r).to.include({recovered: 3, failed: 0})
      expect(await count(queue, `stage = 'transcribed'`)).to.equal(3)
      const [j] = await q.claim({stage, owner: 'next', count: 1, leaseMs: 1000})
      expect(j!.attempts).to.equal(5)
      expect(j!.expiries).to.equal(1)
    })

    it('releases a job at shutdown without counting a failure', async () => {
      const q = (await open()).jobs
      const [j] = await q.claim({stage, owner: 'w', count: 1, leaseMs: 1000})
      expect(await q.release(j!.id, 'w', stage, 'interrupted')).to.equal(true)
      const row = (await q.getJob(j!.id))!
      expect(row.stage).to.equal('transcribed')
      expect(row.retry_count).to.equal(0)
      expect(row.attempts).to.equal(0)
      expect(await q.release(j!.id, 'w', stage, 'again')).to.equal(false)
    })

    it('claims by priority, then age, then id', async () => {
      const queue = await open()
      const animeId = (await queue.anime.byMalId(1001))!.id
      clock.advance(1000)
      await queue.jobs.enqueue([{animeId, malId: 1001, animeTitle: 'Show 1', episode: 99, stage: 'transcribed', priority: 5}], 3)
      await queue.jobs.enqueue([{animeId, malId: 1001, animeTitle: 'Show 1', episode: 98, stage: 'transcribed', priority: -1}], 3)
      const order = (await queue.jobs.claim({stage, owner: 'w', count: 10, leaseMs: 1000})).map((j) => j.episode)
      expect(order).to.deep.equal([99, 1, 2, 3, 98])
    })

    it('enqueue is idempotent', async () => {
      const queue = await open()
      const animeId = (await queue.anime.byMalId(1001))!.id
      const jobs = [1, 2, 3, 4].map((e) => ({animeId, malId: 1001, animeTitle: 'Show 1', episode: e}))
      expect(await queue.jobs.enqueue(jobs, 3)).to.equal(1)
      expect(await queue.jobs.enqueue(jobs, 3)).to.equal(0)
      expect(await count(queue, '1 = 1')).to.equal(4)
    })

    it('claims a whole anime as one unit, and only anime with nothing earlier in the pipeline when asked', async () => {
      const queue = await open()
      const second = await queue.anime.upsert({mal_id: 1002, title: 'Show 2'})
      await queue.jobs.enqueue(
        [1, 2].map((e) => ({animeId: second, malId: 1002, animeTitle: 'Show 2', episode: e, stage: 'tokenized' as const})),
        3,
      )
      await queue.jobs.enqueue([{animeId: second, malId: 1002, animeTitle: 'Show 2', episode: 3, stage: 'queued'}], 3)
      const first = (await queue.anime.byMalId(1001))!.id
      await queue.jobs.rewind(STAGES.analyze, ['transcribed'])
      const analyze = STAGES.analyze
      // show 1's episodes are all tokenized (rewound to the analyze input); show 2 waits for episode 3
      const whole = await queue.jobs.claimAnime({stage: analyze, owner: 'a', leaseMs: 1000, whole: true})
      expect(whole.map((j) => [j.anime_id, j.episode])).to.deep.equal([
        [first, 1],
        [first, 2],
        [first, 3],
      ])
      expect(await queue.jobs.claimAnime({stage: analyze, owner: 'b', leaseMs: 1000, whole: true})).to.deep.equal([])
      const partial = await queue.jobs.claimAnime({stage: analyze, owner: 'b', leaseMs: 1000, whole: false})
      expect(partial.map((j) => j.episode)).to.deep.equal([1, 2])
      expect(partial.every((j) => j.lease_owner === 'b' && j.stage === 'analyzing')).to.equal(true)
    })

    it('a host-bound claim takes only jobs whose video is on that host', async () => {
      const queue = await open()
      const animeId = (await queue.anime.byMalId(1001))!.id
      const transcribe = STAGES.transcribe
      await queue.jobs.enqueue(
        [10, 11, 12].map((e) => ({
          animeId,
          malId: 1001,
          animeTitle: 'Show 1',
          episode: e,
          stage: 'downloaded' as const,
          fields: {video_host: e === 12 ? 'host-b' : 'host-a'},
        })),
        3,
      )
      expect((await queue.jobs.claim({stage: transcribe, owner: 'b', count: 10, leaseMs: 1000, host: 'host-b'})).map((j) => j.episode)).to.deep.equal([12])
      expect(await queue.jobs.claim({stage: transcribe, owner: 'b', count: 10, leaseMs: 1000, host: 'host-b'})).to.deep.equal([])
      expect((await queue.jobs.countEligible(transcribe, undefined, 'host-a')).ready).to.equal(2)
      expect((await queue.jobs.claim({stage: transcribe, owner: 'a', count: 10, leaseMs: 1000, host: 'host-a'})).map((j) => j.episode)).to.deep.equal([10, 11])
    })

    it('allocates local anime ids atomically: parallel imports of different titles get different ids, the same title one row', async () => {
      // SQLite has one connection per process (other processes: the import test); PostgreSQL a pool each
      const queues = backend === 'sqlite' ? new Array<Queue>(4).fill(await open()) : await Promise.all([open(), open(), open(), open()])
      const titles = ['A', 'B', 'C', 'D', 'A', 'B', 'C', 'D']
      const rows = await Promise.all(titles.map((title, i) => queues[i % 4]!.anime.findOrCreateLocal({title})))
      const byTitle = new Map<string, number>()
      for (const [i, r] of rows.entries()) {
        const seen = byTitle.get(titles[i]!)
        if (seen !== undefined) expect(r.row.mal_id).to.equal(seen)
        byTitle.set(titles[i]!, r.row.mal_id)
        expect(r.row.title).to.equal(titles[i])
      }
      expect(new Set(byTitle.values()).size).to.equal(4)
      expect(rows.filter((r) => r.created)).to.have.length(4)
    })

    it('a run lock admits one owner at a time, expires, and keeps the signature of the finished work', async () => {
      const a = (await open()).locks
      const b = (await open()).locks
      expect(await a.acquire('aggregate', 'a', 1000)).to.equal(true)
      expect(await b.acquire('aggregate', 'b', 1000)).to.equal(false)
      expect((await b.state('aggregate'))!.live).to.equal(true)
      expect(await a.release('aggregate', 'a', 'sig-1')).to.equal(true)
      expect(await b.acquire('aggregate', 'b', 1000)).to.equal(true)
      clock.advance(1500)
      expect(await a.acquire('aggregate', 'a', 1000)).to.equal(true)
      expect(await b.release('aggregate', 'b', 'late')).to.equal(false)
      expect((await a.state('aggregate'))!.signature).to.equal('sig-1')
      // a live lease of a killed process of this host is taken over at once, not after its expiry
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'}).stdout
      const dead = `${hostname()}:${gone}:0123abcd:aggregate`
      expect(await a.acquire('other', dead, 60_000)).to.equal(true)
      expect(await b.acquire('other', 'b', 1000)).to.equal(true)
    })

    it('selections: one selector per anime, decisions fenced by its lease, one pass per run, spending summed', async () => {
      const a = await open()
      const b = await open()
      await a.jobs.rewind(STAGES.download, ['transcribed'])
      const second = await a.anime.upsert({mal_id: 1002, title: 'Show 2', title_synonyms: ['Zwei']})
      await a.jobs.enqueue([{animeId: second, malId: 1002, animeTitle: 'Show 2', episode: 1}], 3)
      const first = await a.selections.claim('sel-a', 1000, {})
      expect(first!.mal_id).to.equal(1001)
      expect((await b.selections.claim('sel-b', 1000, {}))!.mal_id).to.equal(1002)
      expect(await b.selections.claim('sel-b', 1000, {after: 1002})).to.equal(undefined)
      await a.selections.saveCandidates(1001, 'Show 1', [
        {idx: 1, text: 'Show 1', episodes: 3, single: false},
        {idx: 2, text: 'Show 1 OVA', episodes: 1, single: false},
      ])
      const decision = {
        mal_id: 1001,
        anime_title: 'Show 1',
        search_query: 'Show 1',
        selected_index: 1,
        selected_title: 'Show 1',
        confidence: 'high' as const,
        reason: 'r',
        mal_episodes: 3,
        selected_episodes: 3,
        episode_match: 'exact' as const,
        method: 'rule' as const,
        model: null,
        api_calls: 0,
        cost_usd: 0,
      }
      // the lease expires and another selector takes the anime: the first one's decision is refused
      clock.advance(1500)
      expect((await b.selections.claim('sel-c', 1000, {}))!.mal_id).to.equal(1001)
      expect(await a.selections.record(decision, 'sel-a')).to.equal(false)
      expect(await b.selections.record({...decision, selected_index: 2, selected_title: 'Show 1 OVA'}, 'sel-c')).to.equal(true)
      expect(await b.selections.release(1001, 'sel-c')).to.equal(true)
      expect((await a.selections.get(1001))!).to.include({selected_index: 2, method: 'rule'})
      expect((await a.selections.candidates(1001, 'Show 1')).map((c) => c.text)).to.deep.equal(['Show 1', 'Show 1 OVA'])
      // 1001 is decided; 1002's selector let its lease expire, so it can be taken over
      expect((await a.selections.claim('sel-d', 1000, {}))!.mal_id).to.equal(1002)
      expect(await a.selections.claim('sel-e', 1000, {})).to.equal(undefined)
      await a.selections.recordUsage(1001, 'm', 1000, 50, 0.00125)
      await a.selections.recordUsage(1002, 'm', 2000, 60, 0.0023)
      expect(await b.selections.spending()).to.deep.equal({calls: 2, input_tokens: 3000, output_tokens: 110, cost_usd: 0.00355})
      expect((await b.selections.breakdown()).confidence).to.include({high: 1})
      const tries = await a.selections.recordAttempt(1002, 'No results found!', true, {baseMs: 1000, maxMs: 1000, random: () => 1})
      expect(tries).to.deep.equal({attempts: 1, noResults: 1})
      expect((await a.selections.attempts(1002))!.run_after).to.equal('2026-01-01 00:00:02.500')
    })

    it('returns rows alike: numbers, 0/1 booleans, times as UTC text', async () => {
      const queue = await open()
      const [j] = await queue.jobs.claim({stage, owner: 'w', count: 1, leaseMs: 1000})
      expect(j!.id).to.be.a('number')
      expect(j!.lease_expires_at).to.equal('2026-01-01 00:00:01.000')
      await queue.jobs.finish(j!.id, 'w', stage, {video_deleted: 1, tokens_size_bytes: 5_000_000_000})
      const row = await queue.sql.get<{video_deleted: number; tokens_size_bytes: number; completed_at: string}>(
        `SELECT video_deleted, tokens_size_bytes, completed_at FROM jobs WHERE id = @id`,
        {id: j!.id},
      )
      expect(row).to.deep.equal({video_deleted: 1, tokens_size_bytes: 5_000_000_000, completed_at: '2026-01-01 00:00:00.000'})
    })
  })
}
