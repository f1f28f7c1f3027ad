import {expect} from 'chai'
import path from 'node:path'

import {STAGES} from '../../src/queue/stages.js'
import {freshQueueTarget, openAt, runCliAsync, seedQueue, tempDir} from '../helpers.js'
import {BACKENDS} from '../pg.js'

/** A queue with anime, jobs in several stages, events, a failure and an analysis row. */
async function seedSource(file: string): Promise<void> {
  const q = await openAt(file)
  await seedQueue(q, 3, 10, 'transcribed')
  await q.anime.addCategory((await q.anime.byMalId(1001))!.id, 'genre', 'Drama', 1, 8)
  const tok = STAGES.tokenize
  for (const j of await q.jobs.claim({stage: tok, owner: 'w', count: 12, leaseMs: 60_000})) {
    if (j.episode === 2) await q.jobs.fail(j.id, 'w', tok, 'broken transcript', false, {baseMs: 1, maxMs: 1})
    else await q.jobs.finish(j.id, 'w', tok, {tokens_path: `tokens/${j.mal_id}/ep${j.episode}.json.gz`, word_count: j.episode * 7})
  }
  await q.analysis.record({anime_id: (await q.anime.byMalId(1001))!.id, partial: 1, mle_s: 1.02, input_signature: 'abc'} as never)
  await q.locks.acquire('aggregate', 'x', 1)
  await q.locks.release('aggregate', 'x', 'sig')
  await q.close()
}

const view = (stdout: string) => {
  const r = JSON.parse(stdout)
  return {
    anime: r.anime,
    jobs: r.jobs,
    failures: r.failures,
    progress: r.anime_progress.map((a: {mal_id: number; total: number; complete: number; failed: number}) => [a.mal_id, a.total, a.complete, a.failed]),
  }
}

for (const backend of BACKENDS) {
  describe(`queue copy [${backend}]`, function () {
    this.timeout(120_000)

    it('copies a whole SQLite queue into an empty one: status agrees on both; a non-empty target is refused', async () => {
      const dir = tempDir()
      await seedSource(path.join(dir, 'jobs.db'))
      const target = await freshQueueTarget(backend)
      const to = backend === 'postgres' ? target : `sqlite:${target}`
      const copy = await runCliAsync(['queue', 'copy', '--to', to, '--data-dir', dir, '--json'])
      expect(copy.code, copy.stderr).to.equal(0)
      const counts = JSON.parse(copy.stdout).tables
      expect(counts).to.include({anime: 3, jobs: 30, anime_categories: 1, analysis_results: 1, run_locks: 1})
      expect(counts.job_events).to.be.greaterThan(30)

      const before = await runCliAsync(['status', '--json', '--data-dir', dir])
      const after = await runCliAsync(['status', '--json', '--data-dir', dir], {env: {ANIMEZIPF_QUEUE_URL: to}})
      expect(after.code, after.stderr).to.equal(0)
      expect(view(after.stdout)).to.deep.equal(view(before.stdout))
      expect(JSON.parse(after.stdout).jobs.by_stage).to.include({transcribed: 18, tokenized: 10, failed: 2})

      // the copy goes on where the source stopped: new ids do not collide, history is there
      const q = await openAt(target)
      const [job] = await q.jobs.claim({stage: STAGES.tokenize, owner: 'new-host', count: 1, leaseMs: 1000})
      expect((await q.jobs.events(job!.id)).map((e) => e.event)).to.deep.equal(['enqueued', 'claimed'])
      const animeId = await q.anime.upsert({mal_id: 777, title: 'After the move'})
      expect(animeId).to.be.greaterThan(3)
      expect((await q.locks.state('aggregate'))!.signature).to.equal('sig')
      await q.close()

      const again = await runCliAsync(['queue', 'copy', '--to', to, '--data-dir', dir])
      expect(again.code).to.equal(2)
      expect(again.stderr.trim().split('\n')).to.have.length(1)
      expect(again.stderr).to.match(/target is not empty \(anime: 4, .*jobs: 30/)
    })

    it('refuses while a stage holds a live lease in the source, and copies nothing', async () => {
      const dir = tempDir()
      await seedSource(path.join(dir, 'jobs.db'))
      const q = await openAt(path.join(dir, 'jobs.db'))
      await q.jobs.claim({stage: STAGES.tokenize, owner: 'running', count: 1, leaseMs: 600_000})
      await q.close()
      const target = await freshQueueTarget(backend)
      const to = backend === 'postgres' ? target : `sqlite:${target}`
      const r = await runCliAsync(['queue', 'copy', '--to', to, '--data-dir', dir])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(/1 job\(s\) in the source are leased by running workers; nothing was copied/)
      const t = await openAt(target)
      expect(await t.stats.animeCount()).to.equal(0)
      await t.close()
    })
  })
}
