import {sqlTime} from './clock.js'
import type {DB} from './db.js'
import {JOB_STAGES, RUNNING_STAGES, STAGES} from './stages.js'

export interface AnimeProgress {
  mal_id: number
  title: string
  total: number
  complete: number
  failed: number
  running: number
  waiting: number
  last_activity: string | null
}

export interface RunningJob {
  id: number
  mal_id: number | null
  anime_title: string
  episode: number
  stage: string
  lease_owner: string
  started_at: string | null
  lease_expires_at: string
  expired: boolean
}

export interface WorkerRow {
  id: number
  worker_type: string
  status: string
  current_job_id: number | null
  last_heartbeat: string
  owner: string
  pid: number | null
  hostname: string | null
  started_at: string | null
}

/** The read side of the queue for `status`: indexed aggregate queries only. */
export class QueueStats {
  constructor(private readonly db: DB) {}

  jobsPerStage(malId?: number): Record<string, number> {
    const rows = this.db
      .prepare(`SELECT stage, COUNT(*) AS n FROM jobs WHERE (@malId IS NULL OR mal_id = @malId) GROUP BY stage`)
      .all({malId: malId ?? null}) as {stage: string; n: number}[]
    const counts: Record<string, number> = Object.fromEntries(JOB_STAGES.map((s) => [s, 0]))
    for (const r of rows) counts[r.stage] = r.n
    return counts
  }

  animeCount(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM anime`).get() as {n: number}).n
  }

  animeProgress(limit: number, malId?: number): AnimeProgress[] {
    const running = RUNNING_STAGES.map((s) => `'${s}'`).join(', ')
    return this.db
      .prepare(
        `SELECT a.mal_id, a.title, p.total, p.complete, p.failed, p.running, p.total - p.complete - p.failed - p.running AS waiting, p.last_activity
         FROM (SELECT anime_id, COUNT(*) AS total,
                 SUM(CASE WHEN stage = 'complete' THEN 1 ELSE 0 END) AS complete,
                 SUM(CASE WHEN stage = 'failed' THEN 1 ELSE 0 END) AS failed,
                 SUM(CASE WHEN stage IN (${running}) THEN 1 ELSE 0 END) AS running,
                 MAX(updated_at) AS last_activity
               FROM jobs WHERE (@malId IS NULL OR mal_id = @malId) GROUP BY anime_id) p
         JOIN anime a ON a.id = p.anime_id
         ORDER BY p.running DESC, p.last_activity DESC, a.mal_id
         LIMIT @limit`,
      )
      .all({limit, malId: malId ?? null}) as AnimeProgress[]
  }

  failures(limit: number, malId?: number): {failed_stage: string | null; error_message: string | null; count: number}[] {
    return this.db
      .prepare(
        `SELECT failed_stage, error_message, COUNT(*) AS count FROM jobs WHERE stage = 'failed' AND (@malId IS NULL OR mal_id = @malId)
         GROUP BY failed_stage, error_message ORDER BY count DESC, failed_stage LIMIT @limit`,
      )
      .all({limit, malId: malId ?? null}) as {failed_stage: string | null; error_message: string | null; count: number}[]
  }

  runningJobs(nowMs: number, limit: number, malId?: number): RunningJob[] {
    const rows = this.db
      .prepare(
        `SELECT id, mal_id, anime_title, episode, stage, lease_owner, started_at, lease_expires_at FROM jobs
         WHERE lease_owner IS NOT NULL AND (@malId IS NULL OR mal_id = @malId) ORDER BY lease_expires_at LIMIT @limit`,
      )
      .all({limit, malId: malId ?? null}) as Omit<RunningJob, 'expired'>[]
    const now = sqlTime(nowMs)
    return rows.map((r) => ({...r, expired: r.lease_expires_at < now}))
  }

  /** Finished jobs per stage since a time (job_events, indexed on event, stage, at). */
  finishedSince(sinceMs: number): Record<string, number> {
    const stmt = this.db.prepare(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'finished' AND stage = @stage AND at >= @since`)
    const out: Record<string, number> = {}
    for (const s of Object.values(STAGES)) out[s.name] = (stmt.get({stage: s.output, since: sqlTime(sinceMs)}) as {n: number}).n
    return out
  }

  outputSizes(): {transcripts: number; tokens: number} {
    const row = this.db
      .prepare(`SELECT COALESCE(SUM(transcript_size_bytes), 0) AS t, COALESCE(SUM(tokens_size_bytes), 0) AS k FROM jobs`)
      .get() as {t: number; k: number}
    return {transcripts: row.t, tokens: row.k}
  }

  selectionConfidence(): Record<string, number> {
    const rows = this.db.prepare(`SELECT confidence, COUNT(*) AS n FROM anime_selection_cache GROUP BY confidence`).all() as {
      confidence: string
      n: number
    }[]
    const out: Record<string, number> = {high: 0, medium: 0, low: 0, no_candidates: 0}
    for (const r of rows) out[r.confidence] = r.n
    return out
  }

  liveWorkers(sinceMs: number): WorkerRow[] {
    return this.db
      .prepare(`SELECT * FROM workers WHERE status != 'stopped' AND last_heartbeat >= @since ORDER BY worker_type, id`)
      .all({since: sqlTime(sinceMs)}) as WorkerRow[]
  }
}
