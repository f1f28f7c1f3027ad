import {RefusedSubtitles} from './subtitles.js'

/** Decode a subtitle file's bytes: BOM first, then strict UTF-8, then Shift-JIS, then EUC-JP. */
export function decodeSubtitle(data: Buffer): {text: string; encoding: string} {
  if (data.length >= 2 && data[0] === 0xff && data[1] === 0xfe) return {text: new TextDecoder('utf-16le').decode(data.subarray(2)), encoding: 'utf-16le'}
  if (data.length >= 2 && data[0] === 0xfe && data[1] === 0xff) return {text: new TextDecoder('utf-16be').decode(data.subarray(2)), encoding: 'utf-16be'}
  if (data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) return {text: data.subarray(3).toString('utf8'), encoding: 'utf-8'}
  // UTF-16 without a BOM: many zero bytes in alternate positions
  const sample = data.subarray(0, 2000)
  let evenZeros = 0
  let oddZeros = 0
  for (let i = 0; i < sample.length; i++)
    if (sample[i] === 0) {
      if (i % 2 === 0) evenZeros++
      else oddZeros++
    }
  if (oddZeros > sample.length / 8) return {text: new TextDecoder('utf-16le').decode(data), encoding: 'utf-16le'}
  if (evenZeros > sample.length / 8) return {text: new TextDecoder('utf-16be').decode(data), encoding: 'utf-16be'}
  try {
    return {text: new TextDecoder('utf-8', {fatal: true}).decode(data), encoding: 'utf-8'}
  } catch {
    // not UTF-8
  }
  // EUC-JP bytes are often valid Shift-JIS too (as half-width katakana and odd kanji): when both
  // decode, keep the reading with more ordinary Japanese in it
  const readings: {text: string; encoding: string}[] = []
  for (const encoding of ['shift_jis', 'euc-jp']) {
    try {
      readings.push({text: new TextDecoder(encoding, {fatal: true}).decode(data), encoding})
    } catch {
      // not this one
    }
  }
  if (readings.length > 0) return readings.sort((a, b) => plausibility(b.text) - plausibility(a.text))[0]!
  throw new RefusedSubtitles('unknown text encoding (not UTF-8, UTF-16, Shift-JIS or EUC-JP); convert it to UTF-8, e.g. with iconv')
}

/** How Japanese a decoding reads: hiragana count for, half-width katakana (a mis-decoding's mark) against. */
function plausibility(text: string): number {
  const hiragana = countOf(text, /[^\p{Script=Hiragana}]/gu)
  const halfwidth = countOf(text, /[^\uFF61-\uFF9F]/g)
  return hiragana - 2 * halfwidth
}

/** True when the text holds Japanese (kana or kanji) at all. */
export function hasJapanese(text: string): boolean {
  return /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(text)
}

/** The share (0..1) of a text's letters that are kana or kanji. */
export function japaneseShare(text: string): number {
  const letters = countOf(text, /\P{L}/gu)
  if (letters === 0) return 0
  const japanese = countOf(text, /[^\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/gu)
  return japanese / letters
}

/**
 * How many characters of a text are of a kind, given the pattern of one character NOT of it: what
 * is left once those are removed (one string, not an array of a match per character, which made a
 * file of one long line cost more per KB the longer it was). Counted in UTF-16 units.
 */
function countOf(text: string, others: RegExp): number {
  return text.replaceAll(others, '').length
}
