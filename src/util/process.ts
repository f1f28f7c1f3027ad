import {type ChildProcess, spawn} from 'node:child_process'
import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {stripVTControlCharacters} from 'node:util'
import {execa} from 'execa'

export interface ToolRun {
  exitCode: number | null
  stdout: string
  stderr: string
  timedOut: boolean
  /** The program could not be started (not found, not executable). */
  notFound: boolean
}

export interface RunToolOptions {
  /**
   * Where the tool's environment is taken from (default: ours): only the names in TOOL_ENVIRONMENT
   * (and `inherit`) pass, so no key or password of ours reaches a tool.
   */
  env?: Record<string, string | undefined>
  /** More names the tool needs from `env` (ani-cli: its ANI_CLI_* settings, proxies). */
  inherit?: RegExp
  /** Variables set for the tool, as given. */
  set?: Record<string, string>
  timeoutMs: number
  cwd?: string
  input?: string
  signal?: AbortSignal
  /** Each chunk of standard error as it comes (progress lines); the whole text is returned too. */
  onStderr?: (chunk: string) => void
  /** The program started: its pid, which is also its process group's id. */
  onStart?: (pid: number) => void
}

/**
 * What any tool may be given of our environment: where programs and home are, the locale, the
 * temporary folder, the terminal, the XDG folders, library paths and the GPU and thread settings
 * whisper.cpp and ffmpeg read. Nothing else: not ANTHROPIC_API_KEY, not a database URL or password.
 */
const TOOL_ENVIRONMENT =
  /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z_]+|TZ|TMPDIR|TMP|TEMP|TERM|COLORTERM|NO_COLOR|XDG_[A-Z_]+|LD_LIBRARY_PATH|DYLD_LIBRARY_PATH|(CUDA|NVIDIA|HIP|ROCR|ROCM|HSA|GPU|GGML|OMP|OPENBLAS|GOTO|MKL|VK|MESA)_[A-Z0-9_]+|SYSTEMROOT|WINDIR|PATHEXT)$/
/** Never passed on, whatever asks for it. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|COOKIE|AUTH/i

/** The environment a tool gets: the allowed names of `from`, then what is set for it. */
export function toolEnvironment(
  from: Record<string, string | undefined> = process.env,
  inherit?: RegExp,
  set: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined || SECRET_NAME.test(name) || /^(ANTHROPIC|ANIMEZIPF)_/.test(name)) continue
    if (TOOL_ENVIRONMENT.test(name) || inherit?.test(name)) env[name] = value
  }
  return {...env, ...set}
}

/**
 * bin/animezipf-reaper.cjs: started once, with a pipe from us, it kills the groups of our tools still
 * running when the pipe closes, that is when this process ends in any way, kill -9 included.
 */
export const REAPER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'animezipf-reaper.cjs')
let reaper: ChildProcess | null | undefined

/** Tell the reaper that a tool's group started (+) or ended (-); it is started with the first tool. */
function tellReaper(line: string): void {
  if (reaper === undefined) {
    try {
      reaper = spawn(process.execPath, [REAPER], {stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: toolEnvironment()})
      reaper.on('error', () => {
        reaper = null
      })
      reaper.stdin?.on('error', () => {
        reaper = null
      })
      // neither the reaper nor its pipe keeps this process running
      reaper.unref()
      ;(reaper.stdin as unknown as {unref?: () => void} | null)?.unref?.()
    } catch {
      reaper = null
    }
  }
  if (reaper?.stdin?.writable) reaper.stdin.write(`${line}\n`)
}

/** Process groups of tools still running: killed if this process exits first (a second Ctrl-C). */
const liveGroups = new Set<number>()
let exitHookInstalled = false
function killLiveGroups(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // gone
    }
  }
}

/**
 * Run an external program with its arguments as an array (never a shell string), in a process
 * group of its own so that a timeout or an abort kills it and everything it started (ani-cli
 * starts curl, yt-dlp, ffmpeg...): SIGTERM, then SIGKILL two seconds later.
 */
export async function runTool(file: string, args: readonly string[], options: RunToolOptions): Promise<ToolRun> {
  const child = execa(file, args, {
    env: toolEnvironment(options.env, options.inherit, options.set),
    extendEnv: false,
    cwd: options.cwd,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    detached: true,
    reject: false,
    stripFinalNewline: false,
  })
  if (!exitHookInstalled) {
    process.on('exit', killLiveGroups)
    exitHookInstalled = true
  }
  if (child.pid !== undefined) {
    liveGroups.add(child.pid)
    tellReaper(`+${child.pid}`)
    options.onStart?.(child.pid)
  }
  if (options.onStderr) child.stderr?.on('data', (d: Buffer) => options.onStderr!(d.toString('utf8')))
  let timedOut = false
  let hardKill: NodeJS.Timeout | undefined
  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return
    try {
      process.kill(-child.pid, signal)
    } catch {
      // already gone
    }
  }
  const stop = () => {
    killGroup('SIGTERM')
    hardKill ??= setTimeout(() => killGroup('SIGKILL'), 2000)
    hardKill.unref()
  }
  const timer = setTimeout(() => {
    timedOut = true
    stop()
  }, options.timeoutMs)
  if (options.signal?.aborted) stop()
  else options.signal?.addEventListener('abort', stop, {once: true})
  try {
    const r = await child
    const notFound = (r as {code?: string}).code === 'ENOENT' || /ENOENT|EACCES/.test(String((r as {originalMessage?: string}).originalMessage ?? ''))
    return {exitCode: r.exitCode ?? null, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), timedOut, notFound}
  } finally {
    clearTimeout(timer)
    if (hardKill) clearTimeout(hardKill)
    options.signal?.removeEventListener('abort', stop)
    // whatever the program left running in its group goes too
    killGroup('SIGKILL')
    if (child.pid !== undefined) {
      liveGroups.delete(child.pid)
      tellReaper(`-${child.pid}`)
    }
  }
}

/** Terminal noise out of a tool's text: colours, cursor moves, tput's charset switches. */
export function stripTerminalCodes(text: string): string {
  return stripVTControlCharacters(text)
    .replaceAll(/\u001B[()][0-9A-Za-z]/g, '')
    .replaceAll(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
}

/** The last line of a tool's output that says something (for an error message). */
export function lastMeaningfulLine(text: string): string {
  const lines = stripTerminalCodes(text)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
  return lines.at(-1) ?? ''
}

/** A program as configured: a path, or a name looked up on PATH; undefined when it is not there or not executable. */
export function findProgram(program: string, pathVar: string | undefined = process.env.PATH): string | undefined {
  const candidates = program.includes('/')
    ? [path.resolve(program)]
    : (pathVar ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, program))
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK)
      if (statSync(c).isFile()) return c
    } catch {
      // next
    }
  }
  return undefined
}

/** A name from outside (a file name, a title) safe to print: one function, in util/text.ts. */
export {printable} from './text.js'
