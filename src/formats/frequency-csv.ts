/**
 * The word-frequency CSV: written per episode by tokenize, per anime, genre, studio and corpus by
 * analyze, and read back by analyze. A header row, then one row per word, each ended by "\n" (the
 * last too); fields quoted the way fast-csv quotes them, so files written before this module was
 * made read back the same and new ones are byte for byte what the old writers made.
 */
import {readFile} from 'node:fs/promises'

import {FormatterOptions} from 'fast-csv'
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
  eachRecord(file, await readFile(file, 'utf8'), (fields, line) => {
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
  if (header) throw new FrequencyCsvError(file, undefined, `empty: no ${HEADER_LINE.trim()} header`)
  return {tokens, types}
}

/**
 * The records of a CSV (RFC 4180: quoted fields may hold commas, doubled quotes and newlines; "\n"
 * or "\r\n" ends a record), each with the line it starts on. Written here rather than taken from
 * fast-csv's parser, which made analyze read its inputs four times slower; the messages of a
 * malformed file are the ones fast-csv gave.
 */
function eachRecord(file: string, text: string, onRecord: (fields: string[], line: number) => void): void {
  const n = text.length
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  const syntax = (at: number, message: string) => new FrequencyCsvError(file, at, message, true)
  while (i < n) {
    const start = line
    const fields: string[] = []
    for (;;) {
      if (text.charCodeAt(i) === 34) {
        // a quoted field: up to the quote that is not doubled
        let j = i + 1
        let value = ''
        for (;;) {
          const q = text.indexOf('"', j)
          if (q === -1) throw syntax(start, `Parse Error: missing closing: '"' in line: at '${text.slice(i, i + 40)}'`)
          value += text.slice(j, q)
          if (text.charCodeAt(q + 1) === 34) {
            value += '"'
            j = q + 2
            continue
          }
          i = q + 1
          break
        }
        for (let k = value.indexOf('\n'); k !== -1; k = value.indexOf('\n', k + 1)) line++
        const next = text[i]
        if (!(next === undefined || next === ',' || next === '\n' || (next === '\r' && text[i + 1] === '\n'))) {
          throw syntax(line, `Parse Error: expected: ',' OR new line got: '${next}'. at '${text.slice(i, i + 40)}'`)
        }
        fields.push(value)
      } else {
        let j = i
        while (j < n) {
          const c = text.charCodeAt(j)
          if (c === 44 || c === 10 || (c === 13 && text.charCodeAt(j + 1) === 10)) break
          j++
        }
        fields.push(text.slice(i, j))
        i = j
      }
      if (text.charCodeAt(i) === 44) {
        i++
        continue
      }
      if (text.charCodeAt(i) === 13) i++
      if (text.charCodeAt(i) === 10) {
        i++
        line++
      }
      break
    }
    // a blank line is no record
    onRecord(fields.length === 1 && fields[0] === '' ? [] : fields, start)
  }
}

function headerProblem(fields: readonly string[]): string | undefined {
  const ok = fields.length === FREQUENCY_CSV_HEADER.length && FREQUENCY_CSV_HEADER.every((name, i) => fields[i] === name)
  return ok ? undefined : `not a frequency CSV: the header is "${preview(fields)}", expected "${HEADER_LINE.trim()}"`
}

const WHOLE_NUMBER = /^[0-9]+$/

/** A blank line (no fields) passes, as it did with the line-based reader this one replaced. */
function rowProblem(fields: readonly string[]): string | undefined {
  if (fields.length === 0) return undefined
  if (fields.length !== FREQUENCY_CSV_HEADER.length)
    return `expected ${FREQUENCY_CSV_HEADER.length} fields (${HEADER_LINE.trim()}), found ${fields.length}: "${preview(fields)}"`
  if (!WHOLE_NUMBER.test(fields[1]!)) return `the count "${fields[1]}" is not a whole number: "${preview(fields)}"`
  return undefined
}

function preview(fields: readonly string[]): string {
  const text = fields.join(',')
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}
