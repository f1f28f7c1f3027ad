import {mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, PermanentJobError, StopRunError, UserError} from '../../errors.js'
import {requireAnime} from '../../queue/anime.js'
import {episodeOfOwnFile} from '../../paths.js'
import type {SelectionRow} from '../../queue/selections.js'
import {STAGES} from '../../queue/stages.js'
import type {Gate} from '../../runner/pool.js'
import {runStage} from '../../runner/stage.js'
import {folderBytes, formatBytes} from '../../util/disk.js'
import {ensureWritableDir} from '../../util/atomic.js'
import {isGroupFile, recordGroup, removeStaleAttempts} from '../../util/attempts.js'
import {findProgram} from '../../util/process.js'
import {minutesSeconds} from '../../util/text.js'
import {AniCli, AniCliError, checkMenuHook, downloadArgs, downloadEnvironment, resolveAniCli} from '../select/ani-cli.js'
import {permanentUsage, sum} from '../../status/usage.js'
import {DiskMonitor, decide, diskLimits} from './disk-monitor.js'
import {aniCliSaid, classifyAniCli} from './failures.js'
import {ProbeError, probeMedia} from './probe.js'
import {type IndexCheck, acceptedConfidences, findSelected} from './selection.js'

export interface DownloadOptions {
  workers?: number | undefined
  limit?: number | undefined
  malId?: number | undefined
  /** Exit 75 when the disk is over its thresholds instead of waiting (cron). */
  noWait: boolean
  quality?: string | undefined
  dryRun: boolean
}

const stage = STAGES.download

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

/** `animezipf download`: episodes of selected anime with ani-cli, verified with ffprobe, paced by the disk. */
export async function download(ctx: AppContext, options: DownloadOptions): Promise<ServiceResult> {
  const {config, paths, output} = ctx
  const quality = (options.quality ?? config.download.quality).trim()
  if (!quality) throw new UserError('--quality is empty', 'use worst, best or a resolution such as 480')
  const ani = new AniCli({path: resolveAniCli(ctx), timeoutMs: config.ani_cli.search_timeout_seconds * 1000, workRoot: ctx.paths.workRoot})
  checkMenuHook()
  const ffprobe = findProgram(config.media.ffprobe)
  if (!ffprobe)
    throw new UserError(
      `ffprobe not found: ${config.media.ffprobe}`,
      'install ffmpeg (apt install ffmpeg), or set [media] ffprobe; every download is checked with it',
    )
  const selected = acceptedConfidences(config.download.min_confidence)
  const workers = options.workers ?? config.disk_management.max_concurrent_downloads
  const timeoutMs = config.download.timeout_seconds * 1000

  const readQueue = await ctx.queue({readonly: options.dryRun})
  await requireAnime(readQueue.anime, options.malId)
  const location = ctx.queueLocation
  const monitor = new DiskMonitor({
    paths,
    limits: diskLimits(config.disk_management),
    cacheMs: config.disk_management.cache_duration_seconds * 1000,
    permanentCacheMs: Math.max(60_000, config.disk_management.cache_duration_seconds * 1000),
    permanent: async () => sum(await permanentUsage(paths, readQueue.stats, location.backend === 'sqlite' ? location.target : undefined)),
    defaultExpected: config.download.typical_episode_mb * 1e6,
    recentSizes: await readQueue.jobs.recentVideoSizes(100),
  })
  await monitor.refresh(true)
  const waitingBefore = await readQueue.jobs.waitingForSelection(selected, options.malId)
  const waitLine = (w: typeof waitingBefore) =>
    w.anime > 0
      ? `${w.anime} anime (${w.jobs} episode(s)) wait for \`animezipf select\`: ${[
          w.unselected ? `${w.unselected} not selected yet` : '',
          w.low_confidence ? `${w.low_confidence} below min_confidence ${config.download.min_confidence} (\`animezipf select --review\`, \`--set\`)` : '',
          w.no_candidates ? `${w.no_candidates} without candidates` : '',
        ]
          .filter(Boolean)
          .join(', ')}`
      : undefined

  if (options.dryRun) {
    // each job in claim order: the first `workers` start at once, the next ones as earlier ones end
    const reading = monitor.read()
    const expected = monitor.expectedSize()
    let k = 0
    let paused = false
    const selections = new Map<number, SelectionRow>()
    for (const j of await readQueue.jobs.previewClaim(stage, options.limit ?? Number.MAX_SAFE_INTEGER, options.malId, undefined, selected)) {
      if (j.mal_id !== null && !selections.has(j.mal_id)) {
        const sel = await readQueue.selections.get(j.mal_id)
        if (sel) selections.set(j.mal_id, sel)
      }
    }
    const preamble = [
      `disk now: ${formatBytes(reading.usage)} used (${formatBytes(reading.temporary)} temporary); pause at ${config.disk_management.pause_threshold_gb} GB, hard limit ${config.disk_management.hard_limit_gb} GB; next download expected ${formatBytes(expected)}`,
    ]
    const w = waitLine(waitingBefore)
    if (w) preamble.push(w)
    const r = await runStage(ctx, {
      stage,
      workers,
      limit: options.limit,
      malId: options.malId,
      dryRun: true,
      selected,
      preamble,
      describe: (job) => {
        const running = Math.min(k++, workers - 1)
        const d = decide(
          {...reading, usage: reading.usage + (k - 1 - running) * expected},
          diskLimits(config.disk_management),
          Array.from({length: running}, () => expected),
          expected,
          paused,
          monitor.storageDevice,
        )
        paused = d.paused
        const dir = `${paths.downloadAttempt(job.id)}XXXXXX`
        const sel = selections.get(job.mal_id!)
        const args = sel ? downloadArgs(sel.search_query, sel.selected_index, job.episode, quality) : ['(no selection)']
        const env = Object.entries(downloadEnvironment(dir))
          .map(([key, v]) => `${key}=${v}`)
          .join(' ')
        return `${d.claim ? 'download' : `wait for disk (${d.reason})`}: ani-cli ${JSON.stringify(args)} with ${env} -> ${paths.storedVideo(paths.videoFile(job.mal_id!, job.episode))} (index re-checked before the anime's first episode)`
      },
      handler: async () => ({}),
    })
    r.result.waiting_for_select = waitingBefore
    return r
  }

  const queue = await ctx.queue()
  ensureWritableDir(paths.downloadsInProgress, '[data] storage_dir')
  for (const name of removeStaleAttempts(paths.downloadsInProgress)) output.log(`removed the download folder of a process that died: ${name}`)
  // and ani-cli's menu-hook folders (under tmp/) of runs killed before they could remove them
  for (const name of removeStaleAttempts(paths.workRoot)) output.log(`removed the scratch folder of a process that died: ${name}`)

  await queue.pauses.closeDead(ctx.host)

  // one index check per selection per run, shared by the workers downloading its episodes; keyed by
  // what was selected, so a selection changed during the run (select --set) is checked on its own
  const checks = new Map<string, Promise<IndexCheck>>()
  const indexFor = (sel: SelectionRow, signal: AbortSignal): Promise<IndexCheck> => {
    const key = JSON.stringify([sel.mal_id, sel.search_query, sel.selected_index, sel.selected_title])
    let p = checks.get(key)
    if (!p) {
      p = (async () => {
        let found: IndexCheck
        try {
          found = await findSelected(ani, sel, signal)
        } catch (error) {
          // ani-cli answered in a way we cannot read (another version?): no episode would do better
          if (error instanceof AniCliError && !error.transient) throw new StopRunError(error.message, 'check that [ani_cli] path is ani-cli 5.x')
          throw error
        }
        if (found.kind === 'found') {
          await queue.selections.recordIndexCheck(sel.mal_id, sel.selected_index, found.index)
          if (found.movedFrom !== undefined)
            output.log(
              `${sel.anime_title} (MAL ${sel.mal_id}): "${sel.selected_title}" moved from #${found.movedFrom} to #${found.index} in ani-cli's list; using #${found.index}`,
            )
        } else {
          // its waiting episodes would all fail the same way; the selection goes to review
          const n = await queue.jobs.failWaiting(sel.mal_id, stage, found.reason)
          await queue.selections.demote(sel.mal_id, sel.selected_index, found.reason)
          output.log(
            `${sel.anime_title} (MAL ${sel.mal_id}): ${found.reason} (${n} waiting episode(s) failed; the selection is listed by \`animezipf select --review\`)`,
          )
        }
        return found
      })()
      checks.set(key, p)
      // a failed check (an outage) is tried again by the next episode
      p.catch(() => checks.delete(key))
    }
    return p
  }

  // the pause record: started and ended in the order the gates decided (one chain, no race)
  let paused = false
  let pauseId: Promise<number> | undefined
  let pauseStarted = 0
  let pausedMs = 0
  let pauses = 0
  let stoppedForDisk: string | undefined
  let pauseWrites: Promise<void> = Promise.resolve()
  const startPause = (reason: string, usage: number): Promise<void> => {
    if (paused) return pauseWrites
    paused = true
    pauseStarted = Date.now()
    pauses++
    output.log(`downloads paused: ${reason}`)
    const id = queue.pauses.start(ctx.host, `${hostname()}:${process.pid}`, reason, usage)
    pauseId = id
    pauseWrites = pauseWrites.then(() => id.then(() => undefined))
    return pauseWrites
  }
  const endPause = (usage: number | null): Promise<void> => {
    if (!paused) return pauseWrites
    paused = false
    const id = pauseId!
    pausedMs += Date.now() - pauseStarted
    if (usage !== null) output.log(`downloads resume: ${formatBytes(usage)} used after ${minutesSeconds((Date.now() - pauseStarted) / 1000)} paused`)
    pauseWrites = pauseWrites.then(async () => queue.pauses.end(await id, usage))
    return pauseWrites
  }
  const checkMs = config.disk_management.check_interval_seconds * 1000
  const gate: Gate = async (signal, worker) => {
    for (;;) {
      if (signal.aborted) return 'stop'
      await monitor.refresh()
      const d = monitor.decide()
      if (d.claim) {
        monitor.reserve(worker.index)
        await endPause(d.reading.usage)
        return 'claim'
      }
      await startPause(d.reason, d.reading.usage)
      if (options.noWait) {
        stoppedForDisk ??= d.reason
        return 'stop'
      }
      // nothing left to claim: waiting for space would only keep the run from ending
      if (monitor.inFlight === 0 && (await queue.jobs.countEligible(stage, options.malId, undefined, selected)).ready === 0) return 'stop'
      worker.say(`paused: ${d.reason}; looking again within ${minutesSeconds(checkMs / 1000)}`)
      await monitor.waitForChange(checkMs, signal)
    }
  }

  let bytesWritten = 0
  let moved = 0
  const run = await runStage(ctx, {
    stage,
    workers,
    limit: options.limit,
    malId: options.malId,
    dryRun: false,
    selected,
    gate,
    gateDone: (index) => monitor.release(index),
    describe: () => '',
    handler: async ({job, worker, signal, note, progress, status, extend}) => {
      const malId = job.mal_id!
      const sel = await queue.selections.get(malId)
      if (!sel || sel.confidence === 'no_candidates')
        throw new PermanentJobError(`anime ${malId} has no usable selection any more: run \`animezipf select --anime-id ${malId}\``)
      const check = await indexFor(sel, signal)
      if (check.kind === 'gone') throw new PermanentJobError(check.reason)
      if (check.movedFrom !== undefined) {
        moved++
        await note(`the selected title moved from #${check.movedFrom} to #${check.index} in ani-cli's list`)
      }
      const anime = await queue.anime.byMalId(malId)
      const dir = mkdtempSync(paths.downloadAttempt(job.id))
      const slot = monitor.track(worker, dir)
      const t0 = Date.now()
      const expected = monitor.expectedSize()
      const ticker = setInterval(() => {
        const b = folderBytes(dir)
        status(`${(b / 1e6).toFixed(1)} MB, ${minutesSeconds((Date.now() - t0) / 1000)}`)
        progress(Math.min(0.99, b / expected))
      }, 1000)
      let size: number | undefined
      try {
        const args = downloadArgs(sel.search_query, check.index, job.episode, quality)
        const result = await ani
          .download(sel.search_query, check.index, job.episode, quality, dir, timeoutMs, signal, (pgid) => recordGroup(dir, pgid))
          .catch(async (error: unknown) => {
            if (!(error instanceof AniCliError)) throw error
            await note(`ani-cli ${JSON.stringify(args)}: ${error.message}`)
            if (!error.transient) throw new StopRunError(error.message, 'install ani-cli 5.x or set [ani_cli] path')
            throw error
          })
        signal.throwIfAborted()
        const said = aniCliSaid(result)
        await note(
          `ani-cli ${JSON.stringify(args)} exited ${result.exitCode ?? 'on a signal'} after ${minutesSeconds((Date.now() - t0) / 1000)}${said ? `: ${said}` : ''}`,
        )
        const verdict = classifyAniCli(result)
        if (verdict?.kind === 'environment') throw new StopRunError(verdict.message, verdict.hint)
        if (verdict?.kind === 'permanent') throw new PermanentJobError(verdict.message)
        if (verdict) throw new Error(verdict.message)
        const got = downloadedFile(dir)
        const tail = said ? ` (ani-cli said: ${said})` : ''
        if (!got) throw new Error(`ani-cli exited 0 but wrote no file${tail}`)
        if (got.size <= config.download.min_bytes)
          throw new Error(`ani-cli wrote only ${got.size} bytes (${path.basename(got.file)}): an error page or a playlist, not an episode${tail}`)
        let probe
        try {
          probe = await probeMedia(ffprobe, got.file, config.media.probe_timeout_seconds * 1000, signal)
        } catch (error) {
          if (error instanceof ProbeError && error.missing) throw new StopRunError(error.message, 'install ffmpeg (apt install ffmpeg) or set [media] ffprobe')
          throw new Error(`the downloaded file (${formatBytes(got.size)}) is ${error instanceof Error ? error.message : String(error)}`)
        }
        if (probe.audioStreams === 0) throw new Error(`the downloaded file (${formatBytes(got.size)}, ${probe.format}) has no audio stream`)
        if (probe.duration === null) throw new Error(`the downloaded file (${formatBytes(got.size)}) has no duration ffprobe can read (truncated?)`)
        const minutes = anime?.duration_minutes
        if (minutes && minutes > 0) {
          const expectedS = minutes * 60
          const tol = config.download.duration_tolerance_percent / 100
          if (probe.duration < expectedS * (1 - tol))
            throw new Error(`the downloaded file lasts ${minutesSeconds(probe.duration)}, MyAnimeList says ${minutes} min per episode: truncated`)
          if (probe.duration > expectedS * 3 + 120)
            throw new PermanentJobError(
              `the downloaded file lasts ${minutesSeconds(probe.duration)}, over three times MyAnimeList's ${minutes} min per episode: is the selection the right show? (\`animezipf select --review\`)`,
            )
        }
        signal.throwIfAborted()
        // still ours? a worker whose lease was lost must not touch the file another one recorded
        if (!(await extend())) throw new Error('lease lost before the file was moved into place')
        const target = paths.videoFile(malId, job.episode, probe.extension)
        mkdirSync(path.dirname(target), {recursive: true})
        // a video of this episode under another extension (an earlier attempt) would be a second copy
        for (const other of readdirSync(path.dirname(target))) {
          if (episodeOfOwnFile('video', other) === job.episode && other !== path.basename(target)) rmSync(path.join(path.dirname(target), other), {force: true})
        }
        renameSync(got.file, target)
        size = got.size
        bytesWritten += got.size
        return {
          fields: {
            video_path: paths.storedVideo(target),
            video_size_bytes: got.size,
            duration_seconds: Math.round(probe.duration),
            video_host: ctx.host,
            video_deleted: 0,
          },
          message: `${formatBytes(got.size)}, ${minutesSeconds(probe.duration)} long (${probe.extension}), in ${minutesSeconds((Date.now() - t0) / 1000)} -> ${paths.storedVideo(target)}`,
        }
      } finally {
        clearInterval(ticker)
        rmSync(dir, {recursive: true, force: true})
        // the slot ends here: a finished file counts in the next reading, not as a download to come
        monitor.release(worker, size, slot)
      }
    },
    cleanup: async () => {
      for (const dir of monitor.folders) rmSync(dir, {recursive: true, force: true})
      const usage = monitor.read().usage
      await endPause(usage)
    },
    extra: () => ({
      bytes_written: bytesWritten,
      gb_written: Number((bytesWritten / 1e9).toFixed(3)),
      index_moves: moved,
      disk: {pauses, paused_seconds: Math.round(pausedMs / 1000), stopped_for_disk: stoppedForDisk ?? null, usage_bytes: monitor.read().usage},
    }),
  })
  const waitingAfter = await queue.jobs.waitingForSelection(selected, options.malId)
  run.result.waiting_for_select = waitingAfter
  const w = waitLine(waitingAfter)
  if (run.result.claimed === 0 && !stoppedForDisk) {
    run.text = run.text.map((l) => l.replace(`no jobs in '${stage.input}'`, `no job in '${stage.input}' whose anime has a usable selection`))
  }
  if (w) run.text.push(w)
  if (bytesWritten > 0) run.text.push(`${formatBytes(bytesWritten)} written under ${paths.videosRoot}`)
  if (stoppedForDisk) {
    run.text.push(`downloads stopped for disk space (--no-wait): ${stoppedForDisk}; run again after transcription frees space (exit 75)`)
    if (run.code === EXIT.OK) run.code = EXIT.TRY_LATER
  }
  return run
}
