import type {WordCount} from '../../formats/frequency-csv.js'
import {type Token, wordOf} from './token.js'

export type {WordCount}

export const PUNCTUATION = /^[\p{P}\p{S}\s]+$/u

export interface Counted {
  rows: WordCount[]
  tokenCount: number
  wordCount: number
}

/** Most frequent first; ties by word then part of speech, so the file is stable. */
export function compareCounts(a: WordCount, b: WordCount): number {
  return b.count - a.count || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0) || (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0)
}

/**
 * Count words per (base form, part of speech). token_count counts every token; word_count leaves
 * out the excluded parts of speech (symbols, punctuation, whitespace). The reading is the one seen
 * where the surface is the base form itself, else the first one seen.
 */
export function countWords(tokens: readonly Token[], excludePos: ReadonlySet<string>): Counted {
  const map = new Map<string, WordCount & {exact: boolean}>()
  let wordCount = 0
  for (const t of tokens) {
    // punctuation the dictionary does not know comes out as an unknown noun: it is still a symbol
    if (excludePos.has(t.pos) || PUNCTUATION.test(t.surface)) continue
    wordCount++
    const word = wordOf(t)
    const key = `${word}\u0000${t.pos}`
    const exact = t.surface === word
    const entry = map.get(key)
    if (entry) {
      entry.count++
      if (exact && !entry.exact) {
        entry.reading = t.reading
        entry.exact = true
      }
    } else map.set(key, {word, count: 1, pos: t.pos, reading: t.reading, exact})
  }
  const rows = [...map.values()].map(({word, count, pos, reading}) => ({word, count, pos, reading})).sort(compareCounts)
  return {rows, tokenCount: tokens.length, wordCount}
}
