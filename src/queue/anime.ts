import {UserError} from '../errors.js'
import {type Clock, sqlTime, systemClock} from './clock.js'
import type {AnimeRecord, AnimeRow, CategoryKind} from './rows.js'
import type {Sql} from './sql.js'

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

/** Anime without a MyAnimeList entry (imported by title) get ids from 1,000,000,001 up. */
export const LOCAL_ID_BASE = 1_000_000_000

/**
 * An anime's id as said beside its title: "MAL 5114" for a MyAnimeList id, "imported 1000000001"
 * for a local one (an anime imported by title has no MyAnimeList entry); `long` for pages.
 */
export function animeIdLabel(malId: number | null | undefined, long = false): string {
  if (malId === null || malId === undefined) return long ? 'no id' : '-'
  if (malId > LOCAL_ID_BASE) return long ? `imported (local id ${malId})` : `imported ${malId}`
  return long ? `MyAnimeList id ${malId}` : `MAL ${malId}`
}

function recordParams(record: AnimeRecord): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const f of FIELDS) {
    const v = (record as unknown as Record<string, unknown>)[f]
    params[f] = (LIST_FIELDS as readonly string[]).includes(f) ? JSON.stringify(v ?? []) : (v ?? null)
  }
  return params
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

/** The anime and anime_categories tables. */
export class AnimeStore {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Insert or update an anime by MyAnimeList id; returns its row id. */
  async upsert(record: AnimeRecord): Promise<number> {
    const cols = FIELDS.join(', ')
    const vals = FIELDS.map((f) => `@${f}`).join(', ')
    const sets = FIELDS.map((f) => `${f} = excluded.${f}`).join(', ')
    const row = await this.sql.get<{id: number}>(
      `INSERT INTO anime (mal_id, ${cols}, fetched_at) VALUES (@mal_id, ${vals}, @now)
       ON CONFLICT (mal_id) DO UPDATE SET ${sets}, fetched_at = excluded.fetched_at RETURNING id`,
      {mal_id: record.mal_id, ...recordParams(record), now: sqlTime(this.clock.now())},
    )
    return row!.id
  }

  /**
   * The anime of a title that has no MyAnimeList id: found by title, or inserted with the next
   * local id, in one step that no other process can interleave (two imports at once used to get
   * the same id). Returns the row and whether it was new.
   */
  async findOrCreateLocal(record: Omit<AnimeRecord, 'mal_id'>): Promise<{row: AnimeRow; created: boolean}> {
    return this.sql.transaction(
      async (tx) => {
        const store = new AnimeStore(tx, this.clock)
        const existing = await store.byTitle(record.title)
        if (existing) return {row: existing, created: false}
        const malId = await store.nextLocalMalId()
        await store.upsert({...record, mal_id: malId})
        return {row: (await store.byMalId(malId))!, created: true}
      },
      {lock: 'local-anime-id'},
    )
  }

  /** Record that an anime is in a category list (merged, never overwritten; the best rank wins). */
  async addCategory(animeId: number, kind: CategoryKind, name: string, rank: number | null, categoryMalId: number | null): Promise<void> {
    await this.sql.run(
      `INSERT INTO anime_categories (anime_id, kind, name, category_mal_id, rank) VALUES (@animeId, @kind, @name, @categoryMalId, @rank)
       ON CONFLICT (anime_id, kind, name) DO UPDATE SET
         rank = CASE WHEN anime_categories.rank IS NULL OR (excluded.rank IS NOT NULL AND excluded.rank < anime_categories.rank) THEN excluded.rank ELSE anime_categories.rank END,
         category_mal_id = COALESCE(excluded.category_mal_id, anime_categories.category_mal_id)`,
      {animeId, kind, name, categoryMalId, rank},
    )
  }

  /** Set the episode count where the metadata had none. */
  async fillEpisodesTotal(animeId: number, episodes: number): Promise<void> {
    await this.sql.run(`UPDATE anime SET episodes_total = @episodes WHERE id = @id AND episodes_total IS NULL`, {episodes, id: animeId})
  }

  async byMalId(malId: number): Promise<AnimeRow | undefined> {
    return this.sql.get<AnimeRow>(`SELECT * FROM anime WHERE mal_id = @malId`, {malId})
  }

  async byTitle(title: string): Promise<AnimeRow | undefined> {
    return this.sql.get<AnimeRow>(`SELECT * FROM anime WHERE title = @title ORDER BY id LIMIT 1`, {title})
  }

  /** The id the next local anime would get (shown by --dry-run; the real one is allocated by findOrCreateLocal). */
  async nextLocalMalId(): Promise<number> {
    const row = await this.sql.get<{m: number | null}>(`SELECT MAX(mal_id) AS m FROM anime WHERE mal_id >= @base`, {base: LOCAL_ID_BASE})
    return (row?.m ?? LOCAL_ID_BASE) + 1
  }

  async count(): Promise<number> {
    return (await this.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM anime`))!.n
  }
}

/** `--anime-id` must name an anime of the queue: otherwise one line naming it (exit 2), not an empty run. */
export async function requireAnime(store: AnimeStore, malId: number | undefined): Promise<void> {
  if (malId === undefined) return
  if (!(await store.byMalId(malId))) {
    throw new UserError(
      `no anime with MyAnimeList id ${malId} in the queue`,
      'see `animezipf status` for the anime there, or `animezipf scrape --anime-id ID` to add one',
    )
  }
}
