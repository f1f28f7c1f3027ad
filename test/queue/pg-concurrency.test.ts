// Many processes on one PostgreSQL queue, as on several machines: every job exactly once, none
// lost, late workers fenced off; three hosts tokenizing one queue with a shared root_dir.
import {expect} from 'chai'
import path from 'node:path'

import {fixtureResult, openAt, runCliAsync, spawnFixture, tempDir, writeShowSubtitles} from '../helpers.js'
import {BACKENDS, freshPgDatabase} from '../pg.js'

const collect = (child: ReturnType<typeof spawnFixture>) => fixtureResult<{claimed: number[]; finished: number[]; refused: number[]}>(child)

/** 20,000 queued jobs over 200 anime, written in two statements (set-up, not under test). */
async function seed20k(url: string): Promise<number> {
  const q = await openAt(url)
  await q.sql.run(`INSERT INTO anime (mal_id, title) SELECT 5000 + g, 'Show ' || g FROM generate_series(1, 200) g`)
  const n = await q.sql.run(
    `INSERT INTO jobs (anime_id, mal_id, anime_title, episode, stage, created_at, updated_at)
     SELECT a.id, a.mal_id, a.title, e, 'queued', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM anime a CROSS JOIN generate_series(1, 100) e`,
  )
  await q.close()
  return n
}

if (BACKENDS.includes('postgres')) {
  describe('queue on PostgreSQL: many processes at once [postgres]', function () {
    this.timeout(240_000)

    it('8 processes claiming 20,000 jobs: every job exactly once, none lost', async () => {
      const url = await freshPgDatabase()
      const total = await seed20k(url)
      expect(total).to.equal(20_000)
      const results = await Promise.all(Array.from({length: 8}, (_, i) => collect(spawnFixture('pg-claimer.ts', [url, String(i), String((i % 4) + 1)]))))
      const claimed = results.flatMap((r) => r.claimed)
      expect(claimed).to.have.length(total)
      expect(new Set(claimed).size).to.equal(total)
      expect(results.flatMap((r) => r.finished)).to.have.length(total)
      expect(results.filter((r) => r.claimed.length > 0).length).to.be.greaterThan(1)
      const q = await openAt(url)
      expect(await q.stats.jobsPerStage()).to.include({queued: 0, downloading: 0, downloaded: total})
      const events = await q.sql.all<{event: string; n: number}>(`SELECT event, COUNT(*) AS n FROM job_events GROUP BY event ORDER BY event`)
      expect(events).to.deep.equal([
        {event: 'claimed', n: total},
        {event: 'finished', n: total},
      ])
      await q.close()
    })

    it('with expiring leases: a late finisher is fenced off and its jobs are done once by others', async () => {
      const url = await freshPgDatabase()
      const total = await seed20k(url)
      // the zombie claims 300 jobs under a 300 ms lease and hangs until the others have done them
      const zombie = spawnFixture('pg-claimer.ts', [url, 'zombie', '1', 'zombie:300:300'])
      const zombieDone = collect(zombie)
      await new Promise<void>((resolve) => zombie.stderr.once('data', () => resolve()))
      const workers = await Promise.all(Array.from({length: 7}, (_, i) => collect(spawnFixture('pg-claimer.ts', [url, String(i), '2']))))
      const z = await zombieDone
      expect(z.claimed).to.have.length(300)
      expect(z.finished).to.deep.equal([])
      expect(z.refused).to.have.length(300)
      const finished = workers.flatMap((r) => r.finished)
      expect(finished).to.have.length(total)
      expect(new Set(finished).size).to.equal(total)
      const q = await openAt(url)
      expect(await q.stats.jobsPerStage()).to.include({queued: 0, downloading: 0, downloaded: total})
      const fenced = await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM jobs WHERE video_size_bytes = -1`)
      expect(fenced!.n).to.equal(0)
      const recovered = await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'recovered'`)
      expect(recovered!.n).to.equal(300)
      const finishes = await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'finished'`)
      expect(finishes!.n).to.equal(total)
      await q.close()
    })

    it('three hosts run tokenize on one queue and a shared root_dir: every episode tokenized once', async () => {
      const url = await freshPgDatabase()
      const root = tempDir()
      const subs = path.join(tempDir(), 'subs')
      writeShowSubtitles(subs, 9, 7, 40)
      const env = {ANIMEZIPF_QUEUE_URL: url}
      const imported = await runCliAsync(['import', subs, '--title', 'Shared Show', '--data-dir', root, '--json'], {env})
      expect(imported.code, imported.stderr).to.equal(0)
      const runs = await Promise.all(
        ['host-a', 'host-b', 'host-c'].map((host) =>
          runCliAsync(['tokenize', '--workers', '1', '--data-dir', root, '--json'], {env: {...env, ANIMEZIPF_QUEUE_HOST_ID: host}}),
        ),
      )
      for (const r of runs) expect(r.code, r.stderr).to.equal(0)
      const done = runs.map((r) => JSON.parse(r.stdout).done as number)
      expect(done.reduce((a, b) => a + b, 0)).to.equal(9)
      const q = await openAt(url)
      expect(await q.stats.jobsPerStage()).to.include({transcribed: 0, tokenizing: 0, tokenized: 9})
      const finishes = await q.sql.all<{job_id: number; n: number}>(
        `SELECT job_id, COUNT(*) AS n FROM job_events WHERE event = 'finished' AND stage = 'tokenized' GROUP BY job_id`,
      )
      expect(finishes).to.have.length(9)
      expect(finishes.every((f) => f.n === 1)).to.equal(true)
      // the workers were registered under their host ids
      const hosts = await q.sql.all<{hostname: string}>(`SELECT DISTINCT hostname FROM workers WHERE worker_type = 'tokenizer' ORDER BY hostname`)
      expect(hosts.map((h) => h.hostname).every((h) => ['host-a', 'host-b', 'host-c'].includes(h))).to.equal(true)
      const status = await runCliAsync(['status', '--json', '--data-dir', root], {env})
      expect(status.code, status.stderr).to.equal(0)
      const report = JSON.parse(status.stdout)
      expect(report.backend).to.equal('postgres')
      expect(report.jobs.by_stage.tokenized).to.equal(9)
      await q.close()
    })
  })
}
