import {hostname} from 'node:os'

import {type Backoff, backoffDelay} from '../util/backoff.js'
import {type Clock, sqlTime, systemClock} from './clock.js'
import {type EventLevel, JOB_COLUMNS, type JobEvent, type JobFields, type JobRow, type NewJob} from './rows.js'
import type {Sql} from './sql.js'
import {isDeadLocalOwner} from './workers.js'
import {type JobStage, type StageDef, inputOf, stagesBefore} from './stages.js'

export type FailOutcome = 'retry' | 'failed' | 'lost'

export interface ClaimOptions {
  stage: StageDef
  owner: string
  count: number
  leaseMs: number
  /** Only this anime (MyAnimeList id). */
  malId?: number | undefined
  /** Only jobs whose video is on this host (a stage bound to local storage). */
  host?: string | undefined
  /** Only jobs whose anime has a selection of one of these confidences (or a manual one): download. */
  selected?: readonly string[] | undefined
}

export interface AnimeClaimOptions extends Omit<ClaimOptions, 'count'> {
  /** Only anime none of whose jobs is still in an earlier stage (analyze without --partial). */
  whole: boolean
}

export interface Recovery {
  recovered: number
  failed: number
  /** One line per job: what recovery did. */
  details: {jobId: number; stage: string; to: string; owner: string; expiries: number; processGone: boolean}[]
}

// "(@x IS NULL OR …)" needs a typed parameter on PostgreSQL: CAST works on both
const CLAIMABLE = `stage = @from AND (run_after IS NULL OR run_after <= @now)
  AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId) AND (CAST(@host AS TEXT) IS NULL OR video_host = @host)`

const ORDER = `ORDER BY priority DESC, created_at, id`

/** The accepted confidences as named parameters (@sel0, @sel1…) for an IN list. */
function confidenceList(selected: readonly string[]): {list: string; params: Record<string, unknown>} {
  const params: Record<string, unknown> = {}
  selected.forEach((c, i) => (params[`sel${i}`] = c))
  return {list: selected.length > 0 ? selected.map((_, i) => `@sel${i}`).join(', ') : 'NULL', params}
}

/** CLAIMABLE, narrowed for download to anime with a usable selection; its parameters. */
function claimable(selected: readonly string[] | undefined): {sql: string; params: Record<string, unknown>} {
  if (!selected) return {sql: CLAIMABLE, params: {}}
  const {list, params} = confidenceList(selected)
  return {
    sql: `${CLAIMABLE} AND EXISTS (SELECT 1 FROM anime_selection_cache s WHERE s.mal_id = jobs.mal_id
      AND (s.confidence IN (${list}) OR (s.method = 'manual' AND s.confidence != 'no_candidates')))`,
    params,
  }
}

function setters(fields: JobFields, prefix: string): {sql: string; params: Record<string, unknown>} {
  const entries = Object.entries(fields).filter(([k]) => (JOB_COLUMNS as readonly string[]).includes(k))
  const params: Record<string, unknown> = {}
  for (const [k, v] of entries) params[`${prefix}${k}`] = v
  return {sql: entries.map(([k]) => `, ${k} = @${prefix}${k}`).join(''), params}
}

function byClaimOrder(a: JobRow, b: JobRow): number {
  return b.priority - a.priority || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0) || a.id - b.id
}

/**
 * The durable job queue: every statement on jobs and job_events. A claim is one statement
 * (PostgreSQL: FOR UPDATE SKIP LOCKED, the stage re-checked outside); finish, fail, release and
 * heartbeats are fenced by the lease owner.
 */
export class JobQueue {
  constructor(
    private readonly sql: Sql,
    readonly clock: Clock = systemClock,
    /** This machine's name in lease owners: a lease of this host whose process is gone is no fault of its job. */
    private readonly host: string = hostname(),
  ) {}

  private now(): string {
    return sqlTime(this.clock.now())
  }

  /** Insert jobs that do not exist yet (anime_id, episode is unique). Returns how many were new. */
  async enqueue(jobs: readonly NewJob[], maxRetries: number): Promise<number> {
    return this.sql.transaction(async (tx) => {
      let added = 0
      for (const job of jobs) {
        const fields = Object.entries(job.fields ?? {}).filter(([k]) => (JOB_COLUMNS as readonly string[]).includes(k))
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
        const row = await tx.get<{id: number}>(
          `INSERT INTO jobs (anime_id, mal_id, anime_title, anime_title_english, episode, stage, priority, year, max_retries, created_at, updated_at${fields.map(([k]) => `, ${k}`).join('')})
           VALUES (@animeId, @malId, @title, @titleEn, @episode, @stage, @priority, @year, @maxRetries, @now, @now${fields.map(([k]) => `, @f_${k}`).join('')})
           ON CONFLICT (anime_id, episode) DO NOTHING RETURNING id`,
          params,
        )
        if (row) {
          await new JobQueue(tx, this.clock).addEvent(row.id, job.stage ?? 'queued', 'enqueued', 'info', null, null)
          added++
        }
      }
      return added
    })
  }

  /** Claim up to `count` jobs of a stage in one statement; they move to the running stage under a lease. */
  async claim(options: ClaimOptions): Promise<JobRow[]> {
    const nowMs = this.clock.now()
    const params = {
      from: options.stage.input,
      to: options.stage.running,
      owner: options.owner,
      now: sqlTime(nowMs),
      expires: sqlTime(nowMs + options.leaseMs),
      count: options.count,
      malId: options.malId ?? null,
      host: options.host ?? null,
    }
    const where = claimable(options.selected)
    Object.assign(params, where.params)
    const set = `stage = @to, lease_owner = @owner, lease_expires_at = @expires, attempts = attempts + 1, started_at = @now, updated_at = @now, progress = 0`
    if (this.sql.dialect === 'postgres') {
      // one statement, one round trip: the pick is materialised once (an IN (… LIMIT n) subquery may
      // be re-run per row and take more than n), its rows locked and skipped by other claimers, the
      // stage re-checked, and the history written with it
      const rows = await this.sql.all<JobRow>(
        `WITH picked AS MATERIALIZED (SELECT id FROM jobs WHERE ${where.sql} ${ORDER} LIMIT @count FOR UPDATE OF jobs SKIP LOCKED),
           claimed AS (UPDATE jobs SET ${set} FROM picked WHERE jobs.id = picked.id AND jobs.stage = @from RETURNING jobs.*),
           history AS (INSERT INTO job_events (job_id, at, stage, event, level, message, worker)
             SELECT id, @now, @to, 'claimed', 'info', 'attempt ' || attempts, @owner FROM claimed)
         SELECT * FROM claimed`,
        params,
      )
      return rows.sort(byClaimOrder)
    }
    return this.sql.transaction(async (tx) => {
      // SQLite serialises writers, so the pick cannot change under the update; a second stage test
      // here would make the planner scan the whole stage instead of looking the ids up
      const rows = await tx.all<JobRow>(`UPDATE jobs SET ${set} WHERE id IN (SELECT id FROM jobs WHERE ${where.sql} ${ORDER} LIMIT @count) RETURNING *`, params)
      await this.claimedEvents(tx, rows, options)
      return rows.sort(byClaimOrder)
    })
  }

  /**
   * Claim every claimable job of one anime (the first in MyAnimeList id order that has any), for
   * stages whose unit is the anime. Serialised across processes, so an anime is never split.
   */
  async claimAnime(options: AnimeClaimOptions): Promise<JobRow[]> {
    const nowMs = this.clock.now()
    const earlier = stagesBefore(options.stage.input)
    const params: Record<string, unknown> = {
      from: options.stage.input,
      to: options.stage.running,
      owner: options.owner,
      now: sqlTime(nowMs),
      expires: sqlTime(nowMs + options.leaseMs),
      malId: options.malId ?? null,
      host: options.host ?? null,
      whole: options.whole ? 1 : 0,
    }
    earlier.forEach((s, i) => (params[`e${i}`] = s))
    const pending = earlier.length > 0 ? earlier.map((_, i) => `@e${i}`).join(', ') : 'NULL'
    return this.sql.transaction(
      async (tx) => {
        const pick = await tx.get<{anime_id: number}>(
          `SELECT j.anime_id FROM jobs j
           WHERE j.stage = @from AND (j.run_after IS NULL OR j.run_after <= @now)
             AND (CAST(@malId AS BIGINT) IS NULL OR j.mal_id = @malId) AND (CAST(@host AS TEXT) IS NULL OR j.video_host = @host)
             AND (@whole = 0 OR NOT EXISTS (SELECT 1 FROM jobs p WHERE p.anime_id = j.anime_id AND p.stage IN (${pending})))
           ORDER BY j.mal_id, j.anime_id LIMIT 1`,
          params,
        )
        if (!pick) return []
        const rows = await tx.all<JobRow>(
          `UPDATE jobs SET stage = @to, lease_owner = @owner, lease_expires_at = @expires,
             attempts = attempts + 1, started_at = @now, updated_at = @now, progress = 0
           WHERE anime_id = @animeId AND ${CLAIMABLE}
           RETURNING *`,
          {...params, animeId: pick.anime_id},
        )
        await this.claimedEvents(tx, rows, options)
        return rows.sort((a, b) => a.episode - b.episode)
      },
      {lock: `claim-anime:${options.stage.name}`},
    )
  }

  private async claimedEvents(tx: Sql, rows: JobRow[], options: {stage: StageDef; owner: string}): Promise<void> {
    const q = new JobQueue(tx, this.clock)
    for (const row of rows) await q.addEvent(row.id, options.stage.running, 'claimed', 'info', `attempt ${row.attempts}`, options.owner)
  }

  /** What claim() would take now, without taking it (--dry-run). */
  async previewClaim(
    stage: StageDef,
    count: number,
    malId?: number,
    host?: string,
    selected?: readonly string[],
    asIfRewoundFrom: readonly JobStage[] = [],
  ): Promise<JobRow[]> {
    const where = claimable(selected)
    // --dry-run --force: the jobs --force would send back first count as waiting in the input stage
    const params: Record<string, unknown> = {...where.params, from: stage.input, now: this.now(), count, malId: malId ?? null, host: host ?? null}
    asIfRewoundFrom.forEach((s, i) => (params[`rw${i}`] = s))
    const sql =
      asIfRewoundFrom.length === 0
        ? where.sql
        : where.sql.replace('stage = @from', `(stage = @from OR (stage IN (${asIfRewoundFrom.map((_, i) => `@rw${i}`).join(', ')}) AND lease_owner IS NULL))`)
    return this.sql.all<JobRow>(`SELECT * FROM jobs WHERE ${sql} ${ORDER} LIMIT @count`, params)
  }

  /** Heartbeat: push the lease further. False when the lease was lost (expired and recovered). */
  async extendLease(jobId: number, owner: string, leaseMs: number, progress?: number): Promise<boolean> {
    const changed = await this.sql.run(
      `UPDATE jobs SET lease_expires_at = @expires, progress = COALESCE(CAST(@progress AS DOUBLE PRECISION), progress), updated_at = @now
       WHERE id = @id AND lease_owner = @owner`,
      {id: jobId, owner, expires: sqlTime(this.clock.now() + leaseMs), now: this.now(), progress: progress ?? null},
    )
    return changed === 1
  }

  /** Fenced finish: only the lease holder moves the job on. False when the lease was lost. */
  async finish(jobId: number, owner: string, stage: StageDef, fields: JobFields = {}, message?: string): Promise<boolean> {
    const set = setters(fields, 'f_')
    const params = {id: jobId, owner, running: stage.running, to: stage.output, now: this.now(), message: message ?? null, ...set.params}
    const update = `UPDATE jobs SET stage = @to, lease_owner = NULL, lease_expires_at = NULL, run_after = NULL, expiries = 0,
           progress = 1, completed_at = @now, updated_at = @now, error_message = NULL${set.sql}
         WHERE id = @id AND lease_owner = @owner AND stage = @running`
    if (this.sql.dialect === 'postgres') {
      // the fenced update and its history line in one statement
      const row = await this.sql.get<{n: number}>(
        `WITH done AS (${update} RETURNING id),
           history AS (INSERT INTO job_events (job_id, at, stage, event, level, message, worker)
             SELECT id, @now, @to, 'finished', 'info', CAST(@message AS TEXT), @owner FROM done)
         SELECT COUNT(*) AS n FROM done`,
        params,
      )
      return row?.n === 1
    }
    return this.sql.transaction(async (tx) => {
      if ((await tx.run(update, params)) !== 1) return false
      await new JobQueue(tx, this.clock).addEvent(jobId, stage.output, 'finished', 'info', message ?? null, owner)
      return true
    })
  }

  /**
   * Fenced failure. Transient errors go back to the input stage after a backoff until max_retries;
   * then, or for a permanent error, the job is 'failed' and remembers the stage it failed in.
   */
  async fail(jobId: number, owner: string, stage: StageDef, error: string, transient: boolean, backoff: Backoff): Promise<FailOutcome> {
    return this.sql.transaction(async (tx): Promise<FailOutcome> => {
      const row = await tx.get<{retry_count: number; max_retries: number}>(
        `SELECT retry_count, max_retries FROM jobs WHERE id = @id AND lease_owner = @owner AND stage = @running ${this.sql.dialect === 'postgres' ? 'FOR UPDATE' : ''}`,
        {id: jobId, owner, running: stage.running},
      )
      if (!row) return 'lost'
      const retry = transient && row.retry_count < row.max_retries
      const nowMs = this.clock.now()
      await tx.run(
        `UPDATE jobs SET stage = @stage, failed_stage = @failedStage, retry_count = retry_count + 1, run_after = @runAfter,
           error_message = @error, lease_owner = NULL, lease_expires_at = NULL, expiries = 0, updated_at = @now
         WHERE id = @id AND lease_owner = @owner`,
        {
          id: jobId,
          owner,
          stage: retry ? stage.input : 'failed',
          failedStage: retry ? null : stage.running,
          runAfter: retry ? sqlTime(nowMs + backoffDelay(row.retry_count + 1, backoff)) : null,
          error,
          now: sqlTime(nowMs),
        },
      )
      const note = retry ? `${error} (retry ${row.retry_count + 1} of ${row.max_retries})` : error
      await new JobQueue(tx, this.clock).addEvent(jobId, retry ? stage.input : 'failed', retry ? 'retry' : 'failed', retry ? 'warn' : 'error', note, owner)
      return retry ? 'retry' : 'failed'
    })
  }

  /**
   * Give a job back unfinished (shutdown): input stage, not a failure, attempt not counted. With
   * `asError` the reason stays as the job's error (a full disk: the job did not fail, the disk did).
   */
  async release(jobId: number, owner: string, stage: StageDef, reason: string, asError = false): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const changed = await tx.run(
        `UPDATE jobs SET stage = @input, lease_owner = NULL, lease_expires_at = NULL, attempts = attempts - 1, updated_at = @now,
           error_message = CASE WHEN @asError = 1 THEN @reason ELSE error_message END
         WHERE id = @id AND lease_owner = @owner AND stage = @running`,
        {id: jobId, owner, input: stage.input, running: stage.running, now: this.now(), reason, asError: asError ? 1 : 0},
      )
      if (changed !== 1) return false
      await new JobQueue(tx, this.clock).addEvent(jobId, stage.input, asError ? 'deferred' : 'released', asError ? 'warn' : 'info', reason, owner)
      return true
    })
  }

  /**
   * Put jobs whose lease expired (their worker died) back to the stage they were claimed from.
   * A job whose lease expired max_retries + 1 times in one stage attempt is failed
   * instead: it hangs or kills its workers. Expiries are counted per stage attempt: finishing a
   * stage, a recorded failure (retry or not), --force and revival start the count again. A lease
   * of this host whose process is gone (kill -9, a reboot, Ctrl-C of cron's shell) is not counted:
   * every job that process held died with it, whatever the job did, so it is no sign of poison.
   */
  async recoverExpired(): Promise<Recovery> {
    const now = this.now()
    return this.sql.transaction(async (tx) => {
      const rows = await tx.all<{id: number; stage: string; expiries: number; max_retries: number; lease_owner: string}>(
        `SELECT id, stage, expiries, max_retries, lease_owner FROM jobs WHERE lease_owner IS NOT NULL AND lease_expires_at < @now ORDER BY id
         ${this.sql.dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : ''}`,
        {now},
      )
      const out: Recovery = {recovered: 0, failed: 0, details: []}
      for (const row of rows) {
        const input = inputOf(row.stage)
        if (!input) continue
        const processGone = isDeadLocalOwner(row.lease_owner, this.host)
        const expiries = processGone ? row.expiries : row.expiries + 1
        const poison = expiries > row.max_retries
        const message = processGone
          ? `lease of ${row.lease_owner} expired: its process is gone (not counted against the job)`
          : `lease of ${row.lease_owner} expired (worker died or hung)`
        await tx.run(
          `UPDATE jobs SET stage = @stage, failed_stage = @failedStage, lease_owner = NULL, lease_expires_at = NULL, expiries = @expiries,
             error_message = CASE WHEN @poison = 1 THEN @message ELSE error_message END, updated_at = @now
           WHERE id = @id AND lease_owner = @owner`,
          {
            id: row.id,
            owner: row.lease_owner,
            stage: poison ? 'failed' : input,
            failedStage: poison ? row.stage : null,
            expiries,
            poison: poison ? 1 : 0,
            message: `${message} ${expiries} times`,
            now,
          },
        )
        await new JobQueue(tx, this.clock).addEvent(
          row.id,
          poison ? 'failed' : input,
          poison ? 'failed' : 'recovered',
          poison ? 'error' : 'warn',
          message,
          null,
        )
        out.details.push({jobId: row.id, stage: row.stage, to: poison ? 'failed' : input, owner: row.lease_owner, expiries, processGone})
        if (poison) out.failed++
        else out.recovered++
      }
      return out
    })
  }

  /** Failed jobs back to the input of the stage they failed in, with a fresh retry budget. */
  async revive(options: {failedStage?: string | undefined; malId?: number | undefined; jobId?: number | undefined} = {}): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.all<{id: number; failed_stage: string | null}>(
        `SELECT id, failed_stage FROM jobs WHERE stage = 'failed'
           AND (CAST(@failedStage AS TEXT) IS NULL OR failed_stage = @failedStage)
           AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId) AND (CAST(@jobId AS BIGINT) IS NULL OR id = @jobId)`,
        {failedStage: options.failedStage ?? null, malId: options.malId ?? null, jobId: options.jobId ?? null},
      )
      let n = 0
      for (const row of rows) {
        const input = inputOf(row.failed_stage ?? '')
        if (!input) continue
        await tx.run(
          `UPDATE jobs SET stage = @input, retry_count = 0, expiries = 0, run_after = NULL, failed_stage = NULL, updated_at = @now WHERE id = @id AND stage = 'failed'`,
          {id: row.id, input, now: this.now()},
        )
        await new JobQueue(tx, this.clock).addEvent(row.id, input, 'revived', 'info', null, null)
        n++
      }
      return n
    })
  }

  /** Move jobs that already passed a stage back to its input (re-run after a change of rules). */
  /**
   * Send the unleased jobs in `fromStages` back to the stage's input: all of them, one anime's
   * (`malId`) or those of a list of anime (`malIds`); each gets an event saying why.
   */
  async rewind(stage: StageDef, fromStages: readonly JobStage[], malId?: number, options: {malIds?: readonly number[]; why?: string} = {}): Promise<number> {
    if (fromStages.length === 0 || options.malIds?.length === 0) return 0
    const params: Record<string, unknown> = {input: stage.input, now: this.now(), malId: malId ?? null}
    fromStages.forEach((s, i) => (params[`s${i}`] = s))
    options.malIds?.forEach((m, i) => (params[`m${i}`] = m))
    const among = options.malIds ? ` AND mal_id IN (${options.malIds.map((_, i) => `@m${i}`).join(', ')})` : ''
    return this.sql.transaction(async (tx) => {
      const rows = await tx.all<{id: number}>(
        `UPDATE jobs SET stage = @input, expiries = 0, updated_at = @now WHERE stage IN (${fromStages.map((_, i) => `@s${i}`).join(', ')}) AND lease_owner IS NULL
           AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId)${among} RETURNING id`,
        params,
      )
      const q = new JobQueue(tx, this.clock)
      for (const row of rows) await q.addEvent(row.id, stage.input, 'rewound', 'info', options.why ?? `for --force ${stage.name}`, null)
      return rows.length
    })
  }

  /** Jobs that --force would send back (for --dry-run --force). */
  async countInStages(stages: readonly JobStage[], malId?: number): Promise<number> {
    if (stages.length === 0) return 0
    const params: Record<string, unknown> = {malId: malId ?? null}
    stages.forEach((s, i) => (params[`s${i}`] = s))
    const row = await this.sql.get<{n: number}>(
      `SELECT COUNT(*) AS n FROM jobs WHERE stage IN (${stages.map((_, i) => `@s${i}`).join(', ')}) AND lease_owner IS NULL AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId)`,
      params,
    )
    return row?.n ?? 0
  }

  async countEligible(stage: StageDef, malId?: number, host?: string, selected?: readonly string[]): Promise<{ready: number; waiting: number}> {
    // the claim condition without its time test: ready now, or waiting in backoff
    const claim = claimable(selected)
    const where = claim.sql.replace('(run_after IS NULL OR run_after <= @now)', '1 = 1')
    const row = await this.sql.get<{ready: number | null; waiting: number | null}>(
      `SELECT SUM(CASE WHEN run_after IS NULL OR run_after <= @now THEN 1 ELSE 0 END) AS ready,
              SUM(CASE WHEN run_after > @now THEN 1 ELSE 0 END) AS waiting
       FROM jobs WHERE ${where}`,
      {...claim.params, from: stage.input, now: this.now(), malId: malId ?? null, host: host ?? null},
    )
    return {ready: row?.ready ?? 0, waiting: row?.waiting ?? 0}
  }

  /**
   * Anime with jobs waiting in `queued` that download may not take yet, by why: no selection, a
   * selection below the accepted confidences, or no candidates at all.
   */
  async waitingForSelection(
    selected: readonly string[],
    malId?: number,
  ): Promise<{anime: number; jobs: number; unselected: number; low_confidence: number; no_candidates: number}> {
    const {list, params} = confidenceList(selected)
    params.malId = malId ?? null
    const rows = await this.sql.all<{why: string; anime: number; jobs: number}>(
      `SELECT why, COUNT(DISTINCT mal_id) AS anime, COUNT(*) AS jobs FROM (
         SELECT j.mal_id, CASE WHEN s.mal_id IS NULL THEN 'unselected' WHEN s.confidence = 'no_candidates' THEN 'no_candidates' ELSE 'low_confidence' END AS why
         FROM jobs j LEFT JOIN anime_selection_cache s ON s.mal_id = j.mal_id
         WHERE j.stage = 'queued' AND (CAST(@malId AS BIGINT) IS NULL OR j.mal_id = @malId)
           AND (s.mal_id IS NULL OR s.confidence = 'no_candidates' OR (s.confidence NOT IN (${list}) AND (s.method IS NULL OR s.method != 'manual')))
       ) w GROUP BY why`,
      params,
    )
    const out = {anime: 0, jobs: 0, unselected: 0, low_confidence: 0, no_candidates: 0}
    for (const r of rows) {
      out.anime += r.anime
      out.jobs += r.jobs
      out[r.why as 'unselected' | 'low_confidence' | 'no_candidates'] = r.anime
    }
    return out
  }

  /**
   * Fail every job of an anime still waiting in a stage's input (the show it was selected as is
   * gone from ani-cli's list): they would all fail the same way. Returns how many.
   */
  async failWaiting(malId: number, stage: StageDef, error: string): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.all<{id: number}>(
        `UPDATE jobs SET stage = 'failed', failed_stage = @running, error_message = @error, run_after = NULL, updated_at = @now
         WHERE mal_id = @malId AND stage = @input AND lease_owner IS NULL RETURNING id`,
        {malId, running: stage.running, input: stage.input, error, now: this.now()},
      )
      const q = new JobQueue(tx, this.clock)
      for (const r of rows) await q.addEvent(r.id, 'failed', 'failed', 'error', error, null)
      return rows.length
    })
  }

  /** Jobs whose imported transcript has this text digest (the same subtitles imported before). */
  async byContentHash(hash: string): Promise<{id: number; mal_id: number | null; anime_title: string; episode: number}[]> {
    return this.sql.all(`SELECT id, mal_id, anime_title, episode FROM jobs WHERE content_hash = @hash ORDER BY id`, {hash})
  }

  /** Sizes of the last episodes downloaded (the latest downloads first), for the disk monitor's expected download size. */
  async recentVideoSizes(limit: number): Promise<number[]> {
    const rows = await this.sql.all<{b: number}>(
      `SELECT j.video_size_bytes AS b FROM job_events e JOIN jobs j ON j.id = e.job_id
       WHERE e.event = 'finished' AND e.stage = 'downloaded' AND j.video_size_bytes IS NOT NULL ORDER BY e.at DESC, e.id DESC LIMIT @limit`,
      {limit},
    )
    return rows.map((r) => r.b)
  }

  /** The earliest time a job waiting in backoff becomes claimable. */
  async nextRunAfter(stage: StageDef, malId?: number): Promise<string | undefined> {
    const row = await this.sql.get<{t: string | null}>(
      `SELECT MIN(run_after) AS t FROM jobs WHERE stage = @from AND run_after > @now AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId)`,
      {from: stage.input, now: this.now(), malId: malId ?? null},
    )
    return row?.t ?? undefined
  }

  /** Episode numbers that have a job, for one anime (by row id) or one MyAnimeList id. */
  async episodesOf(where: {animeId?: number; malId?: number}): Promise<number[]> {
    const rows = await this.sql.all<{episode: number}>(
      `SELECT episode FROM jobs WHERE (CAST(@animeId AS BIGINT) IS NULL OR anime_id = @animeId) AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId) ORDER BY episode`,
      {animeId: where.animeId ?? null, malId: where.malId ?? null},
    )
    return rows.map((r) => r.episode)
  }

  async getJob(jobId: number): Promise<JobRow | undefined> {
    return this.sql.get<JobRow>(`SELECT * FROM jobs WHERE id = @id`, {id: jobId})
  }

  async events(jobId: number): Promise<JobEvent[]> {
    return this.sql.all<JobEvent>(`SELECT * FROM job_events WHERE job_id = @id ORDER BY id`, {id: jobId})
  }

  /** Record a line of a job's history. */
  async addEvent(jobId: number, stage: string, event: string, level: EventLevel, message: string | null, worker: string | null): Promise<void> {
    await this.sql.run(
      `INSERT INTO job_events (job_id, at, stage, event, level, message, worker) VALUES (@jobId, @at, @stage, @event, @level, @message, @worker)`,
      {jobId, at: this.now(), stage, event, level, message, worker},
    )
  }
}
