import type {AnimeRecord} from '../../queue/rows.js'
import {cleanJson} from '../../util/text.js'
import {JikanClient, JikanError} from './jikan-client.js'

export type CategoryKind = 'genre' | 'explicit_genre' | 'theme' | 'demographic' | 'studio'

export interface Category {
  kind: CategoryKind
  id: number
  name: string
  /** anime count the API reports */
  count: number
}

/** An anime item of a search, kept as the API sends it after validation. */
export interface AnimeItem {
  mal_id: number
  title: string
  title_english: string | null
  title_japanese: string | null
  title_synonyms: string[]
  type: string | null
  episodes: number | null
  status: string | null
  aired: {from: string | null; to: string | null}
  season: string | null
  year: number | null
  genres: {mal_id: number; name: string}[]
  explicit_genres: {mal_id: number; name: string}[]
  themes: {mal_id: number; name: string}[]
  demographics: {mal_id: number; name: string}[]
  studios: {mal_id: number; name: string}[]
  score: number | null
  scored_by: number | null
  rank: number | null
  popularity: number | null
  source: string | null
  rating: string | null
  duration: string | null
}

function fail(url: string, what: string): never {
  throw new JikanError(`unexpected response: ${what}`, url, 200, false)
}

function list(value: unknown, url: string, field: string): {mal_id: number; name: string}[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) fail(url, `"${field}" is not a list`)
  return value.map((v) => {
    const o = v as {mal_id?: unknown; name?: unknown}
    if (typeof o?.mal_id !== 'number' || typeof o.name !== 'string') fail(url, `an entry of "${field}" has no mal_id/name`)
    return {mal_id: o.mal_id, name: o.name}
  })
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** Check an anime object has what the pipeline needs; name the URL when it does not. */
export function validateAnime(value: unknown, url: string): AnimeItem {
  const a = value as Record<string, unknown>
  if (typeof a !== 'object' || a === null) fail(url, 'an anime is not an object')
  if (typeof a.mal_id !== 'number') fail(url, 'an anime has no numeric "mal_id"')
  if (typeof a.title !== 'string' || a.title === '') fail(url, `anime ${a.mal_id} has no "title"`)
  if (a.episodes !== null && a.episodes !== undefined && typeof a.episodes !== 'number') fail(url, `anime ${a.mal_id} has a non-numeric "episodes"`)
  const aired = (a.aired ?? {}) as {from?: unknown; to?: unknown}
  return {
    mal_id: a.mal_id,
    title: a.title,
    title_english: str(a.title_english),
    title_japanese: str(a.title_japanese),
    title_synonyms: Array.isArray(a.title_synonyms) ? a.title_synonyms.filter((s): s is string => typeof s === 'string') : [],
    type: str(a.type),
    episodes: num(a.episodes),
    status: str(a.status),
    aired: {from: str(aired.from), to: str(aired.to)},
    season: str(a.season),
    year: num(a.year),
    genres: list(a.genres, url, 'genres'),
    explicit_genres: list(a.explicit_genres, url, 'explicit_genres'),
    themes: list(a.themes, url, 'themes'),
    demographics: list(a.demographics, url, 'demographics'),
    studios: list(a.studios, url, 'studios'),
    score: num(a.score),
    scored_by: num(a.scored_by),
    rank: num(a.rank),
    popularity: num(a.popularity),
    source: str(a.source),
    rating: str(a.rating),
    duration: str(a.duration),
  }
}

/** "24 min per ep", "1 hr 52 min", "23 min" -> minutes. */
export function durationMinutes(text: string | null): number | null {
  if (!text) return null
  const h = /(\d+)\s*hr/.exec(text)
  const m = /(\d+)\s*min/.exec(text)
  const s = /(\d+)\s*sec/.exec(text)
  if (!h && !m && !s) return null
  return Number(h?.[1] ?? 0) * 60 + Number(m?.[1] ?? 0) + (s && !m && !h ? 1 : 0)
}

export function toRecord(a: AnimeItem): AnimeRecord {
  return {
    mal_id: a.mal_id,
    title: a.title,
    title_english: a.title_english,
    title_japanese: a.title_japanese,
    title_synonyms: a.title_synonyms,
    type: a.type,
    episodes_total: a.episodes,
    status: a.status,
    aired_from: a.aired.from?.slice(0, 10) ?? null,
    aired_to: a.aired.to?.slice(0, 10) ?? null,
    season: a.season,
    year: a.year,
    genres: a.genres.map((g) => g.name),
    explicit_genres: a.explicit_genres.map((g) => g.name),
    themes: a.themes.map((g) => g.name),
    demographics: a.demographics.map((g) => g.name),
    studios: a.studios.map((g) => g.name),
    score: a.score,
    scored_by: a.scored_by,
    rank: a.rank,
    popularity: a.popularity,
    source: a.source,
    rating: a.rating,
    duration_minutes: durationMinutes(a.duration),
  }
}

const GENRE_FILTERS: Record<Exclude<CategoryKind, 'studio'>, string> = {
  genre: 'genres',
  explicit_genre: 'explicit_genres',
  theme: 'themes',
  demographic: 'demographics',
}

/** Typed, validated reads of the endpoints the scraper needs. */
export class JikanApi {
  constructor(readonly client: JikanClient) {}

  /**
   * A response with every string cleaned where it comes in (util/text.ts cleanText): a NUL in a
   * title would fail every write to PostgreSQL and every read of it, an ESC or a newline would reach
   * terminals and ani-cli. Titles, genres, studios: one line each, control characters gone.
   */
  private async get(path: string, query: Record<string, string | number> = {}): Promise<Record<string, unknown>> {
    return cleanJson(await this.client.get(path, query))
  }

  async genreCategories(kind: Exclude<CategoryKind, 'studio'>): Promise<Category[]> {
    const path = '/genres/anime'
    const query = {filter: GENRE_FILTERS[kind]}
    const body = await this.get(path, query)
    const url = this.client.url(path, query)
    if (!Array.isArray(body.data)) fail(url, '"data" is not a list')
    return body.data.map((g) => {
      const o = g as {mal_id?: unknown; name?: unknown; count?: unknown}
      if (typeof o.mal_id !== 'number' || typeof o.name !== 'string') fail(url, 'a genre has no mal_id/name')
      return {kind, id: o.mal_id, name: o.name, count: num(o.count) ?? 0}
    })
  }

  /** The producers with the most anime (studios among them; the API has no studio-only filter). */
  async topProducers(k: number): Promise<Category[]> {
    const out: Category[] = []
    for (let page = 1; out.length < k; page++) {
      const query = {order_by: 'count', sort: 'desc', page}
      const body = await this.get('/producers', query)
      const url = this.client.url('/producers', query)
      if (!Array.isArray(body.data)) fail(url, '"data" is not a list')
      for (const p of body.data) {
        const o = p as {mal_id?: unknown; titles?: {type?: string; title?: string}[]; count?: unknown}
        if (typeof o.mal_id !== 'number') fail(url, 'a producer has no mal_id')
        const name = o.titles?.find((t) => t.type === 'Default')?.title ?? o.titles?.[0]?.title
        if (!name) fail(url, `producer ${o.mal_id} has no title`)
        if (out.length < k) out.push({kind: 'studio', id: o.mal_id, name, count: num(o.count) ?? 0})
      }
      const pagination = body.pagination as {has_next_page?: boolean} | undefined
      if (!pagination?.has_next_page) break
    }
    return out
  }

  /** One page of an anime search. */
  async searchPage(query: Record<string, string | number>): Promise<{items: AnimeItem[]; hasNext: boolean}> {
    const body = await this.get('/anime', query)
    const url = this.client.url('/anime', query)
    if (!Array.isArray(body.data)) fail(url, '"data" is not a list')
    const pagination = body.pagination as {has_next_page?: unknown} | undefined
    if (typeof pagination?.has_next_page !== 'boolean') fail(url, 'no "pagination.has_next_page"')
    return {items: body.data.map((a) => validateAnime(a, url)), hasNext: pagination.has_next_page}
  }

  async anime(malId: number): Promise<AnimeItem> {
    const path = `/anime/${malId}`
    const body = await this.get(path)
    return validateAnime(body.data, this.client.url(path))
  }

  /** Aired episodes (the list's length) and which of them are recaps. */
  async episodes(malId: number): Promise<{count: number; recaps: Set<number>}> {
    let count = 0
    const recaps = new Set<number>()
    for (let page = 1; ; page++) {
      const path = `/anime/${malId}/episodes`
      const body = await this.get(path, {page})
      const url = this.client.url(path, {page})
      if (!Array.isArray(body.data)) fail(url, '"data" is not a list')
      for (const e of body.data) {
        const o = e as {mal_id?: unknown; recap?: unknown}
        if (typeof o.mal_id !== 'number') fail(url, 'an episode has no mal_id')
        count = Math.max(count, o.mal_id)
        if (o.recap === true) recaps.add(o.mal_id)
      }
      const pagination = body.pagination as {has_next_page?: boolean} | undefined
      if (!pagination?.has_next_page) break
    }
    return {count, recaps}
  }
}
