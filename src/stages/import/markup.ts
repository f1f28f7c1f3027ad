// Markup out of subtitle text in one pass each: scanners, not regular expressions, so that hostile
// input (an unclosed `{\` or `<a` repeated a hundred thousand times) costs time in proportion to
// its length. An unclosed tag or override block runs to the end of its line (or Dialogue text).
// Text on both sides of a removed tag can meet and form a tag of its own (`{{\b1}\an8}`); the
// scanners look at that seam too, so that no markup is left in what they return.

const ENTITIES: Record<string, string> = {'&amp;': '&', '&lt;': '<', '&gt;': '>', '&nbsp;': ' ', '&lrm;': '', '&rlm;': ''}

function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9'
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text
  return text.replaceAll(/&(?:amp|lt|gt|nbsp|lrm|rlm);/g, (e) => ENTITIES[e] ?? '')
}

/** Text kept so far, in pieces; the last characters can be read and taken back (a tag that spans a seam). */
class Kept {
  private readonly parts: string[] = []

  push(text: string): void {
    if (text) this.parts.push(text)
  }

  /** The last `n` characters (fewer when there are fewer). */
  tail(n: number): string {
    let out = ''
    for (let p = this.parts.length - 1; p >= 0 && out.length < n; p--) out = this.parts[p]! + out
    return out.slice(-n)
  }

  drop(n: number): void {
    while (n > 0 && this.parts.length > 0) {
      const last = this.parts.pop()!
      if (last.length > n) this.parts.push(last.slice(0, last.length - n))
      n -= Math.min(n, last.length)
    }
  }

  text(): string {
    return this.parts.join('')
  }
}

/** Where a tag opens in an SRT/WebVTT line: `{\`, `<i`, `</i` (WebVTT: `<` and anything, since a literal `<` there is written `&lt;`). */
function opensTag(line: string, i: number, vtt: boolean): boolean {
  const ch = line[i]
  if (ch === '{') return line[i + 1] === '\\'
  if (ch !== '<') return false
  const next = line[i + 1]
  return vtt ? next !== undefined : isLetter(next) || (next === '/' && isLetter(line[i + 2]))
}

/** How many kept characters, with the line from `i` on, open a tag across the seam (0: none), and the character that closes it. */
function seamTag(kept: Kept, line: string, i: number, vtt: boolean): {back: number; close: string} | undefined {
  const tail = kept.tail(2)
  const next = line[i]
  if (next === undefined) return undefined
  if (tail === '</' && isLetter(next)) return {back: 2, close: '>'}
  if (tail.endsWith('<') && (vtt || isLetter(next) || (next === '/' && isLetter(line[i + 1])))) return {back: 1, close: '>'}
  if (tail.endsWith('{') && next === '\\') return {back: 1, close: '}'}
  return undefined
}

/**
 * One line of an SRT or WebVTT cue without its tags: HTML-like tags (<i>, </font>, <c.yellow>,
 * <v Name>; in WebVTT also timestamps like <00:01.000>), the ASS override blocks some SRT files
 * carry ({\an8}), and the common entities.
 */
export function stripTimedLine(line: string, vtt: boolean): string {
  const kept = new Kept()
  const n = line.length
  let i = 0
  while (i < n) {
    let j = i
    while (j < n && !opensTag(line, j, vtt)) j++
    kept.push(decodeEntities(line.slice(i, j)))
    if (j >= n) break
    let close = line.indexOf(line[j] === '{' ? '}' : '>', j + 1)
    for (;;) {
      if (close < 0) return kept.text()
      i = close + 1
      const seam = seamTag(kept, line, i, vtt)
      if (!seam) break
      kept.drop(seam.back)
      close = line.indexOf(seam.close, i)
    }
  }
  return kept.text()
}

const ASS_ESCAPES: Record<string, string> = {N: '\n', n: '\n', h: ' '}

/**
 * The words of an ASS/SSA Dialogue text: override blocks ({\b1}, and any {comment}) out, drawings
 * (from \p1 up to \p0) out, \N and \n as line breaks, \h as a space.
 */
export function stripAssText(text: string): string {
  const kept = new Kept()
  const n = text.length
  let drawing = false
  let i = 0
  while (i < n) {
    let j = i
    while (j < n && text[j] !== '{' && !(text[j] === '\\' && ASS_ESCAPES[text[j + 1]!] !== undefined)) j++
    if (!drawing) kept.push(text.slice(i, j))
    if (j >= n) break
    if (text[j] === '\\') {
      if (!drawing) kept.push(ASS_ESCAPES[text[j + 1]!]!)
      i = j + 2
      continue
    }
    const close = text.indexOf('}', j + 1)
    const end = close < 0 ? n : close
    drawing = drawingAfter(text, j + 1, end, drawing)
    i = end + 1
    // a backslash kept before the block and a letter after it
    if (!drawing && i < n && kept.tail(1) === '\\' && ASS_ESCAPES[text[i]!] !== undefined) {
      kept.drop(1)
      kept.push(ASS_ESCAPES[text[i]!]!)
      i++
    }
  }
  return kept.text()
}

/** Whether text after an override block is a drawing: the block's last \pN decides (N > 0: drawing). */
function drawingAfter(text: string, from: number, to: number, drawing: boolean): boolean {
  // within the block only: a search past its end would make many small blocks quadratic
  for (let i = from; i < to - 2; i++) {
    if (text[i] !== '\\' || text[i + 1] !== 'p' || !isDigit(text[i + 2])) continue
    let j = i + 2
    let scale = 0
    while (j < to && isDigit(text[j])) scale = Math.min(scale * 10 + Number(text[j++]), 1e6)
    drawing = scale > 0
    i = j - 1
  }
  return drawing
}
