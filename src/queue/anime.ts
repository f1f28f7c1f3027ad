import type {DB} from './db.js'

/** An anime row as stages write it; list fields are arrays here and JSON text in the table. */
export interface AnimeRecord {
  mal_id: number
  title: string
  title_english?: string | null
  title_japanese?: string | null
  title_synonyms?: string[]
  type?: string | null
  episodes_total?: number | null
  status?: string | null
  aired_from?: string | null
  aired_to?: string | null
  season?: string | null
  year?: number | null
  genres?: string[]
  explicit_genres?: string[]
  themes?: string[]
  demographics?: string[]
  studios?: string[]
  score?: number | null
  scored_by?: number | null
  rank?: number | null
  popularity?: number | null
  source?: string | null
  rating?: string | null
  duration_minutes?: number | null
}

export interface AnimeRow extends Omit<AnimeRecord, 'title_synonyms' | 'genres' | 'explicit_genres' | 'themes' | 'demographics' | 'studios'> {
  id: number
  title_synonyms: string | null
  genres: string | null
  explicit_genres: string | null
  themes: string | null
  demographics: string | null
  studios: string | null
  fetched_at: string
  updated_at: string
}

export type CategoryKind = 'genre' | 'explicit_genre' | 'theme' | 'demographic' | 'studio'

const LIST_FIELDS = ['title_synonyms', 'genres', 'explicit_genres', 'themes', 'demographics', 'studios'] as const
const FIELDS = [
  'title',
  'title_english',
  'title_japanese',
  'title_synonyms',
  'type',
  'episodes_total',
  'status',
  'aired_from',
  'aired_to',
  'season',
  'year',
  'genres',
  'explicit_genres',
  'themes',
  'demographics',
  'studios',
  'score',
  'scored_by',
  'rank',
  'popularity',
  'source',
  'rating',
  'duration_minutes',
] as const

/** Insert or update an anime by MyAnimeList id; returns its row id. */
export function upsertAnime(db: DB, record: AnimeRecord): number {
  const params: Record<string, unknown> = {mal_id: record.mal_id}
  for (const f of FIELDS) {
    const v = (record as unknown as Record<string, unknown>)[f]
    params[f] = (LIST_FIELDS as readonly string[]).includes(f) ? JSON.stringify(v ?? []) : (v ?? null)
  }
  const cols = FIELDS.join(', ')
  const vals = FIELDS.map((f) => `@${f}`).join(', ')
  const sets = FIELDS.map((f) => `${f} = excluded.${f}`).join(', ')
  const row = db
    .prepare(
      `INSERT INTO anime (mal_id, ${cols}) VALUES (@mal_id, ${vals})
       ON CONFLICT (mal_id) DO UPDATE SET ${sets}, fetched_at = CURRENT_TIMESTAMP RETURNING id`,
    )
    .get(params) as {id: number}
  return row.id
}

/** Record that an anime is in a category list (merged, never overwritten; the best rank wins). */
export function addCategory(db: DB, animeId: number, kind: CategoryKind, name: string, rank: number | null, categoryMalId: number | null): void {
  db.prepare(
    `INSERT INTO anime_categories (anime_id, kind, name, category_mal_id, rank) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (anime_id, kind, name) DO UPDATE SET
       rank = CASE WHEN anime_categories.rank IS NULL OR (excluded.rank IS NOT NULL AND excluded.rank < anime_categories.rank) THEN excluded.rank ELSE anime_categories.rank END,
       category_mal_id = COALESCE(excluded.category_mal_id, anime_categories.category_mal_id)`,
  ).run(animeId, kind, name, categoryMalId, rank)
}

/** Set the episode count where the metadata had none. */
export function fillEpisodesTotal(db: DB, animeId: number, episodes: number): void {
  db.prepare(`UPDATE anime SET episodes_total = ? WHERE id = ? AND episodes_total IS NULL`).run(episodes, animeId)
}

export function animeByMalId(db: DB, malId: number): AnimeRow | undefined {
  return db.prepare(`SELECT * FROM anime WHERE mal_id = ?`).get(malId) as AnimeRow | undefined
}

export function animeByTitle(db: DB, title: string): AnimeRow | undefined {
  return db.prepare(`SELECT * FROM anime WHERE title = ? ORDER BY id LIMIT 1`).get(title) as AnimeRow | undefined
}

/** The next id for an anime that has no MyAnimeList entry (imported by title): 1,000,000,000 and up. */
export const LOCAL_ID_BASE = 1_000_000_000
export function nextLocalMalId(db: DB): number {
  const row = db.prepare(`SELECT MAX(mal_id) AS m FROM anime WHERE mal_id >= ?`).get(LOCAL_ID_BASE) as {m: number | null}
  return (row.m ?? LOCAL_ID_BASE) + 1
}

export function parseList(value: string | null | undefined): string[] {
  if (!value) return []
  try {
    const v = JSON.parse(value) as unknown
    return Array.isArray(v) ? v.map(String) : []
  } catch {
    return []
  }
}
