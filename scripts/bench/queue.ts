import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import pg from 'pg'

import {DEFAULTS} from '../../src/config/defaults.js'
import {DataPaths} from '../../src/paths.js'
import {systemClock} from '../../src/queue/clock.js'
import {type Queue, openQueue, queueLocation} from '../../src/queue/index.js'
import {collectStatus} from '../../src/status/collect.js'
import {type BenchResult} from './measure.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const STAGE_SPREAD = ['queued', 'downloaded', 'transcribed', 'tokenized', 'complete', 'failed']

/**
 * A queue of `shows` x `episodes` jobs (spread over the stages, with a finished event for each
 * job past 'queued'), written by set-based SQL that runs on both engines.
 */
async function buildQueue(queue: Queue, shows: number, episodes: number, spread: boolean): Promise<void> {
  const stages = spread ? STAGE_SPREAD : ['queued']
  await queue.transaction(async (q) => {
    const s = q.sql
    await s.run(`CREATE TEMP TABLE bench_n (n INTEGER PRIMARY KEY)`)
    for (let i = 0; i < Math.max(shows, episodes); i += 500) {
      const chunk = Array.from({length: Math.min(500, Math.max(shows, episodes) - i)}, (_, k) => `(${i + k + 1})`).join(', ')
      await s.run(`INSERT INTO bench_n (n) VALUES ${chunk}`)
    }
    await s.run(`INSERT INTO anime (mal_id, title, episodes_total) SELECT 10000 + n, 'Show ' || n, @episodes FROM bench_n WHERE n <= @shows`, {episodes, shows})
    const stageCase = `CASE ${stages.map((st, i) => `WHEN ((a.mal_id - 10000) * @episodes + e.n) % ${stages.length} = ${i} THEN '${st}'`).join(' ')} END`
    await s.run(
      `INSERT INTO jobs (anime_id, mal_id, anime_title, episode, stage, created_at, updated_at, failed_stage, error_message)
       SELECT a.id, a.mal_id, a.title, e.n, ${stageCase}, @now, @now, NULL, NULL FROM anime a JOIN bench_n e ON e.n <= @episodes`,
      {episodes, now: new Date().toISOString().replace('T', ' ').replace('Z', '')},
    )
    await s.run(`UPDATE jobs SET failed_stage = 'tokenizing', error_message = 'error ' || (episode % 7) WHERE stage = 'failed'`)
    await s.run(`INSERT INTO job_events (job_id, at, stage, event, level) SELECT id, updated_at, stage, 'finished', 'info' FROM jobs WHERE stage != 'queued'`)
    await s.run(`DROP TABLE bench_n`)
  })
}

async function claimRun(target: string, processes: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  const counts = await Promise.all(
    Array.from(
      {length: processes},
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'claim-worker.ts'), target, String(i)], {cwd: root})
          let out = ''
          let err = ''
          child.stdout.on('data', (d) => (out += d))
          child.stderr.on('data', (d) => (err += d))
          child.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`worker exited ${code}: ${err}`))))
        }),
    ),
  )
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  return counts.reduce((a, b) => a + b, 0) / seconds
}

/** A fresh database on the benchmark's PostgreSQL server (ANIMEZIPF_BENCH_PG_URL, else the tests' one). */
export async function freshPg(base: string, name: string): Promise<string> {
  const admin = new pg.Client({connectionString: base})
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const u = new URL(base)
  u.pathname = `/${name}`
  return u.toString()
}

async function statusFigures(label: string, target: string, dataDir: string, results: BenchResult[]): Promise<void> {
  const location = queueLocation(target.startsWith('postgres') ? target : `sqlite:${target}`, target)
  const queue = await openQueue({location, readonly: true})
  const paths = new DataPaths(dataDir)
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint()
    await collectStatus({queue, config: DEFAULTS, paths, clock: systemClock})
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  await queue.close()
  times.sort((a, b) => a - b)
  results.push({name: `status [${label}]: collect on 200,000 jobs (in process, median of 5)`, value: times[2]!, unit: 'ms'})
  const rssFile = path.join(dataDir, 'status-rss.txt')
  const env = {...process.env, ANIMEZIPF_QUEUE_URL: target.startsWith('postgres') ? target : '', ANIMEZIPF_BENCH_RSS_FILE: rssFile}
  const t0 = process.hrtime.bigint()
  const r = spawnSync(
    process.execPath,
    [
      '--require',
      path.join(here, 'peak-rss.cjs'),
      path.join(root, 'bin', 'run.js'),
      'status',
      '--json',
      '--data-dir',
      dataDir,
      '--config',
      path.join(root, 'config.toml'),
    ],
    {encoding: 'utf8', env},
  )
  if (r.status !== 0 || JSON.parse(r.stdout).jobs.total !== 200_000) throw new Error(`status failed: ${r.stderr}`)
  results.push({name: `status --json [${label}] on 200,000 jobs (whole command, cold start)`, value: Number(process.hrtime.bigint() - t0) / 1e6, unit: 'ms'})
  const peakMb = Number(readFileSync(rssFile, 'utf8')) / 1024
  results.push({name: `status --json [${label}] on 200,000 jobs: peak memory of the command`, value: peakMb, unit: 'MB'})
  if (!target.startsWith('postgres')) {
    // a read-only view once copied the whole file into memory (twice: the bytes, then SQLite's copy)
    const fileMb = statSync(target).size / 1024 / 1024
    results.push({name: `status --json [${label}]: the queue file it read`, value: fileMb, unit: 'MB'})
    results.push({name: `status --json [${label}]: peak memory / queue file size (a copy in memory was > 2)`, value: peakMb / fileMb, unit: 'x'})
  }
}

export async function benchQueue(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'animezipf-bench-'))
  const results: BenchResult[] = []
  const pgBase = process.env.ANIMEZIPF_BENCH_PG_URL || process.env.ANIMEZIPF_TEST_PG_URL
  try {
    const jobs = 20_000
    const rates: Record<string, number> = {}
    const backends: [string, (processes: number) => Promise<string>][] = [
      ['sqlite', async (p) => path.join(dir, `claim-${p}.db`)],
      ...(pgBase ? ([['postgres', (p: number) => freshPg(pgBase, `animezipf_bench_${p}`)]] as [string, (p: number) => Promise<string>][]) : []),
    ]
    for (const [backend, target] of backends) {
      for (const processes of [1, 4, 8]) {
        const t = await target(processes)
        const location = queueLocation(t.startsWith('postgres') ? t : `sqlite:${t}`, t)
        const q = await openQueue({location})
        await buildQueue(q, jobs / 20, 20, false)
        await q.close()
        const rate = await claimRun(t, processes)
        rates[`${backend}-${processes}`] = rate
        results.push({name: `queue [${backend}]: claim+finish, ${processes} process(es), ${jobs} jobs`, value: rate, unit: 'jobs/s'})
      }
    }
    results.push({name: 'queue [sqlite]: 4 processes vs 1 (ratio)', value: rates['sqlite-4']! / rates['sqlite-1']!, unit: 'x'})
    if (pgBase) {
      results.push({name: 'queue: PostgreSQL 8 processes vs SQLite 1 process (goal >= 2)', value: rates['postgres-8']! / rates['sqlite-1']!, unit: 'x'})
      results.push({name: 'queue: PostgreSQL 8 processes vs SQLite 8 processes', value: rates['postgres-8']! / rates['sqlite-8']!, unit: 'x'})
    } else {
      console.log('  (no PostgreSQL: set ANIMEZIPF_BENCH_PG_URL or ANIMEZIPF_TEST_PG_URL, e.g. from scripts/pg-test-server.sh)')
    }

    const dataDir = path.join(dir, 'data')
    const paths = new DataPaths(dataDir)
    const sqliteQ = await openQueue({location: queueLocation('', paths.jobsDb)})
    await buildQueue(sqliteQ, 10_000, 20, true)
    await sqliteQ.close()
    await statusFigures('sqlite', paths.jobsDb, dataDir, results)
    if (pgBase) {
      const url = await freshPg(pgBase, 'animezipf_bench_status')
      const q = await openQueue({location: queueLocation(url, '')})
      await buildQueue(q, 10_000, 20, true)
      await q.sql.run('ANALYZE')
      await q.close()
      await statusFigures('postgres', url, path.join(dir, 'data-pg'), results)
    }
    const t1 = process.hrtime.bigint()
    spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), '--version'])
    results.push({name: 'reference: animezipf --version (start-up alone)', value: Number(process.hrtime.bigint() - t1) / 1e6, unit: 'ms'})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return results
}
