import path from 'node:path'

import type {DataPaths} from '../../paths.js'
import {GB, filesystemSpace, folderBytes, formatBytes} from '../../util/disk.js'

export interface DiskLimits {
  hardLimit: number
  pause: number
  resume: number
  /** Free space each filesystem keeps, whatever the thresholds say. */
  minFree: number
}

export interface DiskReading {
  /** Bytes under root_dir and storage_dir/videos, downloads in progress included. */
  usage: number
  /** Of which the temporary part: videos (partial ones too) and audio. */
  temporary: number
  filesystems: {label: string; device: number; free: number}[]
}

/** What one more download would do: start, or wait, and why. */
export interface DiskDecision {
  claim: boolean
  reason: string
  /** The pause state after this decision: once paused, downloads resume only at the resume threshold. */
  paused: boolean
  reading: DiskReading
  /** Use plus what the running downloads will still add, plus the next one. */
  projected: number
}

const mb = (b: number) => formatBytes(b)

/**
 * The decision, as a pure function: `remaining` is what each running download will still write,
 * `expected` the size of the next one, `wasPaused` the state before. Every refusal pauses, and a
 * pause lasts until use is back at the resume threshold (no flapping between a block and a start).
 * `storageDevice` is the filesystem downloads write to.
 */
export function decide(
  reading: DiskReading,
  limits: DiskLimits,
  remaining: readonly number[],
  expected: number,
  wasPaused: boolean,
  storageDevice: number,
): DiskDecision {
  const inFlight = remaining.reduce((a, b) => a + b, 0)
  const projected = reading.usage + inFlight + expected
  const base = {reading, projected}
  const running = remaining.length > 0 ? ` + ${mb(inFlight)} still to come from ${remaining.length} running download(s)` : ''
  if (projected > limits.hardLimit) {
    return {
      ...base,
      claim: false,
      paused: true,
      reason: `${mb(reading.usage)} used${running} + ${mb(expected)} for the next would pass the hard limit of ${mb(limits.hardLimit)}`,
    }
  }
  for (const fs of reading.filesystems) {
    const writes = fs.device === storageDevice ? inFlight + expected : 0
    if (fs.free - writes < limits.minFree) {
      return {
        ...base,
        claim: false,
        paused: true,
        reason: `the filesystem of ${fs.label} has ${mb(fs.free)} free${writes > 0 ? ` and ${mb(writes)} to be written` : ''}, under min_free_gb (${mb(limits.minFree)})`,
      }
    }
  }
  if (reading.usage >= limits.pause) {
    return {
      ...base,
      claim: false,
      paused: true,
      reason: `${mb(reading.usage)} used, at or over the pause threshold of ${mb(limits.pause)}; resuming at ${mb(limits.resume)}`,
    }
  }
  if (wasPaused && reading.usage > limits.resume) {
    return {...base, claim: false, paused: true, reason: `${mb(reading.usage)} used; paused until transcription brings it down to ${mb(limits.resume)}`}
  }
  return {...base, claim: true, paused: false, reason: `${mb(reading.usage)} used of ${mb(limits.pause)} (pause) / ${mb(limits.hardLimit)} (hard limit)`}
}

/** The 90th percentile (nearest rank) of sizes: typical, with a margin, and not held hostage by one outlier. */
export function typicalSize(sizes: readonly number[], fallback: number): number {
  if (sizes.length === 0) return fallback
  const sorted = [...sizes].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!
}

export interface DiskMonitorOptions {
  paths: DataPaths
  limits: DiskLimits
  /** How long a measurement of the temporary folders is reused. */
  cacheMs: number
  /** How long the permanent part is reused: it grows slowly. */
  permanentCacheMs: number
  /** The permanent part (transcripts, tokens, analysis, models, database...), as status counts it. */
  permanent: () => Promise<number>
  /** The expected size of a download before any was seen. */
  defaultExpected: number
  /** Sizes of recent downloads, latest first (from the queue). */
  recentSizes: number[]
  now?: () => number
}

interface Slot {
  dir?: string
}

/**
 * The design's DiskMonitor for both paths: root_dir and storage_dir/videos. Finished videos and
 * audio are walked at most every cacheMs (and after every download); downloads in progress
 * (videos/.downloading) are walked at every decision, so the projection never runs on stale bytes;
 * the permanent part is counted as status counts it, refreshed every permanentCacheMs.
 */
export class DiskMonitor {
  private paused = false
  private temporaryCache: {at: number; bytes: number} | undefined
  private permanentCache: {at: number; bytes: number} | undefined
  private readonly sizes: number[]
  /** Downloads let through by the gate, by worker; a slot gets its temp folder once it has one. */
  private readonly slots = new Map<number, Slot>()
  private readonly now: () => number
  readonly storageDevice: number
  private waiters: (() => void)[] = []

  constructor(private readonly options: DiskMonitorOptions) {
    this.sizes = options.recentSizes.slice(0, 100)
    this.now = options.now ?? Date.now
    this.storageDevice = filesystemSpace(options.paths.videosRoot).device
  }

  get isPaused(): boolean {
    return this.paused
  }

  /** Refresh the permanent part when its measurement is older than permanentCacheMs. */
  async refresh(force = false): Promise<void> {
    const t = this.now()
    if (force || !this.permanentCache || t - this.permanentCache.at >= this.options.permanentCacheMs) {
      this.permanentCache = {at: t, bytes: await this.options.permanent()}
    }
  }

  read(): DiskReading {
    const t = this.now()
    const {paths} = this.options
    if (!this.temporaryCache || t - this.temporaryCache.at >= this.options.cacheMs) {
      const skip = new Set([path.resolve(paths.downloadsInProgress)])
      this.temporaryCache = {at: t, bytes: folderBytes(paths.videosRoot, skip) + folderBytes(paths.audioRoot)}
    }
    const partial = folderBytes(paths.downloadsInProgress)
    const root = filesystemSpace(paths.root)
    const filesystems = [{label: 'root_dir', device: root.device, free: root.free}]
    const storage = filesystemSpace(paths.videosRoot)
    if (storage.device !== root.device) filesystems.push({label: 'storage_dir', device: storage.device, free: storage.free})
    const temporary = this.temporaryCache.bytes + partial
    return {usage: temporary + (this.permanentCache?.bytes ?? 0), temporary, filesystems}
  }

  /** Measure the finished files again at the next read (a download finished, a file was deleted). */
  invalidate(): void {
    this.temporaryCache = undefined
  }

  expectedSize(): number {
    return typicalSize(this.sizes, this.options.defaultExpected)
  }

  /** What each download let through will still write: the expected size less what its folder holds now. */
  private remaining(): number[] {
    const expected = this.expectedSize()
    return [...this.slots.values()].map((s) => Math.max(0, expected - (s.dir ? folderBytes(s.dir) : 0)))
  }

  /** Would one more download start now? Updates the pause state. */
  decide(): DiskDecision {
    const d = decide(this.read(), this.options.limits, this.remaining(), this.expectedSize(), this.paused, this.storageDevice)
    this.paused = d.paused
    return d
  }

  /** The gate let worker `index` through: in flight until released. */
  reserve(index: number): Slot {
    const slot: Slot = {}
    this.slots.set(index, slot)
    return slot
  }

  /** Worker `index` downloads into `dir`; the slot it holds now is returned for its release. */
  track(index: number, dir: string): Slot {
    const slot = this.slots.get(index) ?? this.reserve(index)
    slot.dir = dir
    return slot
  }

  /**
   * A download ended (done or not): remember its size when it produced a file, wake the waiting
   * gates. With a slot, only that slot is released (a handler abandoned after its lease was lost
   * must not release the worker's next one).
   */
  release(index: number, size?: number, slot?: Slot): void {
    if (!slot || this.slots.get(index) === slot) this.slots.delete(index)
    if (size !== undefined) {
      this.sizes.unshift(size)
      this.sizes.length = Math.min(this.sizes.length, 100)
    }
    this.invalidate()
    const w = this.waiters
    this.waiters = []
    for (const wake of w) wake()
  }

  get inFlight(): number {
    return this.slots.size
  }

  /** The temp folders of downloads still running (removed at the end of a run, whatever happened). */
  get folders(): string[] {
    return [...this.slots.values()].map((s) => s.dir).filter((d): d is string => d !== undefined)
  }

  /** Wait until a download ends, `ms` passes, or the signal aborts. */
  waitForChange(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, {once: true})
      this.waiters.push(done)
    })
  }
}

/** The limits of `[disk_management]`, in bytes. */
export function diskLimits(d: {hard_limit_gb: number; pause_threshold_gb: number; resume_threshold_gb: number; min_free_gb: number}): DiskLimits {
  return {hardLimit: d.hard_limit_gb * GB, pause: d.pause_threshold_gb * GB, resume: d.resume_threshold_gb * GB, minFree: d.min_free_gb * GB}
}
