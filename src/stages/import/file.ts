import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {cleanText} from '../../util/text.js'
import {decodeSubtitle, hasJapanese, japaneseShare} from './decode.js'
import {type Cue, type CueProblem, RefusedSubtitles, type SubtitleFormat, detectFormat, mergeDuplicateCues, parseSubtitles} from './subtitles.js'

/** [import] in config.toml. */
export interface ImportLimits {
  max_file_mb: number
  max_cues: number
  max_line_chars: number
  min_japanese_percent: number
}

/** One subtitle file read: its cues, and the cues left out with their line numbers. */
export interface SubtitleFile {
  format: SubtitleFormat
  encoding: string
  cues: Cue[]
  problems: CueProblem[]
}

/** A subtitle file on disk; a file the importer will not take throws RefusedSubtitles, saying why. */
/** A terminal's CSI escape sequence (colour, cursor moves): dropped whole, not only its ESC. */
const ANSI_SEQUENCE = /\u001B\[[0-?]*[ -/]*[@-~]/g

export function readSubtitleFile(file: string, limits: ImportLimits): SubtitleFile {
  // a device, a pipe or a socket (a symlink to /dev/zero, a FIFO) would never end: regular files only
  const st = statSync(file)
  if (!st.isFile()) throw new RefusedSubtitles('not a regular file (a device, a pipe or a socket)')
  if (st.size > limits.max_file_mb * 1e6) throw new RefusedSubtitles(`${(st.size / 1e6).toFixed(1)} MB, over [import] max_file_mb (${limits.max_file_mb})`)
  return readSubtitleBytes(file, readFileSync(file), limits)
}

/** The bytes of a subtitle file called `name` (its extension says the format). Every limit is checked before the markup is scanned. */
export function readSubtitleBytes(name: string, data: Buffer, limits: ImportLimits): SubtitleFile {
  if (data.length === 0) throw new RefusedSubtitles('empty file')
  if (data.length > limits.max_file_mb * 1e6)
    throw new RefusedSubtitles(`${(data.length / 1e6).toFixed(1)} MB, over [import] max_file_mb (${limits.max_file_mb})`)
  const decoded = decodeSubtitle(data)
  const {encoding} = decoded
  // text from outside: terminal escape sequences and control characters out before any markup is
  // read (tabs and newlines stay), so that none can hide a tag from the scanner
  const text = cleanText(decoded.text.replaceAll(ANSI_SEQUENCE, ''), {multiline: true})
  const format = detectFormat(name, text)
  const ext = path.extname(name).toLowerCase()
  if (ext !== '.txt' && format === 'text') throw new RefusedSubtitles(`not ${ext.slice(1).toUpperCase()} subtitles (no cues found)`)
  const parsed = parseSubtitles(format, text, {maxCues: limits.max_cues, maxLineChars: limits.max_line_chars})
  const cues = mergeDuplicateCues(parsed.cues)
  const {problems} = parsed
  if (cues.length === 0) {
    if (problems.length > 0) throw new RefusedSubtitles(`no usable cue: ${describeProblems(problems)}`)
    throw new RefusedSubtitles(format === 'text' ? 'no text' : 'no subtitle cues with text')
  }
  if (cues.length > limits.max_cues) throw new RefusedSubtitles(`${cues.length} cues, over [import] max_cues (${limits.max_cues})`)
  const longest = cues.reduce((n, c) => Math.max(n, c.text.length), 0)
  if (longest > limits.max_line_chars) throw new RefusedSubtitles(`a cue of ${longest} characters, over [import] max_line_chars (${limits.max_line_chars})`)
  const all = cues.map((c) => c.text).join('')
  if (!hasJapanese(all)) throw new RefusedSubtitles('no Japanese text (kana or kanji) in it')
  const share = japaneseShare(all)
  if (share * 100 < limits.min_japanese_percent)
    throw new RefusedSubtitles(
      `only ${Math.round(share * 100)}% of its letters are Japanese, under [import] min_japanese_percent (${limits.min_japanese_percent})`,
    )
  return {format, encoding, cues, problems}
}

/** The first few problems of a file, for one line: "line 3: end … before start … (and 12 more)". */
export function describeProblems(problems: readonly CueProblem[], shown = 1): string {
  const head = problems
    .slice(0, shown)
    .map((p) => `line ${p.line}: ${p.message}`)
    .join('; ')
  return problems.length > shown ? `${head} (and ${problems.length - shown} more)` : head
}
