import {mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import {PermanentJobError, StopRunError} from '../../errors.js'
import {episodeOfOwnFile} from '../../paths.js'
import type {AnimeRow, JobRow} from '../../queue/rows.js'
import type {SelectionRow} from '../../queue/selections.js'
import type {Lease, UnitOutcome} from '../../runner/pool.js'
import {isGroupFile, recordGroup} from '../../util/attempts.js'
import {folderBytes, formatBytes} from '../../util/disk.js'
import {minutesSeconds} from '../../util/text.js'
import {AniCliError, downloadArgs} from '../select/ani-cli.js'
import {aniCliSaid, classifyAniCli} from './failures.js'
import {type MediaProbe, ProbeError, probeMedia} from './probe.js'
import {type DownloadDeps, started} from './deps.js'

/** The file ani-cli left: the largest regular file that is not a downloader's partial. */
export function downloadedFile(dir: string): {file: string; size: number} | undefined {
  let best: {file: string; size: number} | undefined
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const full = path.join(d, e.name)
      if (e.isDirectory()) walk(full)
      else if (e.isFile() && !isGroupFile(e.name) && !/\.(part|ytdl|tmp|temp)$|\.part-Frag\d+/i.test(e.name)) {
        const size = statSync(full).size
        if (!best || size > best.size) best = {file: full, size}
      }
    }
  }
  walk(dir)
  return best
}

/** What one attempt downloads: the selection, the index the title is at now, the anime (for its episode length). */
interface Target {
  sel: SelectionRow
  index: number
  anime: AnimeRow | undefined
}

/**
 * One episode: the selection's index checked, ani-cli run in a folder of the attempt's own (its
 * size on the worker's line), the file checked with ffprobe against the episode's length, and,
 * once the lease is confirmed, moved into place.
 */
export async function downloadJob(job: JobRow, lease: Lease, deps: DownloadDeps): Promise<UnitOutcome> {
  const {monitor} = started(deps)
  const target = await targetOf(job, lease, deps)
  const dir = mkdtempSync(deps.paths.downloadAttempt(job.id))
  const slot = monitor.track(lease.worker, dir)
  const t0 = Date.now()
  const expected = monitor.expectedSize()
  const ticker = setInterval(() => {
    const b = folderBytes(dir)
    lease.status(`${(b / 1e6).toFixed(1)} MB, ${minutesSeconds((Date.now() - t0) / 1000)}`)
    lease.progress(Math.min(0.99, b / expected))
  }, 1000)
  let size: number | undefined
  try {
    const got = await fetchEpisode(job, lease, deps, target, dir)
    const probe = await checkEpisode(lease, deps, got, target.anime)
    lease.signal.throwIfAborted()
    // still ours? a worker whose lease was lost must not touch the file another one recorded
    if (!(await lease.extend())) throw new Error('lease lost before the file was moved into place')
    const stored = placeEpisode(deps, job, got.file, probe.extension)
    size = got.size
    deps.figures.bytesWritten += got.size
    return {
      fields: {video_path: stored, video_size_bytes: got.size, duration_seconds: Math.round(probe.duration), video_host: deps.ctx.host, video_deleted: 0},
      message: `${formatBytes(got.size)}, ${minutesSeconds(probe.duration)} long (${probe.extension}), in ${minutesSeconds((Date.now() - t0) / 1000)} -> ${stored}`,
    }
  } finally {
    clearInterval(ticker)
    rmSync(dir, {recursive: true, force: true})
    // the slot ends here: a finished file counts in the next reading, not as a download to come
    monitor.release(lease.worker, size, slot)
  }
}

/** The anime's selection, still usable, and where its title is in ani-cli's list now. */
async function targetOf(job: JobRow, lease: Lease, deps: DownloadDeps): Promise<Target> {
  const {queue, checks} = started(deps)
  const malId = job.mal_id!
  const sel = await queue.selections.get(malId)
  if (!sel || sel.confidence === 'no_candidates')
    throw new PermanentJobError(`anime ${malId} has no usable selection any more: run \`animezipf select --anime-id ${malId}\``)
  const check = await checks.forSelection(sel, lease.signal)
  if (check.kind === 'gone') throw new PermanentJobError(check.reason)
  if (check.movedFrom !== undefined) {
    deps.figures.moved++
    await lease.note(`the selected title moved from #${check.movedFrom} to #${check.index} in ani-cli's list`)
  }
  return {sel, index: check.index, anime: await queue.anime.byMalId(malId)}
}

/** ani-cli -d into the attempt's folder; what it said classified (the environment stops the run, the episode fails or retries). */
async function fetchEpisode(job: JobRow, lease: Lease, deps: DownloadDeps, t: Target, dir: string): Promise<{file: string; size: number}> {
  const args = downloadArgs(t.sel.search_query, t.index, job.episode, deps.quality)
  const t0 = Date.now()
  const result = await deps.ani
    .download(t.sel.search_query, t.index, job.episode, deps.quality, dir, deps.timeoutMs, lease.signal, (pgid) => recordGroup(dir, pgid))
    .catch(async (error: unknown) => {
      if (!(error instanceof AniCliError)) throw error
      await lease.note(`ani-cli ${JSON.stringify(args)}: ${error.message}`)
      if (!error.transient) throw new StopRunError(error.message, 'install ani-cli 5.x or set [ani_cli] path')
      throw error
    })
  lease.signal.throwIfAborted()
  const said = aniCliSaid(result)
  await lease.note(
    `ani-cli ${JSON.stringify(args)} exited ${result.exitCode ?? 'on a signal'} after ${minutesSeconds((Date.now() - t0) / 1000)}${said ? `: ${said}` : ''}`,
  )
  const verdict = classifyAniCli(result)
  if (verdict?.kind === 'environment') throw new StopRunError(verdict.message, verdict.hint)
  if (verdict?.kind === 'permanent') throw new PermanentJobError(verdict.message)
  if (verdict) throw new Error(verdict.message)
  const got = downloadedFile(dir)
  const tail = said ? ` (ani-cli said: ${said})` : ''
  if (!got) throw new Error(`ani-cli exited 0 but wrote no file${tail}`)
  if (got.size <= deps.config.download.min_bytes)
    throw new Error(`ani-cli wrote only ${got.size} bytes (${path.basename(got.file)}): an error page or a playlist, not an episode${tail}`)
  return got
}

/** What ffprobe found in a file that passed: an episode with a duration. */
type CheckedEpisode = MediaProbe & {duration: number}

/** ffprobe: a media file with sound and a duration, of about the length MyAnimeList gives for an episode. */
async function checkEpisode(lease: Lease, deps: DownloadDeps, got: {file: string; size: number}, anime: AnimeRow | undefined): Promise<CheckedEpisode> {
  const {media, download} = deps.config
  let probe: MediaProbe
  try {
    probe = await probeMedia(deps.ffprobe, got.file, media.probe_timeout_seconds * 1000, lease.signal)
  } catch (error) {
    if (error instanceof ProbeError && error.missing) throw new StopRunError(error.message, 'install ffmpeg (apt install ffmpeg) or set [media] ffprobe')
    throw new Error(`the downloaded file (${formatBytes(got.size)}) is ${error instanceof Error ? error.message : String(error)}`)
  }
  if (probe.audioStreams === 0) throw new Error(`the downloaded file (${formatBytes(got.size)}, ${probe.format}) has no audio stream`)
  if (probe.duration === null) throw new Error(`the downloaded file (${formatBytes(got.size)}) has no duration ffprobe can read (truncated?)`)
  const minutes = anime?.duration_minutes
  if (minutes && minutes > 0) {
    const expectedS = minutes * 60
    const tol = download.duration_tolerance_percent / 100
    if (probe.duration < expectedS * (1 - tol))
      throw new Error(`the downloaded file lasts ${minutesSeconds(probe.duration)}, MyAnimeList says ${minutes} min per episode: truncated`)
    if (probe.duration > expectedS * 3 + 120)
      throw new PermanentJobError(
        `the downloaded file lasts ${minutesSeconds(probe.duration)}, over three times MyAnimeList's ${minutes} min per episode: is the selection the right show? (\`animezipf select --review\`)`,
      )
  }
  return {...probe, duration: probe.duration}
}

/** Move the file into the episode's place; a video of this episode under another extension (an earlier attempt) would be a second copy. */
function placeEpisode(deps: DownloadDeps, job: JobRow, file: string, extension: string): string {
  const {paths} = deps
  const target = paths.videoFile(job.mal_id!, job.episode, extension)
  mkdirSync(path.dirname(target), {recursive: true})
  for (const other of readdirSync(path.dirname(target))) {
    if (episodeOfOwnFile('video', other) === job.episode && other !== path.basename(target)) rmSync(path.join(path.dirname(target), other), {force: true})
  }
  renameSync(file, target)
  return paths.storedVideo(target)
}
