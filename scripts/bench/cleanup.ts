// `cleanup` on a big queue, in process: media of transcribed episodes marked deleted and removed,
// jobs whose files are gone sent back. Also the marking step alone, one transaction per job (the
// old way, kept here as a reference only) against the set-based statements cleanup runs now.
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Writable} from 'node:stream'

import {AppContext} from '../../src/app/context.js'
import {Output} from '../../src/app/output.js'
import {type Config, DEFAULTS} from '../../src/config/defaults.js'
import {type CleanupResult, cleanup} from '../../src/ops/cleanup.js'
import {DataPaths, episodeStem} from '../../src/paths.js'
import {type Queue, openQueue, queueLocation} from '../../src/queue/index.js'
import {freshPg} from './queue.js'
import {type BenchResult} from './measure.js'

const HOST = 'bench-host'
const EPISODES = 20

const sqlNow = () => new Date().toISOString().replace('T', ' ').replace('Z', '')

/**
 * `jobs` jobs in `stage` (20 episodes an anime), each naming its episode's video on this host,
 * written by set-based SQL that runs on both engines.
 */
async function seedJobs(queue: Queue, jobs: number, stage: string): Promise<void> {
  const shows = Math.ceil(jobs / EPISODES)
  await queue.transaction(async (q) => {
    const s = q.sql
    await s.run(`CREATE TEMP TABLE bench_n (n INTEGER PRIMARY KEY)`)
    for (let i = 0; i < shows; i += 500) {
      await s.run(`INSERT INTO bench_n (n) VALUES ${Array.from({length: Math.min(500, shows - i)}, (_, k) => `(${i + k + 1})`).join(', ')}`)
    }
    await s.run(`INSERT INTO anime (mal_id, title, episodes_total) SELECT 10000 + n, 'Show ' || n, @episodes FROM bench_n`, {episodes: EPISODES})
    await s.run(
      `INSERT INTO jobs (anime_id, mal_id, anime_title, episode, stage, created_at, updated_at, video_path, video_host)
       SELECT a.id, a.mal_id, a.title, e.n, @stage, @now, @now, 'videos/' || a.mal_id || '/episodes/ep' || CASE WHEN e.n < 10 THEN '00' WHEN e.n < 100 THEN '0' ELSE '' END || e.n || '.mp4', @host
       FROM anime a JOIN bench_n e ON e.n <= @episodes`,
      {stage, now: sqlNow(), host: HOST, episodes: EPISODES},
    )
    await s.run(`DROP TABLE bench_n`)
  })
}

/** The video and audio files of the first `jobs` episodes (one byte each). */
function writeMedia(paths: DataPaths, jobs: number): void {
  for (let i = 0; i < jobs; i++) {
    const mal = 10001 + Math.floor(i / EPISODES)
    const ep = (i % EPISODES) + 1
    if (ep === 1) {
      mkdirSync(paths.videoDir(mal), {recursive: true})
      mkdirSync(path.join(paths.audioRoot, String(mal)), {recursive: true})
    }
    writeFileSync(path.join(paths.videoDir(mal), `${episodeStem(ep)}.mp4`), 'v')
    writeFileSync(paths.audioFile(mal, ep), 'a')
  }
}

function context(dataDir: string, url: string): AppContext {
  const config = structuredClone(DEFAULTS) as Config
  config.data.root_dir = dataDir
  config.data.storage_dir = dataDir
  config.queue.url = url
  config.queue.host_id = HOST
  const sink = new Writable({write: (_chunk, _enc, done) => done()})
  return new AppContext(config, undefined, new DataPaths(dataDir, dataDir), new Output({json: true, verbose: false, stdout: sink, stderr: sink}))
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** One whole `cleanup` (not a dry run) on a fresh queue seeded by `seed`; the seconds it took. */
async function timeCleanup(
  dataDir: string,
  url: string,
  seed: (q: Queue, paths: DataPaths) => Promise<void>,
  check: (result: CleanupResult) => void,
): Promise<number> {
  const ctx = context(dataDir, url)
  await seed(await ctx.queue(), ctx.paths)
  let result: CleanupResult | undefined
  const s = await seconds(async () => (result = (await cleanup(ctx, {dryRun: false, vacuum: false})).result))
  check(result!)
  await ctx.close()
  return s
}

const PAST_TRANSCRIBED = `('transcribed', 'tokenizing', 'tokenized', 'analyzing', 'complete')`

/** The marking as cleanup did it before: one transaction (an UPDATE and an INSERT) per job. */
async function markOneByOne(queue: Queue, ids: number[]): Promise<void> {
  for (const id of ids) {
    await queue.sql.transaction(async (tx) => {
      const n = await tx.run(
        `UPDATE jobs SET video_deleted = CASE WHEN @video = 1 THEN @yes ELSE video_deleted END, audio_deleted = CASE WHEN @audio = 1 THEN @yes ELSE audio_deleted END, updated_at = @now
         WHERE id = @id AND stage IN ${PAST_TRANSCRIBED}`,
        {id, video: 1, audio: 1, yes: 1, now: sqlNow()},
      )
      if (n !== 1) return
      await tx.run(`INSERT INTO job_events (job_id, at, stage, event, level, message, worker) VALUES (@id, @now, @stage, 'cleanup', 'info', @message, NULL)`, {
        id,
        now: sqlNow(),
        stage: 'complete',
        message: 'cleanup deleted the video and audio',
      })
    })
  }
}

async function resetMarks(queue: Queue): Promise<void> {
  await queue.sql.run(`UPDATE jobs SET video_deleted = @no, audio_deleted = @no`, {no: 0})
  await queue.sql.run(`DELETE FROM job_events WHERE event = 'cleanup'`)
}

export async function benchCleanup(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'animezipf-bench-cleanup-'))
  const results: BenchResult[] = []
  const pgBase = process.env.ANIMEZIPF_BENCH_PG_URL || process.env.ANIMEZIPF_TEST_PG_URL
  const jobs = Number(process.env.ANIMEZIPF_BENCH_CLEANUP_JOBS || 20_000)
  try {
    const backends: [string, (name: string) => Promise<string>][] = [
      ['sqlite', async () => ''],
      ...(pgBase ? ([['postgres', (name: string) => freshPg(pgBase, name)]] as [string, (name: string) => Promise<string>][]) : []),
    ]
    for (const [backend, target] of backends) {
      // media of `jobs` complete episodes: all marked deleted and removed
      const media = await timeCleanup(
        path.join(dir, `${backend}-media`),
        await target('animezipf_bench_cleanup_media'),
        async (q, paths) => {
          await seedJobs(q, jobs, 'complete')
          writeMedia(paths, jobs)
        },
        (r) => {
          const freed = r.actions.length
          if (freed !== 2 * jobs) throw new Error(`cleanup removed ${freed} files, expected ${2 * jobs}`)
        },
      )
      results.push({name: `cleanup [${backend}]: media of ${jobs} jobs marked deleted and removed`, value: media, unit: 's'})
      results.push({name: `cleanup [${backend}]: media of ${jobs} jobs marked deleted and removed`, value: jobs / media, unit: 'jobs/s'})

      // `jobs` tokenized jobs whose tokens are gone: all sent back to transcribed
      const moves = await timeCleanup(
        path.join(dir, `${backend}-moves`),
        await target('animezipf_bench_cleanup_moves'),
        (q) => seedJobs(q, jobs, 'tokenized'),
        (r) => {
          const moved = r.moves.length
          if (moved !== jobs) throw new Error(`cleanup moved ${moved} jobs, expected ${jobs}`)
        },
      )
      results.push({name: `cleanup [${backend}]: ${jobs} jobs sent back (their tokens are gone)`, value: jobs / moves, unit: 'jobs/s'})

      // the marking step alone: one transaction per job (reference) against the queue's statements
      const url = await target('animezipf_bench_cleanup_mark')
      const q = await openQueue({location: queueLocation(url, path.join(dir, `${backend}-mark.db`)), host: HOST})
      await seedJobs(q, jobs, 'complete')
      const ids = (await q.sql.all<{id: number}>(`SELECT id FROM jobs ORDER BY id`)).map((r) => r.id)
      const perJob = await seconds(() => markOneByOne(q, ids))
      await resetMarks(q)
      const items = ids.map((id) => ({id, stage: 'complete' as const, video: true, audio: true, message: 'cleanup deleted the video and audio'}))
      const setBased = await seconds(() => q.maintenance.markMediaDeleted(items))
      const events = await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'cleanup'`)
      if (events?.n !== jobs) throw new Error(`the set-based marking wrote ${events?.n} events, expected ${jobs}`)
      await q.close()
      results.push({name: `cleanup [${backend}]: mark ${jobs} jobs, one transaction per job (old, reference)`, value: jobs / perJob, unit: 'jobs/s'})
      results.push({name: `cleanup [${backend}]: mark ${jobs} jobs, set-based (500 ids a statement)`, value: jobs / setBased, unit: 'jobs/s'})
      results.push({name: `cleanup [${backend}]: set-based vs one transaction per job (ratio)`, value: perJob / setBased, unit: 'x'})
    }
    if (!pgBase) console.log('  (no PostgreSQL: set ANIMEZIPF_BENCH_PG_URL or ANIMEZIPF_TEST_PG_URL, e.g. from scripts/pg-test-server.sh)')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return results
}
