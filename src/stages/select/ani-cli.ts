import {accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {AppContext} from '../../app/context.js'
import {UserError} from '../../errors.js'
import {attemptPrefix, recordGroup, removeStaleAttempts} from '../../util/attempts.js'
import {type ToolRun, findProgram, lastMeaningfulLine, runTool, stripTerminalCodes} from '../../util/process.js'
import {cleanText} from '../../util/text.js'

/** Our menu program (bin/animezipf-menu-hook): records what ani-cli offers, chooses nothing. */
export const MENU_HOOK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'animezipf-menu-hook')

/** The text of a search's only result: ani-cli skips the anime menu, so its title is not shown. */
export const SINGLE_RESULT_TEXT = '(the only result: ani-cli does not show its title)'

export interface MenuCall {
  prompt: string
  choices: string[]
}

/** What one ani-cli search printed: the anime menu, or (one result) straight the episode menu. */
export type SearchResult =
  {kind: 'list'; titles: {idx: number; text: string; episodes: number | null}[]} | {kind: 'single'; episodes: number} | {kind: 'none'; message: string}

export class AniCliError extends Error {
  constructor(
    message: string,
    /** Worth trying again later (timeout, site errors); false when ani-cli cannot run at all here. */
    readonly transient: boolean,
  ) {
    super(message)
    this.name = 'AniCliError'
  }
}

export interface AniCliOptions {
  /** `[ani_cli] path`: a file or a name on PATH. */
  path: string
  timeoutMs: number
  /** The data folder's tmp/ (paths.workRoot): each run's menu-hook folder is made there, named by our pid. */
  workRoot: string
  /** Where ani-cli's environment is taken from (default: ours, filtered). */
  env?: NodeJS.ProcessEnv
}

/**
 * What ani-cli and the programs it starts (curl, yt-dlp, ffmpeg, the menu) need of our environment
 * beyond what every tool gets: its own settings, proxies and certificates, a display for rofi.
 */
const ANI_CLI_ENVIRONMENT =
  /^(ANI_CLI_[A-Z_]+|https?_proxy|HTTPS?_PROXY|all_proxy|ALL_PROXY|no_proxy|NO_PROXY|SSL_CERT_FILE|SSL_CERT_DIR|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|DISPLAY|WAYLAND_DISPLAY)$/

/** Menu-hook folders made by this process (their names differ by this count). */
let runs = 0
/** Work roots whose dead processes' folders this process has already removed. */
const swept = new Set<string>()

/** Parse the menu log the hook appended to: one record per menu ani-cli opened. */
export function parseMenuLog(text: string): MenuCall[] {
  const calls: MenuCall[] = []
  let current: MenuCall | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('PROMPT ')) calls.push((current = {prompt: cleanText(stripTerminalCodes(line.slice(7))).trim(), choices: []}))
    else if (line.startsWith('CHOICE ') && current) current.choices.push(cleanText(stripTerminalCodes(line.slice(7))))
    else if (line === 'END') current = undefined
  }
  return calls
}

/**
 * `<n> <title>` lines of ani-cli's anime menu; some versions end a title with "(24 episodes)",
 * which is the count, not part of the title.
 */
export function parseAnimeMenu(choices: readonly string[]): {idx: number; text: string; episodes: number | null}[] {
  const out: {idx: number; text: string; episodes: number | null}[] = []
  for (const c of choices) {
    const m = /^\s*(\d+)[ \t](.*?)\s*$/.exec(c)
    if (!m || m[2] === '') continue
    const count = /^(.*\S)\s+\((\d+) episodes?\)$/.exec(m[2]!)
    out.push({idx: Number(m[1]), text: count ? count[1]! : m[2]!, episodes: count ? Number(count[2]) : null})
  }
  return out
}

/**
 * The installed ani-cli, driven through its menu contract: our hook is the menu (ANI_CLI_MENU and,
 * first on PATH, dmenu and rofi), the player is `debug`, the history goes to a temporary folder.
 */
export class AniCli {
  constructor(private readonly options: AniCliOptions) {}

  private async run(
    args: string[],
    signal?: AbortSignal,
    download?: {dir: string; timeoutMs: number; onStart?: (pid: number) => void},
  ): Promise<{run: ToolRun; menus: MenuCall[]}> {
    // under the data folder's tmp/, named by our pid and host like an attempt's scratch folder: when
    // we are killed, the next run (or cleanup) removes it and ends the ani-cli group recorded in it
    mkdirSync(this.options.workRoot, {recursive: true})
    if (!swept.has(this.options.workRoot)) {
      swept.add(this.options.workRoot)
      removeStaleAttempts(this.options.workRoot)
    }
    const work = mkdtempSync(path.join(this.options.workRoot, attemptPrefix('ani', ++runs)))
    try {
      const hookDir = path.join(work, 'bin')
      const menu = path.join(hookDir, 'animezipf-menu')
      mkdirSync(hookDir)
      for (const name of ['animezipf-menu', 'dmenu', 'rofi']) copyHook(path.join(hookDir, name))
      const log = path.join(work, 'menu.log')
      // ani-cli and what it starts get nothing of ours they do not need (the API key least of all)
      const base = this.options.env ?? process.env
      const set = {
        PATH: `${hookDir}${path.delimiter}${base.PATH ?? ''}`,
        ANI_CLI_MENU: menu,
        ANI_CLI_PLAYER: download ? 'download' : 'debug',
        ANI_CLI_MODE: 'sub',
        ANI_CLI_HIST_DIR: path.join(work, 'hist'),
        ANIMEZIPF_MENU_LOG: log,
        ...(download ? {ANI_CLI_DOWNLOAD_DIR: download.dir} : {}),
      }
      const timeoutMs = download?.timeoutMs ?? this.options.timeoutMs
      const onStart = (pgid: number) => {
        recordGroup(work, pgid)
        download?.onStart?.(pgid)
      }
      const run = await runTool(this.options.path, args, {env: base, inherit: ANI_CLI_ENVIRONMENT, set, timeoutMs, signal, onStart})
      if (run.notFound) throw new AniCliError(`ani-cli not found or not executable: ${this.options.path}`, false)
      if (run.timedOut) {
        const said = lastMeaningfulLine(run.stderr) || lastMeaningfulLine(run.stdout)
        throw new AniCliError(
          `ani-cli ${args.join(' ')} did not finish in ${Math.round(timeoutMs / 1000)}s (killed with everything it started)${said ? `; it last said: ${said}` : ''}`,
          true,
        )
      }
      let text = ''
      try {
        text = readFileSync(log, 'utf8')
      } catch {
        // no menu was opened
      }
      return {run, menus: parseMenuLog(text)}
    } finally {
      rmSync(work, {recursive: true, force: true})
    }
  }

  /** The candidates the installed ani-cli lists for a query, in its order. */
  async search(query: string, signal?: AbortSignal): Promise<SearchResult> {
    const {run, menus} = await this.run([queryArgument(query)], signal)
    const first = menus[0]
    if (first && /anime/i.test(first.prompt)) {
      const titles = parseAnimeMenu(first.choices)
      if (titles.length === 0)
        throw new AniCliError(
          `ani-cli's anime menu for ${JSON.stringify(query)} was not understood (${first.choices.length} lines, e.g. ${JSON.stringify(first.choices[0] ?? '')})`,
          false,
        )
      return {kind: 'list', titles}
    }
    if (first && /episode/i.test(first.prompt)) return {kind: 'single', episodes: first.choices.filter((c) => c.trim() !== '').length}
    const said = lastMeaningfulLine(run.stderr) || lastMeaningfulLine(run.stdout)
    if (/no results/i.test(said)) return {kind: 'none', message: said}
    // a one-line list is chosen by ani-cli itself: one result with one episode opens no menu at all
    if (run.exitCode === 0) return {kind: 'single', episodes: 1}
    throw new AniCliError(`ani-cli ${JSON.stringify(query)} exited ${run.exitCode} without a menu: ${said || 'no output'}`, true)
  }

  /**
   * Download one episode into `dir` (which must exist). Only the run is returned: ani-cli exits 0
   * when its downloader failed, so the caller judges the file, not the exit code.
   */
  async download(
    query: string,
    idx: number,
    episode: number,
    quality: string,
    dir: string,
    timeoutMs: number,
    signal?: AbortSignal,
    onStart?: (pid: number) => void,
  ): Promise<ToolRun> {
    return (await this.run(downloadArgs(query, idx, episode, quality), signal, {dir, timeoutMs, onStart})).run
  }

  /** How many episodes ani-cli offers for the idx-th result; null when it offers none or the index is gone. */
  async episodeCount(query: string, idx: number, signal?: AbortSignal): Promise<number | null> {
    const {run, menus} = await this.run(['-S', String(idx), queryArgument(query)], signal)
    const menu = menus.find((m) => /episode/i.test(m.prompt))
    if (menu) return menu.choices.filter((c) => c.trim() !== '').length
    const said = lastMeaningfulLine(run.stderr) || lastMeaningfulLine(run.stdout)
    if (/invalid anime selection|no results/i.test(said)) return null
    // one episode: ani-cli takes it without asking and goes on to the (debug) player
    if (run.exitCode === 0) return 1
    throw new AniCliError(`ani-cli -S ${idx} ${JSON.stringify(query)} exited ${run.exitCode} without an episode menu: ${said || 'no output'}`, true)
  }
}

/** The arguments of one episode's download: always an array, the query as one argument whatever it holds. */
export function downloadArgs(query: string, idx: number, episode: number, quality: string): string[] {
  return ['-d', '-q', quality, '-S', String(idx), '-e', String(episode), queryArgument(query)]
}

/**
 * The search text as ani-cli's argument. ani-cli (4.x and 5.x) reads its arguments in one
 * `case "$1"` loop with no `--`: an argument equal to one of its options ("-d", "--help", "-e") is
 * taken as that option, and every other argument is a word of the query (joined with spaces, one
 * leading space dropped). A title starting with '-' is given with a space in front: then it equals
 * no option, and the site's search ignores the space.
 */
export function queryArgument(query: string): string {
  return query.startsWith('-') ? ` ${query}` : query
}

/** The environment a download gets on top of the caller's (for --dry-run: what would be set). */
export function downloadEnvironment(dir: string): Record<string, string> {
  return {
    ANI_CLI_PLAYER: 'download',
    ANI_CLI_DOWNLOAD_DIR: dir,
    ANI_CLI_MODE: 'sub',
    ANI_CLI_MENU: '(the menu hook, also as dmenu and rofi first on PATH)',
    ANI_CLI_HIST_DIR: '(a temporary folder)',
  }
}

/** A copy (it keeps the executable bit): the hook tells by its own name whether it runs as dmenu or rofi. */
function copyHook(target: string): void {
  copyFileSync(MENU_HOOK, target)
}

/** The ani-cli the config names: a path, or a name found on PATH. */
export function resolveAniCli(ctx: AppContext): string {
  const p = ctx.config.ani_cli.path
  const found = findProgram(p)
  if (found) return found
  throw new UserError(
    `ani-cli not found: ${p}${p.includes('/') ? '' : ' is not on PATH'}`,
    'install ani-cli 5.x (https://github.com/pystardust/ani-cli) or set [ani_cli] path',
  )
}

/** The shipped menu hook must be there and executable, or every search would fail the same way. */
export function checkMenuHook(): void {
  try {
    accessSync(MENU_HOOK, constants.X_OK)
  } catch {
    throw new UserError(`the ani-cli menu hook ${MENU_HOOK} is missing or not executable`, 'reinstall animezipf (the package ships bin/animezipf-menu-hook)')
  }
}
