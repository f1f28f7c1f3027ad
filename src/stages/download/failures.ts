import {type ToolRun, lastMeaningfulLine} from '../../util/process.js'

/**
 * What an ani-cli run that ended in an error means for the job:
 * - transient: worth another try after a backoff (outages look like "No results found!");
 * - permanent: this episode cannot be had (not released, the index or the episode is invalid);
 * - environment: no episode can be downloaded on this machine until someone installs something.
 */
export type AniCliVerdict = {kind: 'transient' | 'permanent' | 'environment'; message: string; hint?: string}

const ENVIRONMENT: {pattern: RegExp; hint: string}[] = [
  {pattern: /neither yt-dlp nor ffmpeg found/i, hint: 'install yt-dlp or ffmpeg where ani-cli can find them (apt install ffmpeg)'},
  {pattern: /program "?[^"]*"? not found/i, hint: 'install what ani-cli names (see `animezipf doctor`)'},
  {pattern: /no player found/i, hint: 'ani-cli needs ANI_CLI_PLAYER; animezipf sets it to download: check that [ani_cli] path is ani-cli 5.x'},
  {pattern: /command not found|not installed/i, hint: 'install what ani-cli names (curl, sed, grep, yt-dlp or ffmpeg)'},
]

const PERMANENT: RegExp[] = [/episode not released/i, /invalid episode/i, /invalid anime selection/i]

/** The last line ani-cli said (stderr first), without colours. */
export function aniCliSaid(run: ToolRun): string {
  return lastMeaningfulLine(run.stderr) || lastMeaningfulLine(run.stdout)
}

/** Judge an ani-cli run by its words and exit code; undefined when it claims success (the file is judged next). */
export function classifyAniCli(run: ToolRun): AniCliVerdict | undefined {
  const said = aniCliSaid(run)
  const errorText = `${lastMeaningfulLine(run.stderr)}`
  for (const e of ENVIRONMENT) if (e.pattern.test(errorText)) return {kind: 'environment', message: `ani-cli cannot download here: ${said}`, hint: e.hint}
  if (PERMANENT.some((p) => p.test(errorText))) return {kind: 'permanent', message: `ani-cli: ${said}`}
  if (run.exitCode !== 0) return {kind: 'transient', message: `ani-cli exited ${run.exitCode ?? 'on a signal'}: ${said || 'no output'}`}
  return undefined
}
