/** Subtitle cues from SRT, WebVTT, ASS/SSA or plain text. */
export interface Cue {
  start: number
  end: number
  text: string
}

export type SubtitleFormat = 'srt' | 'vtt' | 'ass' | 'text'

const TIME = /(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})/

function seconds(stamp: string): number {
  const m = TIME.exec(stamp)
  if (!m) return Number.NaN
  const [, h, mi, s, frac] = m
  return Number(h ?? 0) * 3600 + Number(mi) * 60 + Number(s) + Number(frac!.padEnd(3, '0')) / 1000
}

/** Tags that are markup, not speech: HTML-ish tags and ASS override blocks like {\an8}. */
function stripMarkup(text: string): string {
  return text
    .replaceAll(/\{\\[^}]*\}/g, '')
    .replaceAll(/<\/?[a-zA-Z][^>]*>/g, '')
    .replaceAll(/&(amp|lt|gt|nbsp);/g, (_, e: string) => ({amp: '&', lt: '<', gt: '>', nbsp: ' '})[e] ?? '')
}

function cleanLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n')
}

export function detectFormat(fileName: string, text: string): SubtitleFormat {
  const lower = fileName.toLowerCase()
  if (lower.endsWith('.ass') || lower.endsWith('.ssa') || /^\s*\[Script Info\]/i.test(text)) return 'ass'
  if (lower.endsWith('.vtt') || /^\uFEFF?WEBVTT/.test(text)) return 'vtt'
  if (lower.endsWith('.srt') || /^\s*\d+\s*\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->/.test(text)) return 'srt'
  return 'text'
}

/** SRT and WebVTT share the cue shape: optional id line, "start --> end [settings]", text lines. */
function parseTimedBlocks(text: string, vtt: boolean): Cue[] {
  const cues: Cue[] = []
  const blocks = text.replaceAll('\r\n', '\n').replaceAll('\r', '\n').split(/\n\s*\n/)
  for (const block of blocks) {
    const lines = block.split('\n')
    const at = lines.findIndex((l) => l.includes('-->'))
    if (at < 0) continue
    if (vtt && /^(NOTE|STYLE|REGION)\b/.test(lines[0]!.trim())) continue
    const [a, b] = lines[at]!.split('-->')
    const start = seconds(a!)
    const end = seconds(b!.trim().split(/\s+/)[0]!)
    if (Number.isNaN(start) || Number.isNaN(end)) continue
    const body = cleanLines(stripMarkup(lines.slice(at + 1).join('\n')))
    if (body) cues.push({start, end, text: body})
  }
  return cues
}

export function parseSrt(text: string): Cue[] {
  return parseTimedBlocks(text, false)
}

export function parseVtt(text: string): Cue[] {
  return parseTimedBlocks(text, true)
}

/** ASS/SSA: Dialogue lines of [Events], in the order of their Format line; override tags and drawings removed. */
export function parseAss(text: string): Cue[] {
  const cues: Cue[] = []
  let inEvents = false
  let format = ['layer', 'start', 'end', 'style', 'name', 'marginl', 'marginr', 'marginv', 'effect', 'text']
  for (const raw of text.replaceAll('\r\n', '\n').split('\n')) {
    const line = raw.trim()
    if (line.startsWith('[')) {
      inEvents = /^\[events\]$/i.test(line)
      continue
    }
    if (!inEvents) continue
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'format') {
      format = value.split(',').map((f) => f.trim().toLowerCase())
      continue
    }
    if (key !== 'dialogue') continue
    // the text field is last and may itself contain commas
    const parts = value.split(',')
    const fields = [...parts.slice(0, format.length - 1), parts.slice(format.length - 1).join(',')]
    const get = (name: string) => fields[format.indexOf(name)] ?? ''
    const start = seconds(get('start'))
    const end = seconds(get('end'))
    if (Number.isNaN(start) || Number.isNaN(end)) continue
    let body = get('text')
    // drawing mode (\p1 ... \p0) carries vector shapes, not words
    body = body.replaceAll(/\{[^}]*\\p[1-9][^}]*\}[^{]*/g, '')
    body = body.replaceAll(/\{[^}]*\}/g, '').replaceAll(/\\[Nn]/g, '\n').replaceAll('\\h', ' ')
    body = cleanLines(body)
    if (body) cues.push({start, end, text: body})
  }
  return cues.sort((a, b) => a.start - b.start || a.end - b.end)
}

export function parsePlainText(text: string): Cue[] {
  return text
    .replaceAll('\r\n', '\n')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => ({start: 0, end: 0, text: line}))
}

export function parseSubtitles(format: SubtitleFormat, text: string): Cue[] {
  switch (format) {
    case 'srt':
      return parseSrt(text)
    case 'vtt':
      return parseVtt(text)
    case 'ass':
      return parseAss(text)
    case 'text':
      return parsePlainText(text)
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
