import {readdirSync} from 'node:fs'

import type {Config} from '../config/defaults.js'
import type {DataPaths} from '../paths.js'
import type {Clock} from '../queue/clock.js'
import type {DB} from '../queue/db.js'
import {Queue, type JobEvent, type JobRow} from '../queue/jobs.js'
import {STAGES} from '../queue/stages.js'
import {type AnimeProgress, QueueStats, type RunningJob, type WorkerRow} from '../queue/stats.js'
import {GB, fileBytes, filesystemSpace, folderBytes} from '../util/disk.js'

export interface DiskReport {
  root_dir: string
  storage_dir: string
  temporary: {videos: number; audio: number}
  permanent: {transcripts: number; tokens: number; analysis: number; cache: number; database: number}
  total_bytes: number
  thresholds_bytes: {hard_limit: number; pause: number; resume: number}
  /** 'ok', 'paused' (downloads pause at this use), or 'over_limit'. */
  state: 'ok' | 'paused' | 'over_limit'
  free_bytes: {root_dir: number; storage_dir: number}
}

export interface StageThroughput {
  last_hour: number
  last_day: number
  remaining: number
  /** Hours to drain what is queued for the stage at the last hour's rate (day's rate if the hour saw none). */
  eta_hours: number | null
}

export interface StatusReport {
  generated_at: string
  database: string
  anime: number
  jobs: {total: number; by_stage: Record<string, number>}
  anime_progress: AnimeProgress[]
  failures: {stage: string | null; error: string | null; count: number}[]
  running: RunningJob[]
  expired_leases: number
  disk: DiskReport
  throughput: Record<string, StageThroughput>
  selection_confidence: Record<string, number>
  workers: WorkerRow[]
}

export interface JobReport {
  job: JobRow
  events: JobEvent[]
}

export interface CollectOptions {
  db: DB
  config: Config
  paths: DataPaths
  clock: Clock
  malId?: number | undefined
  /** How many anime to list (most active first). */
  animeLimit?: number
}

/** Episode videos only: each anime's metadata.json beside them is permanent. */
function videoBytes(paths: DataPaths): number {
  let total = 0
  for (const malId of listDir(paths.videosRoot)) total += folderBytes(paths.videoDir(Number(malId)))
  return total
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function disk(config: Config, paths: DataPaths, stats: QueueStats): DiskReport {
  const outputs = stats.outputSizes()
  const temporary = {videos: videoBytes(paths), audio: folderBytes(paths.audioRoot)}
  const permanent = {
    // per-episode outputs are summed from the queue (recorded when written) instead of walking 100,000s of files
    transcripts: outputs.transcripts,
    tokens: outputs.tokens,
    analysis: folderBytes(paths.analysisRoot),
    cache: folderBytes(paths.cacheDir),
    database: fileBytes(paths.jobsDb) + fileBytes(`${paths.jobsDb}-wal`),
  }
  const total = Object.values(temporary).reduce((a, b) => a + b, 0) + Object.values(permanent).reduce((a, b) => a + b, 0)
  const d = config.disk_management
  const thresholds = {hard_limit: d.hard_limit_gb * GB, pause: d.pause_threshold_gb * GB, resume: d.resume_threshold_gb * GB}
  return {
    root_dir: paths.root,
    storage_dir: paths.storage,
    temporary,
    permanent,
    total_bytes: total,
    thresholds_bytes: thresholds,
    state: total >= thresholds.hard_limit ? 'over_limit' : total >= thresholds.pause ? 'paused' : 'ok',
    free_bytes: {root_dir: filesystemSpace(paths.root).free, storage_dir: filesystemSpace(paths.storage).free},
  }
}

export function collectStatus(options: CollectOptions): StatusReport {
  const {db, clock} = options
  const stats = new QueueStats(db)
  const now = clock.now()
  const byStage = stats.jobsPerStage(options.malId)
  const hour = stats.finishedSince(now - 3_600_000)
  const day = stats.finishedSince(now - 86_400_000)
  const throughput: Record<string, StageThroughput> = {}
  for (const s of Object.values(STAGES)) {
    const remaining = (byStage[s.input] ?? 0) + (byStage[s.running] ?? 0)
    const perHour = hour[s.name]! > 0 ? hour[s.name]! : day[s.name]! / 24
    throughput[s.name] = {
      last_hour: hour[s.name]!,
      last_day: day[s.name]!,
      remaining,
      eta_hours: remaining === 0 ? 0 : perHour > 0 ? Math.round((remaining / perHour) * 10) / 10 : null,
    }
  }
  const running = stats.runningJobs(now, 100, options.malId)
  return {
    generated_at: new Date(now).toISOString(),
    database: options.paths.jobsDb,
    anime: stats.animeCount(),
    jobs: {total: Object.values(byStage).reduce((a, b) => a + b, 0), by_stage: byStage},
    anime_progress: stats.animeProgress(options.animeLimit ?? 10, options.malId),
    failures: stats.failures(20, options.malId).map((f) => ({stage: f.failed_stage, error: f.error_message, count: f.count})),
    running,
    expired_leases: running.filter((r) => r.expired).length,
    disk: disk(options.config, options.paths, stats),
    throughput,
    selection_confidence: stats.selectionConfidence(),
    workers: stats.liveWorkers(now - options.config.queue.lease_seconds * 1000),
  }
}

export function collectJob(db: DB, clock: Clock, jobId: number): JobReport | undefined {
  const queue = new Queue(db, clock)
  const job = queue.getJob(jobId)
  return job ? {job, events: queue.events(jobId)} : undefined
}
