import {parseList} from './anime.js'
import type {DB} from './db.js'

export interface AnalysisCandidate {
  anime_id: number
  mal_id: number
  title: string
  tokenized: number
  complete: number
  pending: number
  failed: number
}

export interface EpisodeInput {
  job_id: number
  episode: number
  tokens_path: string | null
  tokens_size_bytes: number | null
  word_count: number | null
  token_count: number | null
}

export interface AnalysisRow {
  anime_id: number
  zipf_alpha: number | null
  zipf_constant: number | null
  r_squared: number | null
  total_words: number | null
  unique_words: number | null
  vocabulary_richness: number | null
  top_10_words: string | null
  top_50_words: string | null
  episodes_analyzed: number | null
  partial: number | null
  rank_range: string | null
  mle_alpha: number | null
  mle_s: number | null
  mle_alpha_se: number | null
  mle_xmin: number | null
  mle_n_tail: number | null
  ks_d: number | null
  bootstrap_p: number | null
  lognormal_r: number | null
  lognormal_p: number | null
  zm_s: number | null
  zm_b: number | null
  heaps_k: number | null
  heaps_beta: number | null
  coverage: string | null
  hapax_share: number | null
  total_tokens: number | null
  input_signature: string | null
}

const PENDING = `'queued', 'downloading', 'downloaded', 'transcribing', 'transcribed', 'tokenizing'`

/** Anime with episodes waiting for analysis; unless partial, only those with no episode still on its way. */
export function analysisCandidates(db: DB, partial: boolean, malId?: number): AnalysisCandidate[] {
  return db
    .prepare(
      `SELECT a.id AS anime_id, a.mal_id, a.title,
         SUM(CASE WHEN j.stage = 'tokenized' THEN 1 ELSE 0 END) AS tokenized,
         SUM(CASE WHEN j.stage = 'complete' THEN 1 ELSE 0 END) AS complete,
         SUM(CASE WHEN j.stage IN (${PENDING}) THEN 1 ELSE 0 END) AS pending,
         SUM(CASE WHEN j.stage = 'failed' THEN 1 ELSE 0 END) AS failed
       FROM jobs j JOIN anime a ON a.id = j.anime_id
       WHERE (@malId IS NULL OR a.mal_id = @malId)
       GROUP BY a.id
       HAVING SUM(CASE WHEN j.stage = 'tokenized' THEN 1 ELSE 0 END) > 0 AND (@partial = 1 OR SUM(CASE WHEN j.stage IN (${PENDING}) THEN 1 ELSE 0 END) = 0)
       ORDER BY a.mal_id`,
    )
    .all({partial: partial ? 1 : 0, malId: malId ?? null}) as AnalysisCandidate[]
}

/** Anime that tokenized episodes are waiting on (for a message when nothing is ready). */
export function blockedAnimeCount(db: DB): number {
  return (
    db
      .prepare(
        `SELECT COUNT(*) AS n FROM (SELECT anime_id FROM jobs GROUP BY anime_id
           HAVING SUM(CASE WHEN stage = 'tokenized' THEN 1 ELSE 0 END) > 0 AND SUM(CASE WHEN stage IN (${PENDING}) THEN 1 ELSE 0 END) > 0)`,
      )
      .get() as {n: number}
  ).n
}

/** The episodes an analysis of the anime reads: those this run holds and those already complete. */
export function analysisInputs(db: DB, animeId: number, owner: string): EpisodeInput[] {
  return db
    .prepare(
      `SELECT id AS job_id, episode, tokens_path, tokens_size_bytes, word_count, token_count FROM jobs
       WHERE anime_id = @animeId AND (stage = 'complete' OR (stage = 'analyzing' AND lease_owner = @owner))
       ORDER BY episode`,
    )
    .all({animeId, owner}) as EpisodeInput[]
}

/** MyAnimeList ids of anime with complete jobs (what --force would analyze again). */
export function completeAnime(db: DB, malId?: number): number[] {
  return (
    db.prepare(`SELECT DISTINCT a.mal_id FROM jobs j JOIN anime a ON a.id = j.anime_id WHERE j.stage = 'complete' AND (@m IS NULL OR a.mal_id = @m)`).all({m: malId ?? null}) as {
      mal_id: number
    }[]
  ).map((r) => r.mal_id)
}

export function hasAnalyses(db: DB): boolean {
  return db.prepare(`SELECT 1 FROM analysis_results LIMIT 1`).get() !== undefined
}

export function latestAnalysis(db: DB, animeId: number): AnalysisRow | undefined {
  return db.prepare(`SELECT * FROM analysis_results WHERE anime_id = ? ORDER BY id DESC LIMIT 1`).get(animeId) as AnalysisRow | undefined
}

export function recordAnalysis(db: DB, row: AnalysisRow): void {
  const cols = Object.keys(row)
  db.prepare(`INSERT INTO analysis_results (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row)
}

export interface AnalyzedAnime {
  anime_id: number
  mal_id: number
  title: string
  mle_s: number | null
  mle_alpha: number | null
  mle_alpha_se: number | null
  total_words: number | null
  unique_words: number | null
  episodes_analyzed: number | null
  partial: number | null
}

/** Every anime with an analysis, with its latest figures (for the aggregates and the report). */
export function analyzedAnime(db: DB): AnalyzedAnime[] {
  return db
    .prepare(
      `SELECT a.id AS anime_id, a.mal_id, a.title, r.mle_s, r.mle_alpha, r.mle_alpha_se, r.total_words, r.unique_words, r.episodes_analyzed, r.partial
       FROM anime a JOIN analysis_results r ON r.id = (SELECT MAX(id) FROM analysis_results WHERE anime_id = a.id)
       ORDER BY a.mal_id`,
    )
    .all() as AnalyzedAnime[]
}

/** Genre and studio names per anime: the category lists it came from, and its own metadata lists. */
export function groupMembership(db: DB): {anime_id: number; kind: 'genre' | 'studio'; name: string}[] {
  const seen = new Set<string>()
  const out: {anime_id: number; kind: 'genre' | 'studio'; name: string}[] = []
  const add = (anime_id: number, kind: 'genre' | 'studio', name: string) => {
    const key = `${anime_id}\u0000${kind}\u0000${name}`
    if (seen.has(key)) return
    seen.add(key)
    out.push({anime_id, kind, name})
  }
  for (const r of db.prepare(`SELECT anime_id, kind, name FROM anime_categories WHERE kind IN ('genre', 'studio')`).all() as {anime_id: number; kind: 'genre' | 'studio'; name: string}[]) {
    add(r.anime_id, r.kind, r.name)
  }
  for (const r of db.prepare(`SELECT id, genres, studios FROM anime`).all() as {id: number; genres: string | null; studios: string | null}[]) {
    for (const g of parseList(r.genres)) add(r.id, 'genre', g)
    for (const s of parseList(r.studios)) add(r.id, 'studio', s)
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name) || a.anime_id - b.anime_id)
}
