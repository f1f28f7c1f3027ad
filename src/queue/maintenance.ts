import {type Clock, sqlTime, systemClock} from './clock.js'
import type {JobRow} from './rows.js'
import type {Params, Sql} from './sql.js'
import type {JobStage} from './stages.js'

/** A failed job as retry sees it. */
export type FailedJob = Pick<
  JobRow,
  | 'id'
  | 'mal_id'
  | 'anime_title'
  | 'episode'
  | 'failed_stage'
  | 'error_message'
  | 'retry_count'
  | 'max_retries'
  | 'expiries'
  | 'video_path'
  | 'video_host'
  | 'video_deleted'
  | 'transcript_path'
  | 'tokens_path'
>

type FileKind = 'video' | 'transcript' | 'tokens'

/** One job's move for `moveJobs`: from the stage it was seen in, clearing what names files that are gone. */
export interface JobMove {
  id: number
  from: JobStage
  to: JobStage
  message: string
  clear?: FileKind[] | undefined
}

/** One job whose media cleanup is about to delete, with the stage it was seen in (for its event). */
export interface MediaDeletion {
  id: number
  stage: JobStage
  video: boolean
  audio: boolean
  message: string
}

/**
 * Jobs per transaction in the set-based updates: enough that round trips stop mattering, few
 * enough that an INSERT of their events (three parameters a job: 1,500) stays far below either
 * engine's limit (SQLite 32,766, PostgreSQL 65,535) and the write lock is held briefly.
 */
export const BATCH = 500

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += BATCH) yield items.slice(i, i + BATCH)
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const g = groups.get(k)
    if (g) g.push(item)
    else groups.set(k, [item])
  }
  return [...groups.values()]
}

/** `@i0, @i1, …` for the ids of `rows`, their values added to `params` (the queue's way of passing a list). */
function idList(rows: readonly {id: number}[], params: Params): string {
  rows.forEach((r, i) => (params[`i${i}`] = r.id))
  return rows.map((_, i) => `@i${i}`).join(', ')
}

/** One job_events row per job, in one INSERT (each job's own stage and message). */
async function insertEvents(tx: Sql, rows: readonly {id: number; stage: JobStage; message: string}[], options: {event: string; now: string}): Promise<void> {
  if (rows.length === 0) return
  const params: Params = {event: options.event, now: options.now}
  const values = rows.map((r, i) => {
    params[`j${i}`] = r.id
    params[`s${i}`] = r.stage
    params[`m${i}`] = r.message
    return `(@j${i}, @now, @s${i}, @event, 'info', @m${i}, NULL)`
  })
  await tx.run(`INSERT INTO job_events (job_id, at, stage, event, level, message, worker) VALUES ${values.join(', ')}`, params)
}

/** Columns cleared when a job goes back before the stage that made a file (the file is gone). */
const CLEAR: Record<FileKind, string> = {
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
  async move(id: number, from: JobStage, to: JobStage, options: {event: string; message: string; resetCount?: boolean; clear?: FileKind[]}): Promise<boolean> {
    const moved = await this.moveJobs([{id, from, to, message: options.message, clear: options.clear}], options)
    return moved.has(id)
  }

  /**
   * `move` for many jobs at once, set-based: per batch of ids one UPDATE for each (from, to, what
   * is cleared) and one INSERT of their events, in one transaction. The ids that moved come back.
   */
  async moveJobs(moves: readonly JobMove[], options: {event: string; resetCount?: boolean}): Promise<Set<number>> {
    const moved = new Set<number>()
    for (const batch of batches(moves)) {
      await this.sql.transaction(async (tx) => {
        const now = this.now()
        const done = new Set<number>()
        for (const group of groupBy(batch, (m) => `${m.from}>${m.to}>${(m.clear ?? []).join(',')}`)) {
          const {from, to, clear} = group[0]!
          const clears = (clear ?? []).map((c) => `, ${CLEAR[c]}`).join('')
          const params: Params = {from, to, now, reset: options.resetCount ? 1 : 0, no: 0}
          const rows = await tx.all<{id: number}>(
            `UPDATE jobs SET stage = @to, failed_stage = NULL, run_after = NULL, expiries = 0, error_message = NULL, updated_at = @now,
               retry_count = CASE WHEN @reset = 1 THEN 0 ELSE retry_count END${clears}
             WHERE id IN (${idList(group, params)}) AND stage = @from AND lease_owner IS NULL RETURNING id`,
            params,
          )
          for (const r of rows) done.add(r.id)
        }
        await insertEvents(
          tx,
          batch.filter((m) => done.has(m.id)).map((m) => ({id: m.id, stage: m.to, message: m.message})),
          {event: options.event, now},
        )
        for (const id of done) moved.add(id)
      })
    }
    return moved
  }

  /** Unleased jobs in some stages, with what cleanup needs to check their files. */
  async unleasedIn(stages: readonly JobStage[]): Promise<JobRow[]> {
    const params: Record<string, unknown> = {}
    stages.forEach((s, i) => (params[`s${i}`] = s))
    return this.sql.all<JobRow>(`SELECT * FROM jobs WHERE stage IN (${stages.map((_, i) => `@s${i}`).join(', ')}) AND lease_owner IS NULL ORDER BY id`, params)
  }

  /** Every job's episode, stage, lease and files (for orphan files): a light row per job. */
  async episodes(): Promise<
    {
      id: number
      mal_id: number | null
      episode: number
      stage: JobStage
      leased: number
      video_path: string | null
      transcript_path: string | null
      tokens_path: string | null
    }[]
  > {
    return this.sql.all(
      `SELECT id, mal_id, episode, stage, CASE WHEN lease_owner IS NOT NULL AND lease_expires_at >= @now THEN 1 ELSE 0 END AS leased, video_path, transcript_path, tokens_path FROM jobs`,
      {now: this.now()},
    )
  }

  /**
   * The media of jobs are about to go (cleanup): recorded first, so the flag never says a file is
   * there when it is not; fenced only on each job still being past transcription. Set-based: per
   * batch of ids one UPDATE for each kind of deletion and one INSERT of the events (the stage each
   * job was seen in), in one transaction. The ids that were marked come back.
   */
  async markMediaDeleted(jobs: readonly MediaDeletion[]): Promise<Set<number>> {
    const marked = new Set<number>()
    for (const batch of batches(jobs)) {
      await this.sql.transaction(async (tx) => {
        const now = this.now()
        const done = new Set<number>()
        for (const group of groupBy(batch, (j) => `${j.video}/${j.audio}`)) {
          const params: Params = {video: group[0]!.video ? 1 : 0, audio: group[0]!.audio ? 1 : 0, yes: 1, now}
          const rows = await tx.all<{id: number}>(
            `UPDATE jobs SET video_deleted = CASE WHEN @video = 1 THEN @yes ELSE video_deleted END, audio_deleted = CASE WHEN @audio = 1 THEN @yes ELSE audio_deleted END, updated_at = @now
             WHERE id IN (${idList(group, params)}) AND stage IN ('transcribed', 'tokenizing', 'tokenized', 'analyzing', 'complete') RETURNING id`,
            params,
          )
          for (const r of rows) done.add(r.id)
        }
        await insertEvents(
          tx,
          batch.filter((j) => done.has(j.id)),
          {event: 'cleanup', now},
        )
        for (const id of done) marked.add(id)
      })
    }
    return marked
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
      await tx.run(`DELETE FROM anime_selection_cache WHERE mal_id = @malId AND confidence = 'no_candidates' AND (method IS NULL OR method != 'manual')`, {
        malId,
      })
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
