import type {Config} from '../config/defaults.js'
import type {DataPaths} from '../paths.js'
import type {Clock} from '../queue/clock.js'
import type {Queue} from '../queue/index.js'
import type {AnimeProgress, JobEvent, JobRow, RunningJob, WorkerRow} from '../queue/rows.js'
import {STAGES} from '../queue/stages.js'
import type {DiskPauseRow} from '../queue/pauses.js'
import type {QueueStats} from '../queue/stats.js'
import {type PermanentUsage, permanentUsage, sum} from './usage.js'
import {GB, filesystemSpace, folderBytes} from '../util/disk.js'

export interface DiskReport {
  root_dir: string
  storage_dir: string
  temporary: {videos: number; audio: number}
  permanent: PermanentUsage
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

export interface DownloadReport {
  /** Episodes downloaded so far (their videos may be deleted since), and their bytes. */
  episodes: number
  bytes: number
  mean_bytes_per_episode: number | null
  last_hour: {episodes: number; bytes: number; mb_per_s: number}
  last_day: {episodes: number; bytes: number; mb_per_s: number}
  pauses_last_day: number
  paused_seconds_last_day: number
  /** The latest pause for disk space; ended_at null while it lasts (or its process died). */
  last_pause: DiskPauseRow | null
}

export interface TranscriptionReport {
  /** Per model: episodes, audio and processing seconds, audio seconds per second of work (per worker). */
  models: {model: string; episodes: number; audio_seconds: number; processing_seconds: number; realtime_factor: number | null}[]
  /** Audio seconds transcribed in the last hour and day, over all workers and hosts. */
  last_hour_audio_seconds: number
  last_day_audio_seconds: number
  /** Episodes waiting for (or in) transcription, their audio, and the hours they need at the recent pace. */
  backlog: {episodes: number; audio_seconds: number; eta_hours: number | null}
}

export interface HostReport {
  host: string
  /** Jobs whose video is on this host, per stage. */
  jobs: Record<string, number>
  workers: number
}

export interface StatusReport {
  generated_at: string
  /** The SQLite file or the PostgreSQL URL (password masked). */
  database: string
  /** False when no SQLite file is there yet (a fresh folder, or a mistyped --data-dir): the counts are all zero. */
  database_exists?: boolean
  backend: 'sqlite' | 'postgres'
  /** This process's host id. */
  host: string
  /** Anime in the queue (all of them, also under --anime-id). */
  anime: number
  /** --anime-id: the one anime the jobs and the progress below are of; null for the whole queue. */
  anime_id: number | null
  jobs: {total: number; by_stage: Record<string, number>}
  anime_progress: AnimeProgress[]
  failures: {stage: string | null; error: string | null; count: number}[]
  running: RunningJob[]
  expired_leases: number
  disk: DiskReport
  throughput: Record<string, StageThroughput>
  downloads: DownloadReport
  transcription: TranscriptionReport
  /** The same as selections.confidence (kept for scripts that read it). */
  selection_confidence: Record<string, number>
  /** Selections by confidence and by episode match, and what the model calls cost so far. */
  selections: {
    confidence: Record<string, number>
    episode_match: Record<string, number>
    api: {calls: number; input_tokens: number; output_tokens: number; cost_usd: number}
  }
  workers: WorkerRow[]
  hosts: HostReport[]
}

export interface JobReport {
  job: JobRow
  events: JobEvent[]
}

export interface CollectOptions {
  queue: Queue
  config: Config
  paths: DataPaths
  clock: Clock
  malId?: number | undefined
  /** How many anime to list (most active first). */
  animeLimit?: number
}

/** Episode videos of this host's storage_dir, downloads in progress included. */
function videoBytes(paths: DataPaths): number {
  return folderBytes(paths.videosRoot)
}

async function transcription(queue: Queue, now: number): Promise<TranscriptionReport> {
  const models = await queue.transcriptions.perModel()
  const hour = await queue.transcriptions.audioSince(now - 3_600_000)
  const day = await queue.transcriptions.audioSince(now - 86_400_000)
  const backlog = await queue.transcriptions.backlogSeconds()
  // audio seconds per hour of wall time: the last hour's pace, else the day's, else one worker at the best factor seen
  const best = Math.max(0, ...models.map((m) => m.realtime_factor ?? 0))
  const perHour = hour > 0 ? hour : day > 0 ? day / 24 : best * 3600
  return {
    models,
    last_hour_audio_seconds: Math.round(hour),
    last_day_audio_seconds: Math.round(day),
    backlog: {
      episodes: backlog.episodes,
      audio_seconds: Math.round(backlog.seconds),
      eta_hours: backlog.episodes === 0 ? 0 : perHour > 0 ? Number((backlog.seconds / perHour).toFixed(1)) : null,
    },
  }
}

async function downloads(queue: Queue, now: number): Promise<DownloadReport> {
  const hour = await queue.stats.downloads(now - 3_600_000)
  const day = await queue.stats.downloads(now - 86_400_000)
  const pauses = await queue.pauses.since(now - 86_400_000)
  const [last] = await queue.pauses.recent(1)
  return {
    episodes: day.episodes,
    bytes: day.bytes,
    mean_bytes_per_episode: day.episodes > 0 ? Math.round(day.bytes / day.episodes) : null,
    last_hour: {episodes: hour.recent_episodes, bytes: hour.recent_bytes, mb_per_s: Number((hour.recent_bytes / 1e6 / 3600).toFixed(3))},
    last_day: {episodes: day.recent_episodes, bytes: day.recent_bytes, mb_per_s: Number((day.recent_bytes / 1e6 / 86_400).toFixed(3))},
    pauses_last_day: pauses.pauses,
    paused_seconds_last_day: pauses.paused_seconds,
    last_pause: last ?? null,
  }
}

async function disk(config: Config, paths: DataPaths, stats: QueueStats, sqliteFile: string | undefined): Promise<DiskReport> {
  const temporary = {videos: videoBytes(paths), audio: folderBytes(paths.audioRoot)}
  const permanent = await permanentUsage(paths, stats, sqliteFile)
  const total = sum(temporary) + sum(permanent)
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

export async function collectStatus(options: CollectOptions): Promise<StatusReport> {
  const {queue, clock} = options
  const stats = queue.stats
  const now = clock.now()
  const byStage = await stats.jobsPerStage(options.malId)
  const hour = await stats.finishedSince(now - 3_600_000)
  const day = await stats.finishedSince(now - 86_400_000)
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
  const running = await stats.runningJobs(now, 100, options.malId)
  const workers = await stats.liveWorkers(now - options.config.queue.lease_seconds * 1000)
  const hosts = new Map<string, HostReport>()
  const hostOf = (h: string) => {
    let r = hosts.get(h)
    if (!r) hosts.set(h, (r = {host: h, jobs: {}, workers: 0}))
    return r
  }
  for (const row of await stats.jobsPerHost()) hostOf(row.host ?? '?').jobs[row.stage] = row.n
  for (const w of workers) hostOf(w.hostname ?? '?').workers++
  const location = queue.location
  const selections = {...(await queue.selections.breakdown()), api: await queue.selections.spending()}
  return {
    generated_at: new Date(now).toISOString(),
    database: location.display,
    backend: location.backend,
    host: queue.host,
    anime: await stats.animeCount(),
    anime_id: options.malId ?? null,
    jobs: {total: Object.values(byStage).reduce((a, b) => a + b, 0), by_stage: byStage},
    anime_progress: await stats.animeProgress(options.animeLimit ?? 10, options.malId),
    failures: (await stats.failures(20, options.malId)).map((f) => ({stage: f.failed_stage, error: f.error_message, count: f.count})),
    running,
    expired_leases: running.filter((r) => r.expired).length,
    disk: await disk(options.config, options.paths, stats, location.backend === 'sqlite' ? location.target : undefined),
    throughput,
    downloads: await downloads(queue, now),
    transcription: await transcription(queue, now),
    selection_confidence: selections.confidence,
    selections,
    workers,
    hosts: [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host)),
  }
}

export async function collectJob(queue: Queue, jobId: number): Promise<JobReport | undefined> {
  const job = await queue.jobs.getJob(jobId)
  return job ? {job, events: await queue.jobs.events(jobId)} : undefined
}
