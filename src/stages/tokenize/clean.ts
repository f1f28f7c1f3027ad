/**
 * Cleaning of subtitle/transcript text before tokenizing: what is not spoken dialogue goes.
 * Each rule can be switched off in config ([tokenize.cleaning]).
 */
export interface CleaningRules {
  normalize_width: boolean
  ruby: boolean
  speaker_labels: boolean
  sound_notes: boolean
  music_marks: boolean
  drop_hallucinated: boolean
}

const OPEN = '（(［\\[【〔'
const CLOSE = '）)］\\]】〕'
const KANA_READING = '[\\p{Script=Hiragana}\\p{Script=Katakana}ー・゛゜]+'
const KANJI_BEFORE = '(?<=[\\p{Script=Han}々〆ヵヶ])'

/** 弱(よえ)え -> 弱え: a kana reading in brackets right after kanji. */
const RUBY = new RegExp(`${KANJI_BEFORE}[（(]${KANA_READING}[）)]`, 'gu')
/** （シン）text at the start of a line: a speaker label (short, no nested brackets) followed by speech. */
const SPEAKER = new RegExp(`^\\s*[${OPEN}][^${OPEN}${CLOSE}\\n]{1,24}[${CLOSE}]\\s*(?=\\S)`, 'gmu')
/** Any remaining bracketed note: （ドアの閉まる音）, (笑), [拍手]. */
const NOTE = new RegExp(`[${OPEN}][^${OPEN}${CLOSE}\\n]*[${CLOSE}]`, 'gu')
/** ♪, ～♪, ♪〜 and friends. */
const MUSIC = /[～〜~]*[♪♫♬♩]+[～〜~]*/gu

/** Full-width letters and digits only: full-width punctuation is what IPADIC knows as 記号, so it stays. */
function fullWidthAlnumToAscii(text: string): string {
  return text.replaceAll(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
}

function halfWidthKatakanaToFull(text: string): string {
  return text.replaceAll(/[\uFF61-\uFF9F]+/g, (run) => run.normalize('NFKC'))
}

/** Clean one line (a segment may hold several, separated by \n). */
/** The width rule alone (full-width letters and digits to ASCII, half-width katakana to full-width). */
export function normalizeWidth(text: string): string {
  return halfWidthKatakanaToFull(fullWidthAlnumToAscii(text))
}

export function cleanText(text: string, rules: CleaningRules): string {
  let t = text
  if (rules.ruby) t = t.replaceAll(RUBY, '')
  if (rules.speaker_labels) t = t.replaceAll(SPEAKER, '')
  if (rules.sound_notes) t = t.replaceAll(NOTE, ' ')
  if (rules.music_marks) t = t.replaceAll(MUSIC, ' ')
  if (rules.normalize_width) t = halfWidthKatakanaToFull(fullWidthAlnumToAscii(t))
  return t
    .split('\n')
    .map((line) => line.replaceAll(/[ \t\u3000]+/g, ' ').trim())
    .filter((line) => line.length > 0)
    .join('\n')
}

export interface SegmentLike {
  text: string
  hallucinated?: boolean
}

/** The lines to tokenize from a transcript's segments. */
export function cleanSegments(segments: readonly SegmentLike[], rules: CleaningRules): string[] {
  return cleanSegmentLines(segments, rules).map((l) => l.text)
}

/** The cleaned lines with the index of the segment each came from (for where a word is said). */
export function cleanSegmentLines(segments: readonly SegmentLike[], rules: CleaningRules): {text: string; segment: number}[] {
  const lines: {text: string; segment: number}[] = []
  segments.forEach((s, segment) => {
    if (rules.drop_hallucinated && s.hallucinated) return
    const cleaned = cleanText(s.text, rules)
    if (cleaned) for (const text of cleaned.split('\n')) lines.push({text, segment})
  })
  return lines
}
