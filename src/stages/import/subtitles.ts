/** Subtitle cues from SRT, WebVTT, ASS/SSA or plain text. */
import {printable} from '../../util/process.js'
import {stripAssText, stripTimedLine} from './markup.js'

export interface Cue {
  start: number
  end: number
  text: string
}

export type SubtitleFormat = 'srt' | 'vtt' | 'ass' | 'text'

/** A file the importer will not take (too big, too many cues, no usable cue): said, and the file skipped. */
export class RefusedSubtitles extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RefusedSubtitles'
  }
}

export interface ParseLimits {
  /** cues in one file (after duplicates are merged) */
  maxCues: number
  /** characters in one cue's text */
  maxLineChars: number
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {maxCues: 20_000, maxLineChars: 2000}

/** Markup may make a cue's raw text this many times longer than its words (karaoke timing, positions, drawings). */
export const MARKUP_ALLOWANCE = 8
/** Cues before duplicates are merged may outnumber [import] max_cues this many times (layers, shadows). */
export const LAYER_ALLOWANCE = 4
/** No episode is longer: a later time is a typo or hostile. */
export const MAX_HOURS = 99

/** A cue that was left out, and why, by its line in the file (1-based). */
export interface CueProblem {
  line: number
  message: string
}

export interface SubtitleParse {
  cues: Cue[]
  problems: CueProblem[]
}

/** Seconds of a time stamp ([h:]mm:ss[,.]fff, ASS h:mm:ss.cc), or why it is not one. */
export function parseTime(raw: string): {seconds: number} | {why: string} {
  const stamp = raw.trim()
  const shown = stamp === '' ? '(empty)' : printable(stamp.length > 24 ? `${stamp.slice(0, 24)}…` : stamp)
  if (stamp.startsWith('-')) return {why: `negative time ${shown}`}
  // anchored, one way to match: linear even on a line of a million digits
  const m = /^(?:(\d+):)?(\d+):(\d+)[,.](\d+)$/.exec(stamp)
  if (!m) return {why: `not a time: ${shown}`}
  const [, h = '0', mi = '', s = '', frac = ''] = m
  if (h.length > 2 || Number(h) > MAX_HOURS) return {why: `impossible time ${shown} (over ${MAX_HOURS} hours)`}
  if (mi.length > 2 || s.length !== 2 || frac.length > 3 || Number(mi) > 59 || Number(s) > 59) return {why: `impossible time ${shown}`}
  return {seconds: Number(h) * 3600 + Number(mi) * 60 + Number(s) + Number(frac.padEnd(3, '0')) / 1000}
}

/** A cue's start and end, or the reason it is refused. */
function cueTimes(start: string, end: string): {start: number; end: number} | {why: string} {
  const a = parseTime(start)
  if ('why' in a) return {why: `start: ${a.why}`}
  const b = parseTime(end)
  if ('why' in b) return {why: `end: ${b.why}`}
  if (b.seconds < a.seconds) return {why: `end ${printable(end.trim())} before start ${printable(start.trim())}`}
  return {start: a.seconds, end: b.seconds}
}

function lines(text: string): string[] {
  return text.replaceAll('\r\n', '\n').replaceAll('\r', '\n').split('\n')
}

function cleanLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n')
}

/** Counts cues as they are read and refuses a file as soon as it holds more than the limits allow, before any cue's markup is scanned. */
class Budget {
  private raw = 0
  constructor(private readonly limits: ParseLimits) {}

  cue(line: number, rawChars: number): void {
    if (++this.raw > this.limits.maxCues * LAYER_ALLOWANCE)
      throw new RefusedSubtitles(
        `over ${LAYER_ALLOWANCE * this.limits.maxCues} cues by line ${line}, over [import] max_cues (${this.limits.maxCues}) even before repeated cues are merged`,
      )
    if (rawChars > this.limits.maxLineChars * MARKUP_ALLOWANCE) {
      throw new RefusedSubtitles(
        `line ${line}: a cue of ${rawChars} characters with its markup, over ${MARKUP_ALLOWANCE} × [import] max_line_chars (${this.limits.maxLineChars})`,
      )
    }
  }
}

export function detectFormat(fileName: string, text: string): SubtitleFormat {
  const lower = fileName.toLowerCase()
  const head = text.slice(0, 200)
  if (lower.endsWith('.ass') || lower.endsWith('.ssa') || /^\s*\[Script Info\]/i.test(head)) return 'ass'
  if (lower.endsWith('.vtt') || /^\uFEFF?WEBVTT/.test(head)) return 'vtt'
  if (lower.endsWith('.srt') || /^\s*\d+\s*\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->/.test(head)) return 'srt'
  return 'text'
}

/** SRT and WebVTT share the cue shape: optional id line, "start --> end [settings]", text lines; blank lines between. */
function parseTimedBlocks(text: string, vtt: boolean, limits: ParseLimits): SubtitleParse {
  const cues: Cue[] = []
  const problems: CueProblem[] = []
  const budget = new Budget(limits)
  const all = lines(text)
  let i = 0
  while (i < all.length) {
    while (i < all.length && all[i]!.trim() === '') i++
    const first = i
    while (i < all.length && all[i]!.trim() !== '') i++
    if (first === i) break
    if (vtt && /^(?:NOTE|STYLE|REGION)\b/.test(all[first]!.trim())) continue
    let at = first
    while (at < i && !all[at]!.includes('-->')) at++
    if (at === i) continue
    const body = all.slice(at + 1, i)
    budget.cue(
      at + 1,
      body.reduce((n, l) => n + l.length + 1, 0),
    )
    const timing = all[at]!
    const arrow = timing.indexOf('-->')
    const after = timing.slice(arrow + 3).trim()
    const space = after.search(/\s/)
    const times = cueTimes(timing.slice(0, arrow), space < 0 ? after : after.slice(0, space))
    if ('why' in times) {
      problems.push({line: at + 1, message: times.why})
      continue
    }
    const words = cleanLines(body.map((l) => stripTimedLine(l, vtt)).join('\n'))
    if (words) cues.push({...times, text: words})
  }
  return {cues, problems}
}

export function parseSrt(text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): SubtitleParse {
  return parseTimedBlocks(text, false, limits)
}

export function parseVtt(text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): SubtitleParse {
  return parseTimedBlocks(text, true, limits)
}

/** The fields of an ASS Format line that the importer reads, by position; the text field is always the last. */
interface AssFormat {
  start: number
  end: number
  fields: number
}

function assFormat(value: string): AssFormat {
  const names = value.split(',').map((f) => f.trim().toLowerCase())
  return {start: names.indexOf('start'), end: names.indexOf('end'), fields: names.length}
}

/** ASS/SSA: Dialogue lines of [Events], in the order of their Format line; override tags and drawings removed. */
export function parseAss(text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): SubtitleParse {
  const cues: Cue[] = []
  const problems: CueProblem[] = []
  const budget = new Budget(limits)
  let inEvents = false
  let format = assFormat('layer, start, end, style, name, marginl, marginr, marginv, effect, text')
  const all = lines(text)
  for (let n = 0; n < all.length; n++) {
    const line = all[n]!.trim()
    if (line.startsWith('[')) {
      inEvents = line.toLowerCase() === '[events]'
      continue
    }
    if (!inEvents) continue
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'format') {
      format = assFormat(value)
      continue
    }
    if (key !== 'dialogue') continue
    budget.cue(n + 1, value.length)
    // the text field is last and may itself contain commas: split at the first (fields - 1) commas only
    const fields: string[] = []
    let from = 0
    while (fields.length < format.fields - 1) {
      const comma = value.indexOf(',', from)
      if (comma < 0) break
      fields.push(value.slice(from, comma))
      from = comma + 1
    }
    if (format.start < 0 || format.end < 0 || fields.length < format.fields - 1) {
      problems.push({
        line: n + 1,
        message: format.start < 0 || format.end < 0 ? 'the Format line names no Start or End field' : 'a Dialogue line with fewer fields than its Format line',
      })
      continue
    }
    const times = cueTimes(fields[format.start]!, fields[format.end]!)
    if ('why' in times) {
      problems.push({line: n + 1, message: times.why})
      continue
    }
    const words = cleanLines(stripAssText(value.slice(from)))
    if (words) cues.push({...times, text: words})
  }
  cues.sort((a, b) => a.start - b.start || a.end - b.end)
  return {cues, problems}
}

export function parsePlainText(text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): SubtitleParse {
  const cues: Cue[] = []
  const all = lines(text)
  for (let n = 0; n < all.length; n++) {
    const line = all[n]!.trim()
    if (!line) continue
    if (line.length > limits.maxLineChars)
      throw new RefusedSubtitles(`line ${n + 1}: ${line.length} characters, over [import] max_line_chars (${limits.maxLineChars})`)
    if (cues.length >= limits.maxCues) throw new RefusedSubtitles(`over ${limits.maxCues} lines by line ${n + 1}, over [import] max_cues (${limits.maxCues})`)
    cues.push({start: 0, end: 0, text: line})
  }
  return {cues, problems: []}
}

export function parseSubtitles(format: SubtitleFormat, text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): SubtitleParse {
  switch (format) {
    case 'srt':
      return parseSrt(text, limits)
    case 'vtt':
      return parseVtt(text, limits)
    case 'ass':
      return parseAss(text, limits)
    case 'text':
      return parsePlainText(text, limits)
  }
}

/**
 * Merge cues that repeat the same text over overlapping (or touching) times: the duplicates that
 * positioning tricks, karaoke layers and shadows produce. Different lines at the same time stay.
 */
export function mergeDuplicateCues(cues: readonly Cue[], toleranceSeconds = 0.05): Cue[] {
  const out: Cue[] = []
  const open = new Map<string, Cue>()
  for (const cue of [...cues].sort((a, b) => a.start - b.start || a.end - b.end)) {
    const key = cue.text.replaceAll(/\s+/g, '')
    const prev = open.get(key)
    if (prev && cue.start <= prev.end + toleranceSeconds && (cue.start > 0 || cue.end > 0)) {
      prev.end = Math.max(prev.end, cue.end)
      continue
    }
    const copy = {...cue}
    out.push(copy)
    open.set(key, copy)
  }
  return out
}
