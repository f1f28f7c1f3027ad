import type {EpisodeMatch} from '../../queue/selections.js'

const ENTITIES: Record<string, string> = {'&amp;': '&', '&quot;': '"', '&#039;': "'", '&apos;': "'", '&lt;': '<', '&gt;': '>'}

/** Site text as a person reads it: the HTML entities ani-cli leaves in titles decoded. */
export function decodeEntities(text: string): string {
  const char = (code: number, entity: string) => (code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity)
  return text
    .replaceAll(/&#(\d+);/g, (e, n: string) => char(Number(n), e))
    .replaceAll(/&#x([0-9a-f]+);/gi, (e, n: string) => char(Number.parseInt(n, 16), e))
    .replaceAll(/&(amp|quot|#039|apos|lt|gt);/g, (e) => ENTITIES[e] ?? e)
}

/** A title compared loosely: entities decoded, width and case folded, punctuation and spaces dropped. */
export function normalizeTitle(title: string): string {
  return decodeEntities(title)
    .normalize('NFKC')
    .toLowerCase()
    .replaceAll(/[\p{P}\p{S}\s]+/gu, '')
}

/** How a candidate's episode count compares with MyAnimeList's. */
export function episodeMatch(malEpisodes: number | null | undefined, candidate: number | null | undefined): EpisodeMatch {
  if (!malEpisodes || candidate === null || candidate === undefined) return 'unknown'
  const d = Math.abs(malEpisodes - candidate)
  if (d === 0) return 'exact'
  if (d <= 2) return 'close'
  if (d <= 0.2 * malEpisodes) return 'acceptable'
  return 'mismatch'
}
