import type {HallucinationSummary, Segment} from '../../formats/transcript.js'

export interface HallucinationRules {
  /** A line repeated more often than this in a row is flagged (all but its first occurrence). */
  maxRepeats: number
  /** Segments whose mean token probability is below this are flagged (0: never). */
  lowConfidence: number
  /** Stock phrases whisper invents over music and silence (closings, channel plugs). */
  stockPhrases: readonly string[]
}

/** Text compared for repeats: width folded, spaces and punctuation out. */
function key(text: string): string {
  return text.normalize('NFKC').replaceAll(/[\p{P}\p{S}\s]+/gu, '')
}

/**
 * One unit said over and over inside one segment ("ありがとうありがとうありがとう…" six times): a unit
 * of two characters or more, at least six times, making up nearly all of the segment. Laughter,
 * screams and ordinary doubling (はははは, ああああ！, ドキドキドキドキ, ねえねえ、聞いてよ) are speech.
 */
function selfRepeating(text: string): boolean {
  const k = key(text)
  if (k.length < 12) return false
  const m = /^(.*?)((.{2,12}?)\3{5,})(.*)$/u.exec(k)
  if (!m) return false
  // a single character doubled up (はははは) is laughter, not a unit
  return new Set(m[3]).size > 1 && m[2]!.length >= 0.9 * k.length
}

/**
 * Flag whisper's known inventions on anime audio (the segments stay, marked, so the transcript keeps
 * its times; tokenize skips flagged ones): the same line many times in a row, a unit repeated
 * inside a segment, stock closings, and segments of very low token probability.
 */
export function flagHallucinations(segments: Segment[], rules: HallucinationRules): HallucinationSummary {
  const out: HallucinationSummary = {segments: 0, repeated: 0, stock_phrase: 0, low_confidence: 0, share: 0}
  const flag = (s: Segment, why: NonNullable<Segment['hallucination']>) => {
    if (s.hallucinated) return
    s.hallucinated = true
    s.hallucination = why
    out[why]++
    out.segments++
  }
  // runs of the same line
  let i = 0
  while (i < segments.length) {
    let j = i + 1
    const k = key(segments[i]!.text)
    while (j < segments.length && k !== '' && key(segments[j]!.text) === k) j++
    if (j - i > rules.maxRepeats) for (let n = i + 1; n < j; n++) flag(segments[n]!, 'repeated')
    i = j
  }
  const phrases = rules.stockPhrases.map(key).filter(Boolean)
  for (const s of segments) {
    if (selfRepeating(s.text)) flag(s, 'repeated')
    const k = key(s.text)
    if (phrases.some((p) => k.includes(p))) flag(s, 'stock_phrase')
    if (rules.lowConfidence > 0 && s.confidence !== null && s.confidence < rules.lowConfidence) flag(s, 'low_confidence')
  }
  const time = (list: Segment[]) => list.reduce((n, s) => n + Math.max(0.01, s.end - s.start), 0)
  const total = time(segments)
  out.share = total > 0 ? Number((time(segments.filter((s) => s.hallucinated)) / total).toFixed(4)) : 0
  return out
}
