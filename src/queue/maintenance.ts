import {type Clock, sqlTime, systemClock} from './clock.js'
import type {JobRow} from './rows.js'
import type {Sql} from './sql.js'
import type {JobStage} from './stages.js'

/** A failed job as retry sees it. */
export type FailedJob = Pick<JobRow, 'id' | 'mal_id' | 'anime_title' | 'episode' | 'failed_stage' | 'error_message' | 'retry_count' | 'max_retries' | 'expiries' | 'video_path' | 'video_host' | 'video_deleted' | 'transcript_path' | 'tokens_path'>

/** Columns cleared when a job goes back before the stage that made a file (the file is gone). */
const CLEAR: Record<'video' | 'transcript' | 'tokens', string> = {
  video: 'video_path = NULL, video_host = NULL, video_size_bytes = NULL, video_deleted = @no',
  transcript: 'transcript_path = NULL, transcript_size_bytes = NULL',
  tokens: 'tokens_path = NULL, tokens_size_bytes = NULL, token_count = NULL, word_count = NULL',
}

/**
 * What retry and cleanup do to jobs: every move fenced on the stage the job was seen in and on
 * nobody holding it, each with a line in the job's history.
 */
export class JobMaintenance {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
  ) {}

  private now(): string {
    return sqlTime(this.clock.now())
  }

  async failedJobs(filter: {failedStage?: string | undefined; malId?: number | undefined; error?: string | undefined}): Promise<FailedJob[]> {
    const rows = await this.sql.all<FailedJob>(
      `SELECT id, mal_id, anime_title, episode, failed_stage, error_message, retry_count, max_retries, expiries, video_path, video_host, video_deleted, transcript_path, tokens_path
       FROM jobs WHERE stage = 'failed'
         AND (CAST(@failedStage AS TEXT) IS NULL OR failed_stage = @failedStage)
         AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId)
       ORDER BY failed_stage, error_message, id`,
      {failedStage: filter.failedStage ?? null, malId: filter.malId ?? null},
    )
    // the error filter is plain text (no LIKE wildcards), any case, in any script
    const needle = filter.error?.toLowerCase()
    return needle === undefined ? rows : rows.filter((r) => (r.error_message ?? '').toLowerCase().includes(needle))
  }

  /** Whether a job exists for an episode (looked up again just before a file of it is removed). */
  async episodeJob(malId: number, episode: number): Promise<{id: number; stage: JobStage; leased: number} | undefined> {
    return this.sql.get(
      `SELECT id, stage, CASE WHEN lease_owner IS NOT NULL AND lease_expires_at >= @now THEN 1 ELSE 0 END AS leased FROM jobs WHERE mal_id = @malId AND episode = @episode`,
      {malId, episode, now: this.now()},
    )
  }

  async hasJobs(): Promise<boolean> {
    return (await this.sql.get(`SELECT 1 AS x FROM jobs LIMIT 1`)) !== undefined
  }

  /**
   * Move an unleased job from one stage to another, clearing what names files that are gone.
   * False when the job was not in `from` any more (or somebody holds it).
   */
  async move(id: number, from: JobStage, to: JobStage, options: {event: string; message: string; resetCount?: boolean; clear?: ('video' | 'transcript' | 'tokens')[]}): Promise<boolean> {
    const clears = (options.clear ?? []).map((c) => `, ${CLEAR[c]}`).join('')
    return this.sql.transaction(async (tx) => {
      const n = await tx.run(
        `UPDATE jobs SET stage = @to, failed_stage = NULL, run_after = NULL, expiries = 0, error_message = NULL, updated_at = @now,
           retry_count = CASE WHEN @reset = 1 THEN 0 ELSE retry_count END${clears}
         WHERE id = @id AND stage = @from AND lease_owner IS NULL`,
        {id, from, to, now: this.now(), reset: options.resetCount ? 1 : 0, no: 0},
      )
      if (n !== 1) return false
      await tx.run(`INSERT INTO job_events (job_id, at, stage, event, level, message, worker) VALUES (@id, @now, @to, @event, 'info', @message, NULL)`, {
        id,
        now: this.now(),
        to,
        event: options.event,
        message: options.message,
      })
      return true
    })
  }

  /** Unleased jobs in some stages, with what cleanup needs to check their files. */
  async unleasedIn(stages: readonly JobStage[]): Promise<JobRow[]> {
    const params: Record<string, unknown> = {}
    stages.forEach((s, i) => (params[`s${i}`] = s))
    return this.sql.all<JobRow>(`SELECT * FROM jobs WHERE stage IN (${stages.map((_, i) => `@s${i}`).join(', ')}) AND lease_owner IS NULL ORDER BY id`, params)
  }

  /** Every job's episode, stage, lease and files (for orphan files): a light row per job. */
  async episodes(): Promise<{id: number; mal_id: number | null; episode: number; stage: JobStage; leased: number; video_path: string | null; transcript_path: string | null; tokens_path: string | null}[]> {
    return this.sql.all(
      `SELECT id, mal_id, episode, stage, CASE WHEN lease_owner IS NOT NULL AND lease_expires_at >= @now THEN 1 ELSE 0 END AS leased, video_path, transcript_path, tokens_path FROM jobs`,
      {now: this.now()},
    )
  }

  /**
   * The media of a job are about to go (cleanup): recorded first, so the flag never says a file
   * is there when it is not; fenced only on the job still being past transcription.
   */
  async markMediaDeleted(id: number, stage: JobStage, video: boolean, audio: boolean, message: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const n = await tx.run(
        `UPDATE jobs SET video_deleted = CASE WHEN @video = 1 THEN @yes ELSE video_deleted END, audio_deleted = CASE WHEN @audio = 1 THEN @yes ELSE audio_deleted END, updated_at = @now
         WHERE id = @id AND stage IN ('transcribed', 'tokenizing', 'tokenized', 'analyzing', 'complete')`,
        {id, video: video ? 1 : 0, audio: audio ? 1 : 0, yes: 1, now: this.now()},
      )
      if (n !== 1) return false
      await tx.run(`INSERT INTO job_events (job_id, at, stage, event, level, message, worker) VALUES (@id, @now, @stage, 'cleanup', 'info', @message, NULL)`, {id, now: this.now(), stage, message})
      return true
    })
  }

  /** Anime whose selection failed (attempts in backoff) or found no candidates: what `retry --stage select` revives. */
  async failedSelections(malId?: number): Promise<{mal_id: number; title: string; why: 'attempts' | 'no_candidates'; detail: string | null}[]> {
    return this.sql.all(
      `SELECT t.mal_id, a.title, 'attempts' AS why, t.last_error AS detail FROM selection_attempts t JOIN anime a ON a.mal_id = t.mal_id
         WHERE CAST(@malId AS BIGINT) IS NULL OR t.mal_id = @malId
       UNION ALL
       SELECT s.mal_id, s.anime_title AS title, 'no_candidates' AS why, s.reason AS detail FROM anime_selection_cache s
         WHERE s.confidence = 'no_candidates' AND (s.method IS NULL OR s.method != 'manual') AND (CAST(@malId AS BIGINT) IS NULL OR s.mal_id = @malId)
       ORDER BY mal_id`,
      {malId: malId ?? null},
    )
  }

  /** Let select try an anime again now: its attempts and a no-candidates verdict are forgotten. */
  async reviveSelection(malId: number): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.run(`DELETE FROM selection_attempts WHERE mal_id = @malId`, {malId})
      await tx.run(`DELETE FROM anime_selection_cache WHERE mal_id = @malId AND confidence = 'no_candidates' AND (method IS NULL OR method != 'manual')`, {malId})
    })
  }

  /** Give the database's free pages back: checkpoint and VACUUM (SQLite), VACUUM ANALYZE (PostgreSQL). */
  async vacuum(): Promise<void> {
    if (this.sql.dialect === 'sqlite') {
      await this.sql.all(`PRAGMA wal_checkpoint(TRUNCATE)`)
      await this.sql.run(`VACUUM`)
      await this.sql.all(`PRAGMA wal_checkpoint(TRUNCATE)`)
    } else {
      await this.sql.run(`VACUUM ANALYZE`)
    }
  }
}
