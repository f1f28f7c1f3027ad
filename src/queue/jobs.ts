import type {Statement} from 'better-sqlite3'

import {Clock, sqlTime, systemClock} from './clock.js'
import type {DB} from './db.js'
import {JobStage, StageDef, inputOf} from './stages.js'

export interface JobRow {
  id: number
  anime_id: number
  anime_title: string
  anime_title_english: string | null
  mal_id: number | null
  episode: number
  stage: JobStage
  priority: number
  created_at: string
  started_at: string | null
  completed_at: string | null
  error_message: string | null
  retry_count: number
  max_retries: number
  attempts: number
  lease_owner: string | null
  lease_expires_at: string | null
  run_after: string | null
  failed_stage: string | null
  transcript_path: string | null
  tokens_path: string | null
  analysis_path: string | null
  transcript_size_bytes: number | null
  tokens_size_bytes: number | null
  word_count: number | null
  token_count: number | null
  duration_seconds: number | null
}

export interface NewJob {
  animeId: number
  malId: number
  animeTitle: string
  animeTitleEnglish?: string | null
  episode: number
  stage?: JobStage
  priority?: number
  year?: number | null
  /** Columns to set on insert, e.g. transcript_path for imported subtitles. */
  fields?: Partial<Record<JobColumn, string | number | null>>
}

/** Columns a stage may set when it finishes a job (a fixed list: never user input in SQL). */
export const JOB_COLUMNS = [
  'video_path',
  'transcript_path',
  'tokens_path',
  'analysis_path',
  'duration_seconds',
  'video_size_bytes',
  'audio_size_bytes',
  'transcript_size_bytes',
  'tokens_size_bytes',
  'word_count',
  'token_count',
  'video_deleted',
  'audio_deleted',
] as const
export type JobColumn = (typeof JOB_COLUMNS)[number]
export type JobFields = Partial<Record<JobColumn, string | number | null>>

export type FailOutcome = 'retry' | 'failed' | 'lost'

export interface ClaimOptions {
  stage: StageDef
  owner: string
  count: number
  leaseMs: number
  /** Only this anime (MyAnimeList id). */
  malId?: number | undefined
}

export interface Backoff {
  baseMs: number
  maxMs: number
  /** 0..1, for tests; Math.random by default. */
  random?: () => number
}

export interface JobEvent {
  id: number
  job_id: number
  at: string
  stage: string
  event: string
  level: string
  message: string | null
  worker: string | null
}

/** Exponential backoff with jitter: between half and all of base * 2^(n-1), capped. */
export function backoffDelay(retry: number, backoff: Backoff): number {
  const exp = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, retry - 1))
  const r = (backoff.random ?? Math.random)()
  return Math.round(exp * (0.5 + r / 2))
}

const CLAIM_SELECT = `SELECT id FROM jobs
  WHERE stage = @from AND (run_after IS NULL OR run_after <= @now) AND (@malId IS NULL OR mal_id = @malId)
  ORDER BY priority DESC, created_at, id
  LIMIT @count`

/**
 * The durable job queue. Every SQL statement on jobs and job_events lives here.
 * Claims are one UPDATE ... RETURNING; finish, fail and release are fenced by the lease owner.
 */
export class Queue {
  private readonly statements = new Map<string, Statement>()

  constructor(
    readonly db: DB,
    readonly clock: Clock = systemClock,
  ) {}

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.statements.set(sql, s)
    }
    return s
  }

  private now(): string {
    return sqlTime(this.clock.now())
  }

  /** Insert jobs that do not exist yet (anime_id, episode is unique). Returns how many were new. */
  enqueue(jobs: readonly NewJob[], maxRetries: number): number {
    const insert = (job: NewJob): number => {
      const fields = Object.entries(job.fields ?? {}).filter(([k]) => (JOB_COLUMNS as readonly string[]).includes(k))
      const cols = fields.map(([k]) => `, ${k}`).join('')
      const vals = fields.map(([k]) => `, @f_${k}`).join('')
      const params: Record<string, unknown> = {
        animeId: job.animeId,
        malId: job.malId,
        title: job.animeTitle,
        titleEn: job.animeTitleEnglish ?? null,
        episode: job.episode,
        stage: job.stage ?? 'queued',
        priority: job.priority ?? 0,
        year: job.year ?? null,
        maxRetries,
        now: this.now(),
      }
      for (const [k, v] of fields) params[`f_${k}`] = v
      const row = this.stmt(
        `INSERT INTO jobs (anime_id, mal_id, anime_title, anime_title_english, episode, stage, priority, year, max_retries, created_at, updated_at${cols})
         VALUES (@animeId, @malId, @title, @titleEn, @episode, @stage, @priority, @year, @maxRetries, @now, @now${vals})
         ON CONFLICT (anime_id, episode) DO NOTHING RETURNING id`,
      ).get(params) as {id: number} | undefined
      if (row) this.addEvent(row.id, job.stage ?? 'queued', 'enqueued', 'info', null, null)
      return row ? 1 : 0
    }
    return this.db.transaction(() => jobs.reduce((n, job) => n + insert(job), 0)).immediate()
  }

  /** Claim up to `count` jobs of a stage in one statement; they move to the running stage under a lease. */
  claim(options: ClaimOptions): JobRow[] {
    const nowMs = this.clock.now()
    const params = {
      from: options.stage.input,
      to: options.stage.running,
      owner: options.owner,
      now: sqlTime(nowMs),
      expires: sqlTime(nowMs + options.leaseMs),
      count: options.count,
      malId: options.malId ?? null,
    }
    return this.db.transaction(() => {
      const rows = this.stmt(
        `UPDATE jobs SET stage = @to, lease_owner = @owner, lease_expires_at = @expires,
           attempts = attempts + 1, started_at = @now, updated_at = @now, progress = 0
         WHERE id IN (${CLAIM_SELECT})
         RETURNING *`,
      ).all(params) as JobRow[]
      for (const row of rows) this.addEvent(row.id, options.stage.running, 'claimed', 'info', `attempt ${row.attempts}`, options.owner)
      return rows.sort((a, b) => b.priority - a.priority || a.created_at.localeCompare(b.created_at) || a.id - b.id)
    }).immediate()
  }

  /** What claim() would take now, without taking it (--dry-run). */
  previewClaim(stage: StageDef, count: number, malId?: number): JobRow[] {
    return this.stmt(`SELECT * FROM jobs WHERE id IN (${CLAIM_SELECT}) ORDER BY priority DESC, created_at, id`).all({
      from: stage.input,
      now: this.now(),
      count,
      malId: malId ?? null,
    }) as JobRow[]
  }

  /** Heartbeat: push the lease further. False when the lease was lost (expired and recovered). */
  extendLease(jobId: number, owner: string, leaseMs: number, progress?: number): boolean {
    const info = this.stmt(
      `UPDATE jobs SET lease_expires_at = @expires, progress = COALESCE(@progress, progress), updated_at = @now
       WHERE id = @id AND lease_owner = @owner`,
    ).run({id: jobId, owner, expires: sqlTime(this.clock.now() + leaseMs), now: this.now(), progress: progress ?? null})
    return info.changes === 1
  }

  /** Fenced finish: only the lease holder moves the job on. False when the lease was lost. */
  finish(jobId: number, owner: string, stage: StageDef, fields: JobFields = {}, message?: string): boolean {
    const entries = Object.entries(fields).filter(([k]) => (JOB_COLUMNS as readonly string[]).includes(k))
    const sets = entries.map(([k]) => `, ${k} = @f_${k}`).join('')
    const params: Record<string, unknown> = {id: jobId, owner, running: stage.running, to: stage.output, now: this.now()}
    for (const [k, v] of entries) params[`f_${k}`] = v
    return this.db.transaction(() => {
      const info = this.stmt(
        `UPDATE jobs SET stage = @to, lease_owner = NULL, lease_expires_at = NULL, run_after = NULL,
           progress = 1, completed_at = @now, updated_at = @now, error_message = NULL${sets}
         WHERE id = @id AND lease_owner = @owner AND stage = @running`,
      ).run(params)
      if (info.changes !== 1) return false
      this.addEvent(jobId, stage.output, 'finished', 'info', message ?? null, owner)
      return true
    }).immediate()
  }

  /**
   * Fenced failure. Transient errors go back to the input stage after a backoff until max_retries;
   * then, or for a permanent error, the job is 'failed' and remembers the stage it failed in.
   */
  fail(jobId: number, owner: string, stage: StageDef, error: string, transient: boolean, backoff: Backoff): FailOutcome {
    return this.db.transaction((): FailOutcome => {
      const row = this.stmt(`SELECT retry_count, max_retries FROM jobs WHERE id = @id AND lease_owner = @owner AND stage = @running`).get({
        id: jobId,
        owner,
        running: stage.running,
      }) as {retry_count: number; max_retries: number} | undefined
      if (!row) return 'lost'
      const retry = transient && row.retry_count < row.max_retries
      const nowMs = this.clock.now()
      this.stmt(
        `UPDATE jobs SET stage = @stage, failed_stage = @failedStage, retry_count = retry_count + 1, run_after = @runAfter,
           error_message = @error, lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
         WHERE id = @id AND lease_owner = @owner`,
      ).run({
        id: jobId,
        owner,
        stage: retry ? stage.input : 'failed',
        failedStage: retry ? null : stage.running,
        runAfter: retry ? sqlTime(nowMs + backoffDelay(row.retry_count + 1, backoff)) : null,
        error,
        now: sqlTime(nowMs),
      })
      const note = retry ? `${error} (retry ${row.retry_count + 1} of ${row.max_retries})` : error
      this.addEvent(jobId, retry ? stage.input : 'failed', retry ? 'retry' : 'failed', retry ? 'warn' : 'error', note, owner)
      return retry ? 'retry' : 'failed'
    }).immediate()
  }

  /** Give a job back unfinished (shutdown): input stage, not a failure, attempt not counted. */
  release(jobId: number, owner: string, stage: StageDef, reason: string): boolean {
    return this.db.transaction(() => {
      const info = this.stmt(
        `UPDATE jobs SET stage = @input, lease_owner = NULL, lease_expires_at = NULL, attempts = attempts - 1, updated_at = @now
         WHERE id = @id AND lease_owner = @owner AND stage = @running`,
      ).run({id: jobId, owner, input: stage.input, running: stage.running, now: this.now()})
      if (info.changes !== 1) return false
      this.addEvent(jobId, stage.input, 'released', 'info', reason, owner)
      return true
    }).immediate()
  }

  /**
   * Put jobs whose lease expired (their worker died) back to the stage they were claimed from.
   * A job whose worker died more than max_retries + 1 times is failed instead: it kills its workers.
   */
  recoverExpired(): {recovered: number; failed: number} {
    const now = this.now()
    return this.db.transaction(() => {
      const rows = this.stmt(
        `SELECT id, stage, attempts, max_retries, lease_owner FROM jobs WHERE lease_owner IS NOT NULL AND lease_expires_at < @now`,
      ).all({now}) as {id: number; stage: string; attempts: number; max_retries: number; lease_owner: string}[]
      let recovered = 0
      let failed = 0
      for (const row of rows) {
        const input = inputOf(row.stage)
        if (!input) continue
        const poison = row.attempts > row.max_retries
        const message = `lease of ${row.lease_owner} expired (worker died or hung)`
        this.stmt(
          `UPDATE jobs SET stage = @stage, failed_stage = @failedStage, lease_owner = NULL, lease_expires_at = NULL,
             error_message = CASE WHEN @poison = 1 THEN @message ELSE error_message END, updated_at = @now
           WHERE id = @id AND lease_owner = @owner`,
        ).run({
          id: row.id,
          owner: row.lease_owner,
          stage: poison ? 'failed' : input,
          failedStage: poison ? row.stage : null,
          poison: poison ? 1 : 0,
          message: `${message} ${row.attempts} times`,
          now,
        })
        this.addEvent(row.id, poison ? 'failed' : input, poison ? 'failed' : 'recovered', poison ? 'error' : 'warn', message, null)
        if (poison) failed++
        else recovered++
      }
      return {recovered, failed}
    }).immediate()
  }

  /** Failed jobs back to the input of the stage they failed in, with a fresh retry budget. */
  revive(options: {failedStage?: string | undefined; malId?: number | undefined; jobId?: number | undefined} = {}): number {
    return this.db.transaction(() => {
      const rows = this.stmt(
        `SELECT id, failed_stage FROM jobs WHERE stage = 'failed'
           AND (@failedStage IS NULL OR failed_stage = @failedStage) AND (@malId IS NULL OR mal_id = @malId) AND (@jobId IS NULL OR id = @jobId)`,
      ).all({failedStage: options.failedStage ?? null, malId: options.malId ?? null, jobId: options.jobId ?? null}) as {
        id: number
        failed_stage: string | null
      }[]
      let n = 0
      for (const row of rows) {
        const input = inputOf(row.failed_stage ?? '')
        if (!input) continue
        this.stmt(
          `UPDATE jobs SET stage = @input, retry_count = 0, run_after = NULL, failed_stage = NULL, updated_at = @now WHERE id = @id AND stage = 'failed'`,
        ).run({id: row.id, input, now: this.now()})
        this.addEvent(row.id, input, 'revived', 'info', null, null)
        n++
      }
      return n
    }).immediate()
  }

  /** Move jobs that already passed a stage back to its input (re-run after a change of rules). */
  rewind(stage: StageDef, fromStages: readonly JobStage[], malId?: number): number {
    if (fromStages.length === 0) return 0
    const placeholders = fromStages.map((_, i) => `@s${i}`).join(', ')
    const params: Record<string, unknown> = {input: stage.input, now: this.now(), malId: malId ?? null}
    fromStages.forEach((s, i) => {
      params[`s${i}`] = s
    })
    return this.db.transaction(() => {
      const rows = this.stmt(
        `UPDATE jobs SET stage = @input, updated_at = @now WHERE stage IN (${placeholders}) AND lease_owner IS NULL
           AND (@malId IS NULL OR mal_id = @malId) RETURNING id`,
      ).all(params) as {id: number}[]
      for (const row of rows) this.addEvent(row.id, stage.input, 'rewound', 'info', `for --force ${stage.name}`, null)
      return rows.length
    }).immediate()
  }

  countEligible(stage: StageDef, malId?: number): {ready: number; waiting: number} {
    const row = this.stmt(
      `SELECT SUM(CASE WHEN run_after IS NULL OR run_after <= @now THEN 1 ELSE 0 END) AS ready,
              SUM(CASE WHEN run_after > @now THEN 1 ELSE 0 END) AS waiting
       FROM jobs WHERE stage = @from AND (@malId IS NULL OR mal_id = @malId)`,
    ).get({from: stage.input, now: this.now(), malId: malId ?? null}) as {ready: number | null; waiting: number | null}
    return {ready: row.ready ?? 0, waiting: row.waiting ?? 0}
  }

  /** The earliest time a job waiting in backoff becomes claimable. */
  nextRunAfter(stage: StageDef, malId?: number): string | undefined {
    const row = this.stmt(
      `SELECT MIN(run_after) AS t FROM jobs WHERE stage = @from AND run_after > @now AND (@malId IS NULL OR mal_id = @malId)`,
    ).get({from: stage.input, now: this.now(), malId: malId ?? null}) as {t: string | null}
    return row.t ?? undefined
  }

  /** Episode numbers that have a job, for one anime (by row id) or one MyAnimeList id. */
  episodesOf(where: {animeId?: number; malId?: number}): number[] {
    return (
      this.stmt(`SELECT episode FROM jobs WHERE (@animeId IS NULL OR anime_id = @animeId) AND (@malId IS NULL OR mal_id = @malId) ORDER BY episode`).all({
        animeId: where.animeId ?? null,
        malId: where.malId ?? null,
      }) as {episode: number}[]
    ).map((r) => r.episode)
  }

  getJob(jobId: number): JobRow | undefined {
    return this.stmt(`SELECT * FROM jobs WHERE id = ?`).get(jobId) as JobRow | undefined
  }

  events(jobId: number): JobEvent[] {
    return this.stmt(`SELECT * FROM job_events WHERE job_id = ? ORDER BY id`).all(jobId) as JobEvent[]
  }

  /** Record a line of a job's history. */
  addEvent(jobId: number, stage: string, event: string, level: 'debug' | 'info' | 'warn' | 'error', message: string | null, worker: string | null): void {
    this.stmt(
      `INSERT INTO job_events (job_id, at, stage, event, level, message, worker) VALUES (@jobId, @at, @stage, @event, @level, @message, @worker)`,
    ).run({jobId, at: this.now(), stage, event, level, message, worker})
  }
}
