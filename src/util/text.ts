/** Edit distance (insertions, deletions, substitutions): the nearest command or setting for a typo. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = keep
    }
  }
  return row[b.length]!
}

/** A length of time as m:ss (minutes unbounded): "23:59" for an episode, "0:42" for a download. */
export function minutesSeconds(seconds: number): string {
  const s = Math.round(seconds)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

// Text from outside (an API, a tool's output, a file, a flag) can hold bytes that a database
// refuses (PostgreSQL: NUL) or that a terminal obeys (ESC sequences, carriage returns, bidi
// overrides). Two functions: one cleans such text where it comes in, one escapes what a terminal
// would obey wherever text is printed.

/** C0 controls but tab and newline, DEL, C1 controls. */
const STORED_CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g
/** What a terminal obeys or that reorders what it shows: C0, DEL, C1, bidi marks, embeddings, overrides and isolates, line and paragraph separators. */
const TERMINAL_CONTROLS = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028-\u202E\u2066-\u2069]/g

/**
 * Text from outside made fit to store: lone UTF-16 surrogates replaced, NUL and the other control
 * characters removed. One line (a title, a name) by default: tabs, carriage returns and newlines
 * become spaces; with `multiline`, tabs and newlines stay (a carriage return ends a line).
 */
export function cleanText(text: string, options: {multiline?: boolean} = {}): string {
  const whole = text.replaceAll(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
  if (options.multiline) return whole.replaceAll(/\r\n?/g, '\n').replaceAll(STORED_CONTROLS, '')
  return whole.replaceAll(/[\t\n\r]+/g, ' ').replaceAll(STORED_CONTROLS, '')
}

/** Every string in a parsed JSON value cleaned (one-line), keys included. */
export function cleanJson<T>(value: T): T {
  if (typeof value === 'string') return cleanText(value) as T
  if (Array.isArray(value)) return (value as unknown[]).map((v) => cleanJson(v)) as T
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k), cleanJson(v)])) as T
  return value
}

const escapeOne = (c: string): string => {
  if (c === '\n') return '\\n'
  if (c === '\r') return '\\r'
  if (c === '\t') return '\\t'
  const code = c.codePointAt(0)!
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * Text from outside (a title, a file name, a tool's message) as it may be printed to a terminal:
 * every control character, DEL, C1 control and bidi control shown as a visible escape (\x1b,
 * \u202e, \n), so that nothing it holds can move the cursor, clear the screen or reorder a line.
 * - 'name' (the default): a name inside a message; quoted when anything in it was escaped.
 * - 'line': one line, nothing quoted (an error message, a progress line).
 * - 'lines': text whose own newlines and tabs are meant (a command's output), nothing quoted.
 */
export function printable(text: string, mode: 'name' | 'line' | 'lines' = 'name'): string {
  TERMINAL_CONTROLS.lastIndex = 0
  if (!TERMINAL_CONTROLS.test(text)) return text
  if (mode === 'lines') return text.replaceAll(TERMINAL_CONTROLS, (c) => (c === '\n' || c === '\t' ? c : escapeOne(c)))
  if (mode === 'line') return text.replaceAll(TERMINAL_CONTROLS, escapeOne)
  return `"${text.replaceAll(/["\\]/g, (c) => `\\${c}`).replaceAll(TERMINAL_CONTROLS, escapeOne)}"`
}

/** JSON text with the characters a terminal obeys that JSON.stringify leaves raw (DEL, C1, bidi) escaped: the same value, safe to print. */
export function terminalJson(json: string): string {
  return json.replaceAll(/[\u007F-\u009F\u061C\u200E\u200F\u2028-\u202E\u2066-\u2069]/g, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`)
}

/** A count with its noun: "1 time", "2 times" ("1 episode", "3 episodes"; an irregular plural given). */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`
}
