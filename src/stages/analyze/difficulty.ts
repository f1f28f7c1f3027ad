import type {CountVector} from './freq-table.js'

export const DIFFICULTY_SHARES = ['90', '95', '98'] as const
export type DifficultyShare = (typeof DIFFICULTY_SHARES)[number]

/** One anime's words as ids of the corpus vocabulary with their counts. */
export interface AnimeWords {
  ids: Int32Array
  counts: Float64Array
  total: number
}

/**
 * The corpus rank of every word id (1 = the most frequent), ties broken as the frequency lists
 * sort them (word, then part of speech), so ranks here are the rows of all_anime_freq.csv.
 */
export function corpusRanks(global: CountVector): Int32Array {
  const v = global.vocabulary
  const counts = global.countsById()
  const ids: number[] = []
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) ids.push(i)
  ids.sort(
    (a, b) =>
      counts[b]! - counts[a]! ||
      (v.words[a]! < v.words[b]! ? -1 : v.words[a]! > v.words[b]! ? 1 : 0) ||
      (v.pos[a]! < v.pos[b]! ? -1 : v.pos[a]! > v.pos[b]! ? 1 : 0),
  )
  const rank = new Int32Array(v.size)
  ids.forEach((id, i) => (rank[id] = i + 1))
  return rank
}

/**
 * How many of the corpus's most frequent words a viewer must know to understand a share of an
 * anime's words (what frequency decks for learners are built on): the anime's words taken in
 * corpus-rank order until their counts reach 90/95/98% of its words; the answer is the corpus rank
 * reached.
 */
export function wordsToKnow(words: AnimeWords, rank: Int32Array): Record<DifficultyShare, number | null> {
  const order = Array.from(words.ids.keys()).sort((a, b) => rank[words.ids[a]!]! - rank[words.ids[b]!]!)
  // an anime without words has no answer
  const out = Object.fromEntries(DIFFICULTY_SHARES.map((p) => [p, null])) as Record<DifficultyShare, number | null>
  if (!(words.total > 0)) return out
  let covered = 0
  let next = 0
  for (const i of order) {
    covered += words.counts[i]!
    while (next < DIFFICULTY_SHARES.length && covered >= (Number(DIFFICULTY_SHARES[next]) / 100) * words.total - 1e-9) {
      out[DIFFICULTY_SHARES[next]!] = rank[words.ids[i]!]!
      next++
    }
    if (next === DIFFICULTY_SHARES.length) break
  }
  return out
}
