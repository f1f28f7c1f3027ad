import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {DEFAULTS} from '../../src/config/defaults.js'
import {DataPaths} from '../../src/paths.js'
import {systemClock, sqlTime} from '../../src/queue/clock.js'
import {openDatabase} from '../../src/queue/db.js'
import {collectStatus} from '../../src/status/collect.js'
import {type BenchResult, timeIt} from './measure.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')

/** A queue of `shows` x `episodes` jobs spread over the stages, written in one transaction. */
function buildQueue(file: string, shows: number, episodes: number, spread: boolean): void {
  const db = openDatabase(file)
  const stages = ['queued', 'downloaded', 'transcribed', 'tokenized', 'complete', 'failed']
  db.transaction(() => {
    const anime = db.prepare(`INSERT INTO anime (mal_id, title, episodes_total) VALUES (?, ?, ?) RETURNING id`)
    const job = db.prepare(
      `INSERT INTO jobs (anime_id, mal_id, anime_title, episode, stage, created_at, updated_at, failed_stage, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const event = db.prepare(`INSERT INTO job_events (job_id, at, stage, event, level) VALUES (?, ?, ?, 'finished', 'info')`)
    const now = Date.now()
    for (let s = 0; s < shows; s++) {
      const {id} = anime.get(10_000 + s, `Show ${s}`, episodes) as {id: number}
      for (let e = 1; e <= episodes; e++) {
        const stage = spread ? stages[(s * episodes + e) % stages.length]! : 'queued'
        const t = sqlTime(now - ((s * episodes + e) % 86_400) * 1000)
        const info = job.run(id, 10_000 + s, `Show ${s}`, e, stage, t, t, stage === 'failed' ? 'tokenizing' : null, stage === 'failed' ? `error ${e % 7}` : null)
        if (spread && stage !== 'queued') event.run(info.lastInsertRowid, t, stage)
      }
    }
  }).immediate()
  db.close()
}

async function claimRun(file: string, processes: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  const counts = await Promise.all(
    Array.from(
      {length: processes},
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'claim-worker.ts'), file, String(i)], {cwd: root})
          let out = ''
          child.stdout.on('data', (d) => (out += d))
          child.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`worker exited ${code}`))))
        }),
    ),
  )
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const total = counts.reduce((a, b) => a + b, 0)
  return total / seconds
}

export async function benchQueue(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'animezipf-bench-'))
  const results: BenchResult[] = []
  try {
    const jobs = 20_000
    const rates: number[] = []
    for (const processes of [1, 4]) {
      const file = path.join(dir, `claim-${processes}.db`)
      buildQueue(file, jobs / 20, 20, false)
      const rate = await claimRun(file, processes)
      rates.push(rate)
      results.push({name: `queue: claim+finish, ${processes} process(es), ${jobs} jobs`, value: rate, unit: 'jobs/s'})
    }
    results.push({name: 'queue: 4 processes vs 1 (ratio)', value: rates[1]! / rates[0]!, unit: 'x'})

    const dataDir = path.join(dir, 'data')
    const paths = new DataPaths(dataDir)
    buildQueue(paths.jobsDb, 10_000, 20, true)
    const db = openDatabase(paths.jobsDb)
    const inProcess = timeIt(5, () => collectStatus({db, config: DEFAULTS, paths, clock: systemClock}))
    db.close()
    results.push({name: 'status: collect on 200,000 jobs (in process, median of 5)', value: inProcess * 1000, unit: 'ms'})
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'status', '--json', '--data-dir', dataDir, '--config', path.join(root, 'config.toml')], {
      encoding: 'utf8',
    })
    if (r.status !== 0 || JSON.parse(r.stdout).jobs.total !== 200_000) throw new Error(`status failed: ${r.stderr}`)
    results.push({name: 'status --json on 200,000 jobs (whole command, cold start)', value: Number(process.hrtime.bigint() - t0) / 1e6, unit: 'ms'})
    const t1 = process.hrtime.bigint()
    spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), '--version'])
    results.push({name: 'reference: animezipf --version (start-up alone)', value: Number(process.hrtime.bigint() - t1) / 1e6, unit: 'ms'})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return results
}
