import type {AnimeRecord} from '../queue/anime.js'
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
