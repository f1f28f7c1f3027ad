import {frequencyCsv, readFrequencyCsv, type WordCount} from '../../formats/frequency-csv.js'
import {compareCounts} from '../tokenize/frequency.js'

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

  /** The count of every word id (0 for words not present); a view, not a copy. */
  countsById(): Float64Array {
    return this.counts
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
    for (let i = 0; i < this.counts.length; i++)
      if (this.counts[i]! > 0) out.push({word: v.words[i]!, count: this.counts[i]!, pos: v.pos[i]!, reading: v.readings[i]!})
    return out.sort(compareCounts)
  }

  /** The frequency CSV of these counts (or of rows already taken from them, to sort only once). */
  csv(rows = this.rows()): string {
    return frequencyCsv(rows)
  }

  /** Add a frequency CSV; returns the file's own total and number of rows. */
  readCsv(file: string): Promise<{tokens: number; types: number}> {
    return readFrequencyCsv(file, (word, pos, reading, count) => this.add(this.vocabulary.id(word, pos, reading), count))
  }
}
