import {existsSync} from 'node:fs'

import type {DataPaths} from '../../paths.js'
import {readTextFile, writeTextFile} from '../../util/gzip-file.js'
import {PUNCTUATION} from '../tokenize/frequency.js'
import {type Token, wordOf} from '../tokenize/token.js'

/** Vocabulary growth: distinct words after so many counted words. */
export interface GrowthPoint {
  tokens: number
  types: number
}

/** An anime's vocabulary growth on its token stream, and where each word was first said (for the corpus curve). */
export interface AnimeGrowth {
  /** Words counted, as the frequency tables count them (no symbols, no punctuation). */
  total: number
  points: GrowthPoint[]
  /** Each word (base form and part of speech) with the count of words before it was first said, in that order. */
  first_seen: [string, number][]
}

const STEP = 25

/** At most `max` points, spread evenly on a log scale (the fit is in logs), the last one kept. */
export function thin(points: readonly GrowthPoint[], max = 300): GrowthPoint[] {
  if (points.length <= max) return [...points]
  const out: GrowthPoint[] = []
  const first = Math.log(points[0]!.tokens)
  const span = Math.log(points.at(-1)!.tokens) - first
  let next = 0
  for (const p of points) {
    const at = span > 0 ? ((Math.log(p.tokens) - first) / span) * (max - 1) : 0
    if (at >= next) {
      out.push(p)
      next = Math.floor(at) + 1
    }
  }
  if (out.at(-1) !== points.at(-1)) out.push(points.at(-1)!)
  return out
}

/**
 * Heaps' law on the token stream itself: the vocabulary after every 25 words, over the episodes in
 * order, from the tokens files; undefined when an episode has none (imported before tokens files
 * kept their tokens, or removed): the per-episode points are used then.
 */
export function streamGrowth(
  paths: DataPaths,
  malId: number,
  episodes: readonly {episode: number}[],
  excludePos: ReadonlySet<string>,
): AnimeGrowth | undefined {
  const seen = new Map<string, number>()
  const points: GrowthPoint[] = []
  let n = 0
  for (const e of episodes) {
    const file = [paths.tokensFile(malId, e.episode, true), paths.tokensFile(malId, e.episode, false)].find((f) => existsSync(f))
    if (!file) return undefined
    const doc = JSON.parse(readTextFile(file)) as {tokens?: Token[]}
    if (!Array.isArray(doc.tokens)) return undefined
    for (const t of doc.tokens) {
      if (excludePos.has(t.pos) || PUNCTUATION.test(t.surface)) continue
      const key = `${wordOf(t)}\u0000${t.pos}`
      if (!seen.has(key)) seen.set(key, n)
      n++
      if (n % STEP === 0) points.push({tokens: n, types: seen.size})
    }
  }
  if (n === 0) return undefined
  if (points.at(-1)?.tokens !== n) points.push({tokens: n, types: seen.size})
  return {total: n, points: thin(points), first_seen: [...seen.entries()]}
}

export function writeGrowth(file: string, growth: AnimeGrowth): void {
  writeTextFile(file, JSON.stringify(growth))
}

export function readGrowth(file: string): AnimeGrowth | undefined {
  if (!existsSync(file)) return undefined
  return JSON.parse(readTextFile(file)) as AnimeGrowth
}

/**
 * The corpus's vocabulary growth on the concatenated streams of its anime (in the order given),
 * exactly: a word counts as new where it is first said in the first anime that says it.
 */
export function corpusGrowth(anime: readonly AnimeGrowth[]): GrowthPoint[] {
  const seen = new Set<string>()
  const points: GrowthPoint[] = []
  let offset = 0
  for (const a of anime) {
    // the anime's new words, in the order it first says them; between them the vocabulary is flat
    for (const [key, at] of a.first_seen) {
      if (seen.has(key)) continue
      seen.add(key)
      points.push({tokens: offset + at + 1, types: seen.size})
    }
    offset += a.total
    points.push({tokens: offset, types: seen.size})
  }
  // one point per position (the last, after every word new there), increasing
  const byTokens = new Map<number, number>()
  for (const p of points) byTokens.set(p.tokens, Math.max(byTokens.get(p.tokens) ?? 0, p.types))
  return thin([...byTokens.entries()].sort((a, b) => a[0] - b[0]).map(([tokens, types]) => ({tokens, types})))
}
