import {sqlTime} from './clock.js'
import type {AnimeProgress, RunningJob, WorkerRow} from './rows.js'
import type {Sql} from './sql.js'
import {JOB_STAGES, RUNNING_STAGES, STAGES} from './stages.js'

/** The read side of the queue for `status`: indexed aggregate queries only. */
export class QueueStats {
  constructor(private readonly sql: Sql) {}

  async jobsPerStage(malId?: number): Promise<Record<string, number>> {
    const rows = await this.sql.all<{stage: string; n: number}>(
      `SELECT stage, COUNT(*) AS n FROM jobs WHERE (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId) GROUP BY stage`,
      {malId: malId ?? null},
    )
    const counts: Record<string, number> = Object.fromEntries(JOB_STAGES.map((s) => [s, 0]))
    for (const r of rows) counts[r.stage] = r.n
    return counts
  }

  /** Jobs per stage and host holding the video (several machines). */
  async jobsPerHost(): Promise<{host: string | null; stage: string; n: number}[]> {
    return this.sql.all(
      `SELECT video_host AS host, stage, COUNT(*) AS n FROM jobs WHERE video_host IS NOT NULL GROUP BY video_host, stage ORDER BY video_host, stage`,
    )
  }

  async animeCount(): Promise<number> {
    return (await this.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM anime`))!.n
  }

  async animeProgress(limit: number, malId?: number): Promise<AnimeProgress[]> {
    const running = RUNNING_STAGES.map((s) => `'${s}'`).join(', ')
    return this.sql.all<AnimeProgress>(
      `SELECT a.mal_id, a.title, p.total, p.complete, p.failed, p.running, p.total - p.complete - p.failed - p.running AS waiting, p.last_activity
       FROM (SELECT anime_id, COUNT(*) AS total,
               SUM(CASE WHEN stage = 'complete' THEN 1 ELSE 0 END) AS complete,
               SUM(CASE WHEN stage = 'failed' THEN 1 ELSE 0 END) AS failed,
               SUM(CASE WHEN stage IN (${running}) THEN 1 ELSE 0 END) AS running,
               MAX(updated_at) AS last_activity
             FROM jobs WHERE (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId) GROUP BY anime_id) p
       JOIN anime a ON a.id = p.anime_id
       ORDER BY p.running DESC, p.last_activity DESC, a.mal_id
       LIMIT @limit`,
      {limit, malId: malId ?? null},
    )
  }

  async failures(limit: number, malId?: number): Promise<{failed_stage: string | null; error_message: string | null; count: number}[]> {
    return this.sql.all(
      `SELECT failed_stage, error_message, COUNT(*) AS count FROM jobs WHERE stage = 'failed' AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId)
       GROUP BY failed_stage, error_message ORDER BY count DESC, failed_stage LIMIT @limit`,
      {limit, malId: malId ?? null},
    )
  }

  /** Leased jobs, with whether the lease has expired (compared in SQL, as times). */
  async runningJobs(nowMs: number, limit: number, malId?: number): Promise<RunningJob[]> {
    const rows = await this.sql.all<Omit<RunningJob, 'expired'> & {expired: number}>(
      `SELECT id, mal_id, anime_title, episode, stage, lease_owner, started_at, lease_expires_at,
         CASE WHEN lease_expires_at < @now THEN 1 ELSE 0 END AS expired
       FROM jobs WHERE lease_owner IS NOT NULL AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId) ORDER BY lease_expires_at LIMIT @limit`,
      {limit, malId: malId ?? null, now: sqlTime(nowMs)},
    )
    return rows.map((r) => ({...r, expired: r.expired === 1}))
  }

  /** Finished jobs per stage since a time (job_events, indexed on event, stage, at). */
  async finishedSince(sinceMs: number): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (const s of Object.values(STAGES)) {
      const row = await this.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'finished' AND stage = @stage AND at >= @since`, {
        stage: s.output,
        since: sqlTime(sinceMs),
      })
      out[s.name] = row?.n ?? 0
    }
    return out
  }

  /** Episodes downloaded: all whose size is known, and those finished since a time, with their bytes. */
  async downloads(sinceMs: number): Promise<{episodes: number; bytes: number; recent_episodes: number; recent_bytes: number}> {
    const all = await this.sql.get<{n: number; b: number | null}>(
      `SELECT COUNT(*) AS n, SUM(video_size_bytes) AS b FROM jobs WHERE video_size_bytes IS NOT NULL`,
    )
    const recent = await this.sql.get<{n: number; b: number | null}>(
      `SELECT COUNT(*) AS n, SUM(j.video_size_bytes) AS b FROM job_events e JOIN jobs j ON j.id = e.job_id
       WHERE e.event = 'finished' AND e.stage = 'downloaded' AND e.at >= @since`,
      {since: sqlTime(sinceMs)},
    )
    return {episodes: all?.n ?? 0, bytes: all?.b ?? 0, recent_episodes: recent?.n ?? 0, recent_bytes: recent?.b ?? 0}
  }

  async outputSizes(): Promise<{transcripts: number; tokens: number}> {
    const row = await this.sql.get<{t: number; k: number}>(
      `SELECT COALESCE(SUM(transcript_size_bytes), 0) AS t, COALESCE(SUM(tokens_size_bytes), 0) AS k FROM jobs`,
    )
    return {transcripts: row?.t ?? 0, tokens: row?.k ?? 0}
  }

  async liveWorkers(sinceMs: number): Promise<WorkerRow[]> {
    return this.sql.all<WorkerRow>(`SELECT * FROM workers WHERE status != 'stopped' AND last_heartbeat >= @since ORDER BY hostname, worker_type, id`, {
      since: sqlTime(sinceMs),
    })
  }

  /** Leases held right now (queue copy refuses to run under them). */
  async liveLeases(nowMs: number): Promise<number> {
    const row = await this.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM jobs WHERE lease_owner IS NOT NULL AND lease_expires_at >= @now`, {
      now: sqlTime(nowMs),
    })
    return row?.n ?? 0
  }
}
