import {existsSync, readFileSync, readdirSync, rmSync} from 'node:fs'

import type {DataPaths} from '../paths.js'
import type {AnimeRecord} from '../queue/rows.js'
import {writeFileAtomic} from '../util/atomic.js'

/** metadata.json per anime (the design's format, plus every stored field). */
export function writeAnimeMetadata(file: string, anime: AnimeRecord, fetchedAt = new Date()): void {
  const doc = {
    mal_id: anime.mal_id,
    title: anime.title,
    title_english: anime.title_english ?? null,
    title_japanese: anime.title_japanese ?? null,
    title_synonyms: anime.title_synonyms ?? [],
    type: anime.type ?? null,
    genres: anime.genres ?? [],
    explicit_genres: anime.explicit_genres ?? [],
    themes: anime.themes ?? [],
    demographics: anime.demographics ?? [],
    studios: anime.studios ?? [],
    score: anime.score ?? null,
    scored_by: anime.scored_by ?? null,
    rank: anime.rank ?? null,
    popularity: anime.popularity ?? null,
    episodes: anime.episodes_total ?? null,
    status: anime.status ?? null,
    aired_from: anime.aired_from ?? null,
    aired_to: anime.aired_to ?? null,
    season: anime.season ?? null,
    year: anime.year ?? null,
    source: anime.source ?? null,
    rating: anime.rating ?? null,
    duration_minutes: anime.duration_minutes ?? null,
    fetched_at: fetchedAt.toISOString(),
  }
  writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`)
}

/**
 * Move metadata files of the older layout (videos/<mal_id>/metadata.json on storage_dir, which
 * `cleanup` empties) to metadata/<mal_id>.json under root_dir. Idempotent; copies across disks.
 */
export function moveLegacyMetadata(paths: DataPaths): number {
  let moved = 0
  let ids: string[]
  try {
    ids = readdirSync(paths.videosRoot)
  } catch {
    return 0
  }
  for (const id of ids) {
    if (!/^\d+$/.test(id)) continue
    const from = paths.legacyMetadataFile(Number(id))
    if (!existsSync(from)) continue
    const to = paths.metadataFile(Number(id))
    if (!existsSync(to)) writeFileAtomic(to, readFileSync(from))
    rmSync(from, {force: true})
    moved++
  }
  return moved
}
