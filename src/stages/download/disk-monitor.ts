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
  /** Bytes under root_dir and storage_dir/videos (downloads in progress included). */
  usage: number
  /** Of which the temporary part: videos (partial ones too) and audio. */
  temporary: number
  filesystems: {label: string; device: number; free: number}[]
}

/** What one more download would do: start, or wait, and why. */
export interface DiskDecision {
  claim: boolean
  reason: string
  /** The pause state after this decision (hysteresis between pause and resume thresholds). */
  paused: boolean
  reading: DiskReading
  /** What the running downloads will still add, plus the next one. */
  projected: number
}

const mb = (b: number) => formatBytes(b)

/**
 * The decision, as a pure function: `remaining` is what each running download will still write,
 * `expected` the size of the next one, `wasPaused` the state before (downloads resume only at
 * the resume threshold). `storageDevice` is the filesystem downloads write to.
 */
export function decide(reading: DiskReading, limits: DiskLimits, remaining: readonly number[], expected: number, wasPaused: boolean, storageDevice: number): DiskDecision {
  const inFlight = remaining.reduce((a, b) => a + b, 0)
  const projected = reading.usage + inFlight + expected
  const base = {reading, projected}
  const running = remaining.length > 0 ? ` + ${mb(inFlight)} still to come from ${remaining.length} running download(s)` : ''
  if (projected > limits.hardLimit) {
    return {...base, claim: false, paused: wasPaused, reason: `${mb(reading.usage)} used${running} + ${mb(expected)} for the next would pass the hard limit of ${mb(limits.hardLimit)}`}
  }
  for (const fs of reading.filesystems) {
    const writes = fs.device === storageDevice ? inFlight + expected : 0
    if (fs.free - writes < limits.minFree) {
      return {...base, claim: false, paused: wasPaused, reason: `the filesystem of ${fs.label} has ${mb(fs.free)} free${writes > 0 ? ` and ${mb(writes)} to be written` : ''}, under min_free_gb (${mb(limits.minFree)})`}
    }
  }
  if (reading.usage >= limits.pause) {
    return {...base, claim: false, paused: true, reason: `${mb(reading.usage)} used, at or over the pause threshold of ${mb(limits.pause)}; resuming at ${mb(limits.resume)}`}
  }
  if (wasPaused && reading.usage > limits.resume) {
    return {...base, claim: false, paused: true, reason: `${mb(reading.usage)} used; paused until transcription brings it down to ${mb(limits.resume)}`}
  }
  return {...base, claim: true, paused: false, reason: `${mb(reading.usage)} used of ${mb(limits.pause)} (pause) / ${mb(limits.hardLimit)} (hard limit)`}
}

export interface DiskMonitorOptions {
  paths: DataPaths
  limits: DiskLimits
  /** How long a measurement of the temporary folders is reused. */
  cacheMs: number
  /** How long the permanent part (transcripts, tokens, analysis...) is reused: it grows slowly. */
  permanentCacheMs: number
  /** The expected size of a download before any was seen. */
  defaultExpected: number
  /** Sizes of recent downloads, newest first (from the queue). */
  recentSizes: number[]
  now?: () => number
}

/**
 * The design's DiskMonitor for both paths: root_dir (everything the tool keeps) and
 * storage_dir/videos (episodes, partial downloads included). Temporary folders are walked at most
 * every cacheMs (and after every finished download); the permanent rest less often.
 */
export class DiskMonitor {
  private paused = false
  private temporaryCache: {at: number; bytes: number} | undefined
  private permanentCache: {at: number; bytes: number} | undefined
  private readonly sizes: number[]
  /** Downloads let through by the gate: worker index -> its temp folder once it has one. */
  private readonly slots = new Map<number, string | undefined>()
  private readonly now: () => number
  private readonly storageDevice: number
  private waiters: (() => void)[] = []

  constructor(private readonly options: DiskMonitorOptions) {
    this.sizes = options.recentSizes.slice(0, 100)
    this.now = options.now ?? Date.now
    this.storageDevice = filesystemSpace(options.paths.videosRoot).device
  }

  get isPaused(): boolean {
    return this.paused
  }

  /** Folders walked for the temporary part: videos on storage_dir, audio under root_dir. */
  private temporaryDirs(): string[] {
    return [this.options.paths.videosRoot, this.options.paths.audioRoot]
  }

  read(): DiskReading {
    const t = this.now()
    const {paths} = this.options
    if (!this.temporaryCache || t - this.temporaryCache.at >= this.options.cacheMs) {
      this.temporaryCache = {at: t, bytes: this.temporaryDirs().reduce((n, d) => n + folderBytes(d), 0)}
    }
    if (!this.permanentCache || t - this.permanentCache.at >= this.options.permanentCacheMs) {
      this.permanentCache = {at: t, bytes: folderBytes(paths.root, new Set(this.temporaryDirs().map((d) => path.resolve(d))))}
    }
    const root = filesystemSpace(paths.root)
    const filesystems = [{label: 'root_dir', device: root.device, free: root.free}]
    const storage = filesystemSpace(paths.videosRoot)
    if (storage.device !== root.device) filesystems.push({label: 'storage_dir', device: storage.device, free: storage.free})
    return {usage: this.temporaryCache.bytes + this.permanentCache.bytes, temporary: this.temporaryCache.bytes, filesystems}
  }

  /** Measure again at the next read (a download finished, a file was deleted). */
  invalidate(): void {
    this.temporaryCache = undefined
  }

  /** The size the next download is expected to reach: the largest of the last 100 (the hard limit is hard). */
  expectedSize(): number {
    return this.sizes.length > 0 ? Math.max(...this.sizes) : this.options.defaultExpected
  }

  /** What each download let through will still write: expected size less what its folder holds. */
  private remaining(): number[] {
    const expected = this.expectedSize()
    return [...this.slots.values()].map((dir) => Math.max(0, expected - (dir ? folderBytes(dir) : 0)))
  }

  /** Would one more download start now? Updates the pause state. */
  decide(): DiskDecision {
    const d = decide(this.read(), this.options.limits, this.remaining(), this.expectedSize(), this.paused, this.storageDevice)
    this.paused = d.paused
    return d
  }

  /** The gate let worker `index` through: count it as in flight until release. */
  reserve(index: number): void {
    this.slots.set(index, undefined)
  }

  /** Worker `index` downloads into `dir` (its partial bytes already count in the reading). */
  track(index: number, dir: string): void {
    this.slots.set(index, dir)
  }

  /** A download ended (done or not): remember its size when it produced a file, wake the waiting gates. */
  release(index: number, size?: number): void {
    this.slots.delete(index)
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
    return [...this.slots.values()].filter((d): d is string => d !== undefined)
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
