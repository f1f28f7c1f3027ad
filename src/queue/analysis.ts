import {parseList} from './anime.js'
import type {AnalysisCandidate, AnalysisRow, AnalyzedAnime, EpisodeInput} from './rows.js'
import type {Sql} from './sql.js'
import {stagesBefore} from './stages.js'

const PENDING = stagesBefore('tokenized')
  .map((s) => `'${s}'`)
  .join(', ')

/** analysis_results and the reads analyze makes of jobs and anime. */
export class AnalysisStore {
  constructor(private readonly sql: Sql) {}

  /** Anime with episodes waiting for analysis; unless partial, only those with no episode still on its way. */
  async candidates(partial: boolean, malId?: number, asIfForced = false): Promise<AnalysisCandidate[]> {
    // --dry-run --force: as if the complete episodes had been sent back to 'tokenized' first
    const ready = asIfForced ? `j.stage IN ('tokenized', 'complete')` : `j.stage = 'tokenized'`
    return this.sql.all<AnalysisCandidate>(
      `SELECT a.id AS anime_id, a.mal_id, a.title,
         SUM(CASE WHEN ${ready} THEN 1 ELSE 0 END) AS tokenized,
         SUM(CASE WHEN j.stage = 'complete' AND NOT (${ready}) THEN 1 ELSE 0 END) AS complete,
         SUM(CASE WHEN j.stage IN (${PENDING}) THEN 1 ELSE 0 END) AS pending,
         SUM(CASE WHEN j.stage = 'failed' THEN 1 ELSE 0 END) AS failed
       FROM jobs j JOIN anime a ON a.id = j.anime_id
       WHERE (CAST(@malId AS BIGINT) IS NULL OR a.mal_id = @malId)
       GROUP BY a.id, a.mal_id, a.title
       HAVING SUM(CASE WHEN ${ready} THEN 1 ELSE 0 END) > 0 AND (@partial = 1 OR SUM(CASE WHEN j.stage IN (${PENDING}) THEN 1 ELSE 0 END) = 0)
       ORDER BY a.mal_id`,
      {partial: partial ? 1 : 0, malId: malId ?? null},
    )
  }

  /** The pending/complete/failed counts of one anime (for the analysis of a claimed anime). */
  async candidate(animeId: number): Promise<AnalysisCandidate | undefined> {
    return this.sql.get<AnalysisCandidate>(
      `SELECT a.id AS anime_id, a.mal_id, a.title,
         SUM(CASE WHEN j.stage IN ('tokenized', 'analyzing') THEN 1 ELSE 0 END) AS tokenized,
         SUM(CASE WHEN j.stage = 'complete' THEN 1 ELSE 0 END) AS complete,
         SUM(CASE WHEN j.stage IN (${PENDING}) THEN 1 ELSE 0 END) AS pending,
         SUM(CASE WHEN j.stage = 'failed' THEN 1 ELSE 0 END) AS failed
       FROM jobs j JOIN anime a ON a.id = j.anime_id WHERE a.id = @animeId GROUP BY a.id, a.mal_id, a.title`,
      {animeId},
    )
  }

  /** Anime that tokenized episodes are waiting on (for a message when nothing is ready). */
  async blockedAnimeCount(): Promise<number> {
    const row = await this.sql.get<{n: number}>(
      `SELECT COUNT(*) AS n FROM (SELECT anime_id FROM jobs GROUP BY anime_id
         HAVING SUM(CASE WHEN stage = 'tokenized' THEN 1 ELSE 0 END) > 0 AND SUM(CASE WHEN stage IN (${PENDING}) THEN 1 ELSE 0 END) > 0) blocked`,
    )
    return row?.n ?? 0
  }

  /** The episodes an analysis of the anime reads: those this run holds and those already complete. */
  async inputs(animeId: number, owner: string): Promise<EpisodeInput[]> {
    return this.sql.all<EpisodeInput>(
      `SELECT id AS job_id, episode, tokens_path, tokens_size_bytes, word_count, token_count FROM jobs
       WHERE anime_id = @animeId AND (stage = 'complete' OR (stage = 'analyzing' AND lease_owner = @owner))
       ORDER BY episode`,
      {animeId, owner},
    )
  }

  /** MyAnimeList ids of anime with complete jobs (what --force would analyze again). */
  async completeAnime(malId?: number): Promise<number[]> {
    const rows = await this.sql.all<{mal_id: number}>(
      `SELECT DISTINCT a.mal_id FROM jobs j JOIN anime a ON a.id = j.anime_id WHERE j.stage = 'complete' AND (CAST(@m AS BIGINT) IS NULL OR a.mal_id = @m)`,
      {m: malId ?? null},
    )
    return rows.map((r) => r.mal_id)
  }

  /** MyAnimeList ids of complete anime whose latest analysis was made by another analysis version (its signature lacks `prefix`). */
  async outdated(prefix: string, malId?: number): Promise<number[]> {
    const rows = await this.sql.all<{mal_id: number}>(
      `SELECT DISTINCT a.mal_id FROM anime a
       JOIN jobs j ON j.anime_id = a.id AND j.stage = 'complete'
       JOIN analysis_results r ON r.id = (SELECT MAX(r2.id) FROM analysis_results r2 WHERE r2.anime_id = a.id)
       WHERE (r.input_signature IS NULL OR r.input_signature NOT LIKE @pattern) AND (CAST(@m AS BIGINT) IS NULL OR a.mal_id = @m)
       ORDER BY a.mal_id`,
      {pattern: `${prefix}%`, m: malId ?? null},
    )
    return rows.map((r) => r.mal_id)
  }

  async latest(animeId: number): Promise<AnalysisRow | undefined> {
    return this.sql.get<AnalysisRow>(`SELECT * FROM analysis_results WHERE anime_id = @animeId ORDER BY id DESC LIMIT 1`, {animeId})
  }

  async record(row: AnalysisRow): Promise<void> {
    const cols = Object.keys(row)
    await this.sql.run(
      `INSERT INTO analysis_results (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
      row as unknown as Record<string, unknown>,
    )
  }

  /** Every anime with an analysis, with its latest figures (for the aggregates and the report). */
  async analyzedAnime(): Promise<AnalyzedAnime[]> {
    return this.sql.all<AnalyzedAnime>(
      `SELECT a.id AS anime_id, a.mal_id, a.title, r.id AS analysis_id, r.mle_s, r.mle_alpha, r.mle_alpha_se, r.total_words, r.unique_words,
         r.episodes_analyzed, r.partial, r.input_signature
       FROM anime a JOIN analysis_results r ON r.id = (SELECT MAX(id) FROM analysis_results WHERE anime_id = a.id)
       ORDER BY a.mal_id`,
    )
  }

  /** Episodes with a tokens file, in MyAnimeList id and episode order (for `animezipf word`). */
  async tokenizedEpisodes(malId?: number): Promise<{mal_id: number; anime_id: number; anime_title: string; episode: number; tokens_path: string}[]> {
    return this.sql.all(
      `SELECT mal_id, anime_id, anime_title, episode, tokens_path FROM jobs
       WHERE tokens_path IS NOT NULL AND stage IN ('tokenized', 'analyzing', 'complete') AND (CAST(@malId AS BIGINT) IS NULL OR mal_id = @malId)
       ORDER BY mal_id, episode`,
      {malId: malId ?? null},
    )
  }

  /** Genre and studio names per anime: the category lists it came from, and its own metadata lists. */
  async groupMembership(): Promise<{anime_id: number; kind: 'genre' | 'studio'; name: string}[]> {
    const seen = new Set<string>()
    const out: {anime_id: number; kind: 'genre' | 'studio'; name: string}[] = []
    const add = (anime_id: number, kind: 'genre' | 'studio', name: string) => {
      const key = `${anime_id}\u0000${kind}\u0000${name}`
      if (seen.has(key)) return
      seen.add(key)
      out.push({anime_id, kind, name})
    }
    for (const r of await this.sql.all<{anime_id: number; kind: 'genre' | 'studio'; name: string}>(
      `SELECT anime_id, kind, name FROM anime_categories WHERE kind IN ('genre', 'studio')`,
    )) {
      add(r.anime_id, r.kind, r.name)
    }
    for (const r of await this.sql.all<{id: number; genres: string | null; studios: string | null}>(`SELECT id, genres, studios FROM anime`)) {
      for (const g of parseList(r.genres)) add(r.id, 'genre', g)
      for (const s of parseList(r.studios)) add(r.id, 'studio', s)
    }
    return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name) || a.anime_id - b.anime_id)
  }
}
