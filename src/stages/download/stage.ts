import {rmSync} from 'node:fs'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import type {Config} from '../../config/defaults.js'
import {EXIT, UserError} from '../../errors.js'
import type {Queue} from '../../queue/index.js'
import {STAGES} from '../../queue/stages.js'
import {type JobStageFigures, type Stage, type StageIdle, type StagePlan, type StageRun, jobStageResult, runStage} from '../../runner/stage.js'
import {planClaims} from '../../runner/stage-result.js'
import {removeStaleAttempts} from '../../util/attempts.js'
import {ensureWritableDir} from '../../util/atomic.js'
import {formatBytes} from '../../util/disk.js'
import {findProgram} from '../../util/process.js'
import {permanentUsage, sum} from '../../status/usage.js'
import {AniCli, checkMenuHook, resolveAniCli} from '../select/ani-cli.js'
import {DiskMonitor, diskLimits} from './disk-monitor.js'
import {IndexChecks} from './index-checks.js'
import {downloadJob} from './job.js'
import {DownloadPause} from './pause.js'
import {DownloadPlanner} from './plan.js'
import {acceptedConfidences} from './selection.js'
import {type DownloadDeps, type WaitingForSelect, started} from './deps.js'

export type {DownloadDeps, WaitingForSelect} from './deps.js'

export interface DownloadOptions {
  workers?: number | undefined
  limit?: number | undefined
  malId?: number | undefined
  /** Exit 75 when the disk is over its thresholds instead of waiting (cron). */
  noWait: boolean
  quality?: string | undefined
  dryRun: boolean
}

/** `download --json`: the pool's figures, what was written, the disk's pauses, and what waits for select. */
export interface DownloadResult extends JobStageFigures {
  bytes_written: number
  gb_written: number
  /** Selected titles found at another place in ani-cli's list. */
  index_moves: number
  disk: {pauses: number; paused_seconds: number; stopped_for_disk: string | null; usage_bytes: number}
  waiting_for_select: WaitingForSelect
}
export type DownloadPlan = StagePlan & {waiting_for_select: WaitingForSelect}
export type DownloadIdle = StageIdle & {waiting_for_select: WaitingForSelect}

/** One line on the anime that wait for select, by why; undefined when none does. */
function waitLine(w: WaitingForSelect, config: Config): string | undefined {
  if (w.anime === 0) return undefined
  const why = [
    w.unselected ? `${w.unselected} not selected yet` : '',
    w.low_confidence ? `${w.low_confidence} below min_confidence ${config.download.min_confidence} (\`animezipf select --review\`, \`--set\`)` : '',
    w.no_candidates ? `${w.no_candidates} without candidates` : '',
  ]
  return `${w.anime} anime (${w.jobs} episode(s)) wait for \`animezipf select\`: ${why.filter(Boolean).join(', ')}`
}

/** The disk monitor on this run's queue: what is in use for good, the sizes of recent episodes. */
async function diskMonitor(ctx: AppContext, queue: Queue): Promise<DiskMonitor> {
  const {config, paths} = ctx
  const location = ctx.queueLocation
  const cacheMs = config.disk_management.cache_duration_seconds * 1000
  const monitor = new DiskMonitor({
    paths,
    limits: diskLimits(config.disk_management),
    cacheMs,
    permanentCacheMs: Math.max(60_000, cacheMs),
    permanent: async () => sum(await permanentUsage(paths, queue.stats, location.backend === 'sqlite' ? location.target : undefined)),
    defaultExpected: config.download.typical_episode_mb * 1e6,
    recentSizes: await queue.jobs.recentVideoSizes(100),
  })
  await monitor.refresh(true)
  return monitor
}

/** Folders of dead processes removed, stale pauses closed; then the pause machine and the index checks for this run. */
async function startDownloads(run: StageRun<DownloadOptions>, deps: DownloadDeps, monitor: DiskMonitor): Promise<DownloadPause> {
  const {ctx, queue, options} = run
  const {paths, output} = ctx
  ensureWritableDir(paths.downloadsInProgress, '[data] storage_dir')
  for (const name of removeStaleAttempts(paths.downloadsInProgress)) output.log(`removed the download folder of a process that died: ${name}`)
  // and ani-cli's menu-hook folders (under tmp/) of runs killed before they could remove them
  for (const name of removeStaleAttempts(paths.workRoot)) output.log(`removed the scratch folder of a process that died: ${name}`)
  await queue.pauses.closeDead(ctx.host)
  const pause = new DownloadPause({
    monitor,
    pauses: queue.pauses,
    host: ctx.host,
    output,
    noWait: deps.noWait,
    checkMs: deps.config.disk_management.check_interval_seconds * 1000,
    readyJobs: async () => (await queue.jobs.countEligible(STAGES.download, options.malId, undefined, deps.selected)).ready,
  })
  deps.gate = pause.gate
  deps.gateDone = pause.gateDone
  return pause
}

/** Whatever happened: the attempts' folders go, and a pause still open ends with the usage now. */
async function endRun(deps: DownloadDeps): Promise<void> {
  const live = deps.live
  if (!live) return
  for (const dir of live.monitor.folders) rmSync(dir, {recursive: true, force: true})
  await live.pause?.end(live.monitor.read().usage)
}

/** The anime still waiting for select after the run, on the result and as a line; the idle line says why nothing was claimed. */
async function withSelectWait<R extends object>(r: ServiceResult<R>, run: StageRun<DownloadOptions>, deps: DownloadDeps, claimed: number) {
  const {input} = STAGES.download
  const waiting = await run.queue.jobs.waitingForSelection(deps.selected, run.options.malId)
  const stopped = started(deps).pause?.stoppedForDisk
  let text = r.text
  if (claimed === 0 && !stopped) text = text.map((l) => l.replace(`no jobs in '${input}'`, `no job in '${input}' whose anime has a usable selection`))
  const w = waitLine(waiting, deps.config)
  if (w) text = [...text, w]
  return {code: r.code, result: {...r.result, waiting_for_select: waiting}, text}
}

/** `animezipf download`: episodes of selected anime with ani-cli, verified with ffprobe, paced by the disk. */
export const downloadStage: Stage<DownloadOptions, DownloadDeps, unknown, DownloadResult | DownloadPlan | DownloadIdle> = {
  def: STAGES.download,

  async prepare(ctx, options) {
    const {config} = ctx
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
    const deps: DownloadDeps = {
      ctx,
      config,
      paths: ctx.paths,
      quality,
      ani,
      ffprobe,
      selected: acceptedConfidences(config.download.min_confidence),
      workers: options.workers ?? config.disk_management.max_concurrent_downloads,
      timeoutMs: config.download.timeout_seconds * 1000,
      noWait: options.noWait,
      live: undefined,
      figures: {bytesWritten: 0, moved: 0},
    }
    deps.close = () => endRun(deps)
    return deps
  },

  async start(run, deps) {
    const {ctx, queue, options} = run
    const monitor = await diskMonitor(ctx, queue)
    const waitingBefore = await queue.jobs.waitingForSelection(deps.selected, options.malId)
    const checks = new IndexChecks(deps.ani, queue, this.def, ctx.output)
    if (!options.dryRun) {
      deps.live = {queue, monitor, checks, pause: await startDownloads(run, deps, monitor), planner: undefined, waitingBefore}
      return
    }
    const {disk_management: dm} = deps.config
    const reading = monitor.read()
    run.preamble.push(
      `disk now: ${formatBytes(reading.usage)} used (${formatBytes(reading.temporary)} temporary); pause at ${dm.pause_threshold_gb} GB, hard limit ${dm.hard_limit_gb} GB; next download expected ${formatBytes(monitor.expectedSize())}`,
    )
    const w = waitLine(waitingBefore, deps.config)
    if (w) run.preamble.push(w)
    const planner = await DownloadPlanner.create(queue, this.def, {...deps, monitor, limit: options.limit, malId: options.malId})
    deps.live = {queue, monitor, checks, pause: undefined, planner, waitingBefore}
  },

  handleJob: downloadJob,

  describe: (job, deps) => started(deps).planner?.describe(job) ?? '',

  async plan(run, deps) {
    const r = await planClaims(run, this.def, deps, (job) => this.describe(job, deps))
    return {...r, result: {...r.result, waiting_for_select: started(deps).waitingBefore}}
  },

  idle: (result, run, deps) => withSelectWait(result, run, deps, 0),

  async summarize(summary, run, deps) {
    await endRun(deps)
    const {monitor, pause} = started(deps)
    const {bytesWritten, moved} = deps.figures
    const base = jobStageResult(summary, run)
    const stoppedForDisk = pause?.stoppedForDisk
    const figures = {
      ...base.result,
      bytes_written: bytesWritten,
      gb_written: Number((bytesWritten / 1e9).toFixed(3)),
      index_moves: moved,
      disk: {
        pauses: pause?.pauses ?? 0,
        paused_seconds: Math.round((pause?.pausedMs ?? 0) / 1000),
        stopped_for_disk: stoppedForDisk ?? null,
        usage_bytes: monitor.read().usage,
      },
    }
    const r = await withSelectWait({...base, result: figures}, run, deps, summary.claimed)
    if (bytesWritten > 0) r.text.push(`${formatBytes(bytesWritten)} written under ${deps.paths.videosRoot}`)
    if (stoppedForDisk) {
      r.text.push(`downloads stopped for disk space (--no-wait): ${stoppedForDisk}; run again after transcription frees space (exit 75)`)
      if (r.code === EXIT.OK) r.code = EXIT.TRY_LATER
    }
    return r
  },
}

export function download(
  ctx: AppContext,
  options: DownloadOptions,
): Promise<ServiceResult<DownloadResult | DownloadPlan | DownloadIdle | StagePlan | StageIdle>> {
  return runStage(ctx, downloadStage, options)
}
