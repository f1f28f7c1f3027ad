/**
 * The word-frequency CSV: written per episode by tokenize, per anime, genre, studio and corpus by
 * analyze, and read back by analyze. A header row, then one row per word, each ended by "\n" (the
 * last too); fields quoted the way fast-csv quotes them, so files written before this module was
 * made read back the same and new ones are byte for byte what the old writers made.
 */
import {createReadStream} from 'node:fs'
import {Transform} from 'node:stream'

import {FormatterOptions, parse} from 'fast-csv'
// fast-csv's own field quoting, without its stream: a stream write per row costs three times the
// formatting itself, and CountVector.csv() must stay synchronous. fast-csv pins this package to its
// own version, so the path moves only with a fast-csv upgrade (the tests pin the bytes).
import {FieldFormatter} from '@fast-csv/format/build/src/formatter/index.js'

export const FREQUENCY_CSV_HEADER = ['word', 'count', 'pos', 'reading'] as const

/** One row: a word (base form) with its part of speech, its count and its reading ('*' when unknown). */
export interface WordCount {
  word: string
  count: number
  pos: string
  reading: string
}

const HEADER_LINE = `${FREQUENCY_CSV_HEADER.join(',')}\n`
const QUOTING = new FormatterOptions({})

/** The CSV of rows in the order given (callers sort them: most frequent first). */
export function frequencyCsv(rows: readonly WordCount[]): string {
  const field = new FieldFormatter(QUOTING)
  let out = HEADER_LINE
  // a count is a number, which never needs quoting
  for (const r of rows) out += `${field.format(r.word, 0, false)},${r.count},${field.format(r.pos, 2, false)},${field.format(r.reading, 3, false)}\n`
  return out
}

/** A frequency CSV that cannot be read; the message starts "file:line:" when the line is known. */
export class FrequencyCsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
    /** fast-csv could not split the text into fields (a stray or missing quote). */
    readonly syntax = false,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${problem}`)
    this.name = 'FrequencyCsvError'
  }
}

export type FrequencyRowCallback = (word: string, pos: string, reading: string, count: number) => void

/**
 * Stream a frequency CSV row by row, checking its header and every row. Returns the sum of the
 * counts and the number of rows; rejects with a FrequencyCsvError naming the file and line.
 */
export async function readFrequencyCsv(file: string, onRow: FrequencyRowCallback): Promise<{tokens: number; types: number}> {
  let header = true
  let tokens = 0
  let types = 0
  try {
    await eachRecord(file, false, (fields, line) => {
      const problem = header ? headerProblem(fields) : rowProblem(fields)
      if (problem) throw new FrequencyCsvError(file, line, problem)
      if (header) header = false
      else if (fields.length > 0) {
        const count = Number(fields[1])
        onRow(fields[0]!, fields[2]!, fields[3]!, count)
        tokens += count
        types++
      }
    })
  } catch (error) {
    if (error instanceof FrequencyCsvError && error.syntax) throw await locateSyntaxError(error)
    throw error
  }
  if (header) throw new FrequencyCsvError(file, undefined, `empty: no ${HEADER_LINE.trim()} header`)
  return {tokens, types}
}

/**
 * fast-csv splits a whole chunk of the file before it hands out any of its rows, so a syntax error
 * is first known only to within a chunk. Fed one line at a time it is exact; that is slower, so it
 * is done only to report the error.
 */
async function locateSyntaxError(first: FrequencyCsvError): Promise<FrequencyCsvError> {
  try {
    await eachRecord(first.file, true, () => {})
  } catch (error) {
    if (error instanceof FrequencyCsvError && error.syntax) return error
  }
  return first
}

/** The records of a CSV as fast-csv splits them, each with the line it starts on (quoted newlines make a record span lines). */
function eachRecord(file: string, lineAtATime: boolean, onRecord: (fields: string[], line: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const source = createReadStream(file, {encoding: 'utf8'})
    const split = lineAtATime ? lines() : undefined
    const records = parse<string[], string[]>()
    const text = split ? source.pipe(split) : source
    text.pipe(records)
    let line = 1
    let settled = false
    const settle = (error?: unknown): void => {
      if (settled) return
      settled = true
      source.destroy()
      split?.destroy()
      records.destroy()
      if (error === undefined) resolve()
      else reject(error)
    }
    source.on('error', settle)
    records.on('error', (error) => settle(new FrequencyCsvError(file, line, error.message, true)))
    records.on('data', (fields: string[]) => {
      if (settled) return
      const at = line
      line += 1 + newlines(fields)
      try {
        onRecord(fields, at)
      } catch (error) {
        settle(error)
      }
    })
    records.on('end', () => settle())
  })
}

/** Re-chunk text so that each chunk is one line, "\n" included. */
function lines(): Transform {
  let rest = ''
  return new Transform({
    readableObjectMode: true,
    decodeStrings: false,
    transform(chunk: string, _encoding, done) {
      const text = rest + chunk
      let start = 0
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        this.push(text.slice(start, end + 1))
        start = end + 1
      }
      rest = text.slice(start)
      done()
    },
    flush(done) {
      if (rest) this.push(rest)
      done()
    },
  })
}

function newlines(fields: readonly string[]): number {
  let n = 0
  for (const f of fields) for (let i = f.indexOf('\n'); i !== -1; i = f.indexOf('\n', i + 1)) n++
  return n
}

function headerProblem(fields: readonly string[]): string | undefined {
  const ok = fields.length === FREQUENCY_CSV_HEADER.length && FREQUENCY_CSV_HEADER.every((name, i) => fields[i] === name)
  return ok ? undefined : `not a frequency CSV: the header is "${preview(fields)}", expected "${HEADER_LINE.trim()}"`
}

const WHOLE_NUMBER = /^[0-9]+$/

/** A blank line (no fields) passes, as it did with the line-based reader this one replaced. */
function rowProblem(fields: readonly string[]): string | undefined {
  if (fields.length === 0) return undefined
  if (fields.length !== FREQUENCY_CSV_HEADER.length) return `expected ${FREQUENCY_CSV_HEADER.length} fields (${HEADER_LINE.trim()}), found ${fields.length}: "${preview(fields)}"`
  if (!WHOLE_NUMBER.test(fields[1]!)) return `the count "${fields[1]}" is not a whole number: "${preview(fields)}"`
  return undefined
}

function preview(fields: readonly string[]): string {
  const text = fields.join(',')
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}
