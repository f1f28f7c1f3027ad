import type {Backoff} from '../util/backoff.js'
import {backoffDelay} from '../util/backoff.js'
import {type Clock, sqlTime, systemClock} from './clock.js'
import type {AnimeRow} from './rows.js'
import type {Sql} from './sql.js'

export type Confidence = 'high' | 'medium' | 'low' | 'no_candidates'
export type EpisodeMatch = 'exact' | 'close' | 'acceptable' | 'mismatch' | 'unknown'

/** One line of the list ani-cli printed for a query: `-S idx` takes it. */
export interface Candidate {
  idx: number
  text: string
  episodes: number | null
  /** The search had this one result: ani-cli skipped the anime menu. */
  single: boolean
}

export interface SelectionRow {
  mal_id: number
  anime_title: string
  search_query: string
  selected_index: number
  selected_title: string
  confidence: Confidence
  reason: string | null
  mal_episodes: number | null
  selected_episodes: number | null
  episode_match: EpisodeMatch | null
  method: 'rule' | 'model' | 'manual' | 'none' | null
  model: string | null
  api_calls: number
  cost_usd: number
  created_at: string
  updated_at: string | null
  /** The index ani-cli listed the selected title at before it moved (download found it elsewhere). */
  moved_from_index?: number | null
  /** When download last checked that the index still points at the selected title. */
  index_checked_at?: string | null
}

export type Decision = Omit<SelectionRow, 'created_at' | 'updated_at' | 'moved_from_index' | 'index_checked_at'>

const lockName = (malId: number) => `select:${malId}`

/** anime_selection_cache and what leads to it: candidate lists, attempts, API spending. */
export class SelectionStore {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
  ) {}

  private now(): string {
    return sqlTime(this.clock.now())
  }

  /**
   * Claim the next anime to select (by MyAnimeList id): one with jobs waiting to be downloaded,
   * no selection (or, with `redoBefore`, one made before then and not manual), not in backoff, and
   * not held by another selector. The claim is a lease in run_locks, taken in the same transaction.
   */
  async claim(
    owner: string,
    leaseMs: number,
    options: {malId?: number | undefined; redoBefore?: string | undefined; after?: number},
  ): Promise<AnimeRow | undefined> {
    return this.sql.transaction(
      async (tx) => {
        const now = this.clock.now()
        const row = await tx.get<AnimeRow>(
          `SELECT a.* FROM anime a
           LEFT JOIN anime_selection_cache s ON s.mal_id = a.mal_id
           LEFT JOIN selection_attempts t ON t.mal_id = a.mal_id
           LEFT JOIN run_locks l ON l.name = 'select:' || CAST(a.mal_id AS TEXT)
           WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.anime_id = a.id AND j.stage = 'queued')
             AND (s.mal_id IS NULL OR (CAST(@redoBefore AS ${tx.dialect === 'postgres' ? 'TIMESTAMPTZ' : 'TEXT'}) IS NOT NULL
                  AND s.method != 'manual' AND COALESCE(s.updated_at, s.created_at) < @redoBefore))
             AND (t.run_after IS NULL OR t.run_after <= @now OR CAST(@malId AS BIGINT) IS NOT NULL)
             AND (l.owner IS NULL OR l.expires_at < @now)
             AND (CAST(@malId AS BIGINT) IS NULL OR a.mal_id = @malId) AND a.mal_id > @after
           ORDER BY a.mal_id LIMIT 1`,
          {now: sqlTime(now), malId: options.malId ?? null, redoBefore: options.redoBefore ?? null, after: options.after ?? 0},
        )
        if (!row) return undefined
        await tx.run(
          `INSERT INTO run_locks (name, owner, expires_at, updated_at) VALUES (@name, @owner, @expires, @now)
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
          {name: lockName(row.mal_id), owner, expires: sqlTime(now + leaseMs), now: sqlTime(now)},
        )
        return row
      },
      {lock: 'claim-select'},
    )
  }

  /** Anime that would be claimed, in order (--dry-run). */
  async pending(options: {malId?: number | undefined; limit: number; force: boolean}): Promise<AnimeRow[]> {
    return this.sql.all<AnimeRow>(
      `SELECT a.* FROM anime a LEFT JOIN anime_selection_cache s ON s.mal_id = a.mal_id
       WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.anime_id = a.id AND j.stage = 'queued')
         AND (s.mal_id IS NULL OR (@force = 1 AND s.method != 'manual'))
         AND (CAST(@malId AS BIGINT) IS NULL OR a.mal_id = @malId)
       ORDER BY a.mal_id LIMIT @limit`,
      {malId: options.malId ?? null, limit: options.limit, force: options.force ? 1 : 0},
    )
  }

  async extend(malId: number, owner: string, leaseMs: number): Promise<boolean> {
    const n = await this.sql.run(`UPDATE run_locks SET expires_at = @expires WHERE name = @name AND owner = @owner`, {
      name: lockName(malId),
      owner,
      expires: sqlTime(this.clock.now() + leaseMs),
    })
    return n === 1
  }

  /** Let go of an anime; false when the lease had been lost. */
  async release(malId: number, owner: string): Promise<boolean> {
    return (await this.sql.run(`DELETE FROM run_locks WHERE name = @name AND owner = @owner`, {name: lockName(malId), owner})) === 1
  }

  /** Replace the candidates stored for a query by the list ani-cli printed now. */
  async saveCandidates(malId: number, query: string, candidates: readonly Candidate[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.run(`DELETE FROM anime_candidates WHERE mal_id = @malId AND query = @query`, {malId, query})
      for (const c of candidates) {
        await tx.run(
          `INSERT INTO anime_candidates (mal_id, query, idx, text, episodes, single, listed_at) VALUES (@malId, @query, @idx, @text, @episodes, @single, @now)`,
          {malId, query, idx: c.idx, text: c.text, episodes: c.episodes, single: c.single ? 1 : 0, now: this.now()},
        )
      }
    })
  }

  async candidates(malId: number, query: string): Promise<Candidate[]> {
    const rows = await this.sql.all<Omit<Candidate, 'single'> & {single: number}>(
      `SELECT idx, text, episodes, single FROM anime_candidates WHERE mal_id = @malId AND query = @query ORDER BY idx`,
      {malId, query},
    )
    return rows.map((r) => ({...r, single: r.single === 1}))
  }

  /** The query whose candidates were listed last for an anime. */
  async lastQuery(malId: number): Promise<string | undefined> {
    const row = await this.sql.get<{query: string}>(`SELECT query FROM anime_candidates WHERE mal_id = @malId ORDER BY listed_at DESC, query LIMIT 1`, {malId})
    return row?.query
  }

  /**
   * Store a decision, fenced by the lease when an owner is given (a selector that lost its lease
   * stores nothing). Clears the anime's attempts.
   */
  async record(decision: Decision, owner?: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      if (owner) {
        const held = await tx.get(
          `SELECT 1 AS held FROM run_locks WHERE name = @name AND owner = @owner AND expires_at >= @now ${tx.dialect === 'postgres' ? 'FOR UPDATE' : ''}`,
          {name: lockName(decision.mal_id), owner, now: this.now()},
        )
        if (!held) return false
      }
      const now = this.now()
      const cols = Object.keys(decision)
      await tx.run(
        `INSERT INTO anime_selection_cache (${cols.join(', ')}, created_at, updated_at) VALUES (${cols.map((c) => `@${c}`).join(', ')}, @now, @now)
         ON CONFLICT (mal_id) DO UPDATE SET ${cols
           .filter((c) => c !== 'mal_id')
           .map((c) => `${c} = excluded.${c}`)
           .join(', ')}, updated_at = excluded.updated_at
           WHERE anime_selection_cache.method IS NULL OR anime_selection_cache.method != 'manual' OR excluded.method = 'manual'`,
        {...decision, now},
      )
      await tx.run(`DELETE FROM selection_attempts WHERE mal_id = @malId`, {malId: decision.mal_id})
      return true
    })
  }

  /**
   * Download found the selected title at another index of ani-cli's list (or confirmed it where it
   * was): keep the new index and when it was checked. Fenced on the index it read, so a manual
   * choice made meanwhile is not overwritten.
   */
  async recordIndexCheck(malId: number, readIndex: number, foundIndex: number): Promise<boolean> {
    const n = await this.sql.run(
      `UPDATE anime_selection_cache SET selected_index = @found, index_checked_at = @now,
         moved_from_index = CASE WHEN @moved = 1 THEN @read ELSE moved_from_index END,
         updated_at = CASE WHEN @moved = 1 THEN @now ELSE updated_at END
       WHERE mal_id = @malId AND selected_index = @read`,
      {malId, read: readIndex, found: foundIndex, moved: foundIndex === readIndex ? 0 : 1, now: this.now()},
    )
    return n === 1
  }

  /**
   * Download could not find the selected show at or near its index any more: the selection drops to
   * low confidence (so `select --review` lists it) with why, unless it changed meanwhile.
   */
  async demote(malId: number, readIndex: number, why: string): Promise<boolean> {
    const n = await this.sql.run(
      `UPDATE anime_selection_cache SET confidence = 'low', index_checked_at = @now, updated_at = @now,
         reason = COALESCE(reason, '') || CASE WHEN reason IS NULL OR reason = '' THEN '' ELSE ' | ' END || @why
       WHERE mal_id = @malId AND selected_index = @read`,
      {malId, read: readIndex, why: `download, ${this.now().slice(0, 10)}: ${why}`, now: this.now()},
    )
    return n === 1
  }

  async get(malId: number): Promise<SelectionRow | undefined> {
    return this.sql.get<SelectionRow>(`SELECT * FROM anime_selection_cache WHERE mal_id = @malId`, {malId})
  }

  /** Selections a person should look at: low or medium confidence, episode mismatches, no candidates. */
  async forReview(malId?: number): Promise<SelectionRow[]> {
    return this.sql.all<SelectionRow>(
      `SELECT * FROM anime_selection_cache
       WHERE (confidence IN ('low', 'medium', 'no_candidates') OR episode_match = 'mismatch') AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId)
       ORDER BY confidence, mal_id`,
      {malId: malId ?? null},
    )
  }

  /** An attempt that decided nothing: counted, retried after a backoff. Returns the attempts so far. */
  async recordAttempt(malId: number, error: string, noResults: boolean, backoff: Backoff): Promise<{attempts: number; noResults: number}> {
    return this.sql.transaction(async (tx) => {
      const row = await tx.get<{attempts: number; no_results: number}>(`SELECT attempts, no_results FROM selection_attempts WHERE mal_id = @malId`, {malId})
      const attempts = (row?.attempts ?? 0) + 1
      const noResultsCount = (row?.no_results ?? 0) + (noResults ? 1 : 0)
      const runAfter = sqlTime(this.clock.now() + backoffDelay(attempts, backoff))
      await tx.run(
        `INSERT INTO selection_attempts (mal_id, attempts, no_results, last_error, run_after, updated_at) VALUES (@malId, @attempts, @noResults, @error, @runAfter, @now)
         ON CONFLICT (mal_id) DO UPDATE SET attempts = excluded.attempts, no_results = excluded.no_results, last_error = excluded.last_error,
           run_after = excluded.run_after, updated_at = excluded.updated_at`,
        {malId, attempts, noResults: noResultsCount, error, runAfter, now: this.now()},
      )
      return {attempts, noResults: noResultsCount}
    })
  }

  async attempts(malId: number): Promise<{attempts: number; no_results: number; last_error: string | null; run_after: string | null} | undefined> {
    return this.sql.get(`SELECT attempts, no_results, last_error, run_after FROM selection_attempts WHERE mal_id = @malId`, {malId})
  }

  /** Money spent on a model call, recorded as soon as it is spent (whatever happens next). */
  async recordUsage(malId: number | null, model: string, inputTokens: number, outputTokens: number, costUsd: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO api_usage (at, mal_id, model, input_tokens, output_tokens, cost_usd) VALUES (@now, @malId, @model, @inputTokens, @outputTokens, @costUsd)`,
      {now: this.now(), malId, model, inputTokens, outputTokens, costUsd},
    )
  }

  async spending(): Promise<{calls: number; input_tokens: number; output_tokens: number; cost_usd: number}> {
    const row = await this.sql.get<{calls: number; i: number | null; o: number | null; c: number | null}>(
      `SELECT COUNT(*) AS calls, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cost_usd) AS c FROM api_usage`,
    )
    return {calls: row?.calls ?? 0, input_tokens: row?.i ?? 0, output_tokens: row?.o ?? 0, cost_usd: row?.c ?? 0}
  }

  /** Selections by confidence and by episode match (status). */
  async breakdown(): Promise<{confidence: Record<string, number>; episode_match: Record<string, number>}> {
    const conf = await this.sql.all<{k: string; n: number}>(`SELECT confidence AS k, COUNT(*) AS n FROM anime_selection_cache GROUP BY confidence`)
    const match = await this.sql.all<{k: string | null; n: number}>(
      `SELECT episode_match AS k, COUNT(*) AS n FROM anime_selection_cache GROUP BY episode_match`,
    )
    const confidence: Record<string, number> = {high: 0, medium: 0, low: 0, no_candidates: 0}
    for (const r of conf) confidence[r.k] = r.n
    const episode_match: Record<string, number> = {exact: 0, close: 0, acceptable: 0, mismatch: 0, unknown: 0}
    for (const r of match) episode_match[r.k ?? 'unknown'] = (episode_match[r.k ?? 'unknown'] ?? 0) + r.n
    return {confidence, episode_match}
  }
}
