import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'

import {compareCounts, type WordCount} from '../tokenize/frequency.js'

/** Quote a CSV field when it needs it (RFC 4180), as fast-csv does for the episode files. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

/** Split one CSV line (RFC 4180 quoting). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',')
  const out: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      out.push(field)
      field = ''
    } else field += c
  }
  out.push(field)
  return out
}

/** Stream the rows of a word,count,pos,reading CSV; returns the file's total and its number of rows. */
export async function readFreqCsv(file: string, onRow: (word: string, pos: string, reading: string, count: number) => void): Promise<{tokens: number; types: number}> {
  const lines = createInterface({input: createReadStream(file, {encoding: 'utf8'}), crlfDelay: Infinity})
  let header = true
  let tokens = 0
  let types = 0
  for await (const line of lines) {
    if (header) {
      header = false
      if (!line.startsWith('word,count')) throw new Error(`${file}: not a frequency CSV (header is "${line.slice(0, 40)}")`)
      continue
    }
    if (!line) continue
    const [word, count, pos, reading] = splitCsvLine(line)
    const n = Number(count)
    if (word === undefined || !Number.isFinite(n)) throw new Error(`${file}: bad row "${line.slice(0, 60)}"`)
    onRow(word, pos ?? '', reading ?? '', n)
    tokens += n
    types++
  }
  return {tokens, types}
}

/** Distinct words (word + part of speech) of a whole corpus, each with a small integer id. */
export class Vocabulary {
  private readonly ids = new Map<string, number>()
  readonly words: string[] = []
  readonly pos: string[] = []
  readonly readings: string[] = []

  id(word: string, pos: string, reading: string): number {
    const key = `${word}\u0000${pos}`
    let id = this.ids.get(key)
    if (id === undefined) {
      id = this.words.length
      this.ids.set(key, id)
      this.words.push(word)
      this.pos.push(pos)
      this.readings.push(reading)
    }
    return id
  }

  get size(): number {
    return this.words.length
  }
}

/**
 * Counts over a shared vocabulary: one number per distinct word of the corpus, so a genre or studio
 * costs eight bytes a word however many anime it holds.
 */
export class CountVector {
  private counts = new Float64Array(1024)
  total = 0
  size = 0

  constructor(readonly vocabulary: Vocabulary) {}

  add(id: number, n: number): void {
    if (id >= this.counts.length) {
      const grown = new Float64Array(Math.max(id + 1, this.counts.length * 2))
      grown.set(this.counts)
      this.counts = grown
    }
    if (this.counts[id] === 0) this.size++
    this.counts[id]! += n
    this.total += n
  }

  /** Counts of the words present, unsorted. */
  values(): number[] {
    const out: number[] = []
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) out.push(this.counts[i]!)
    return out
  }

  rows(): WordCount[] {
    const v = this.vocabulary
    const out: WordCount[] = []
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) out.push({word: v.words[i]!, count: this.counts[i]!, pos: v.pos[i]!, reading: v.readings[i]!})
    return out.sort(compareCounts)
  }

  csv(rows = this.rows()): string {
    return rowsCsv(rows)
  }

  /** Add a word,count,pos,reading CSV; returns the file's own total and number of rows. */
  readCsv(file: string): Promise<{tokens: number; types: number}> {
    return readFreqCsv(file, (word, pos, reading, count) => this.add(this.vocabulary.id(word, pos, reading), count))
  }
}

/** The word,count,pos,reading CSV of rows already sorted. */
export function rowsCsv(rows: readonly WordCount[]): string {
  const lines = ['word,count,pos,reading']
  for (const r of rows) lines.push(`${csvField(r.word)},${r.count},${csvField(r.pos)},${csvField(r.reading)}`)
  return `${lines.join('\n')}\n`
}
