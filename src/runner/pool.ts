import type {Output} from '../app/output.js'
import type {Queue} from '../queue/index.js'
import type {JobFields, JobRow} from '../queue/rows.js'
import type {StageDef} from '../queue/stages.js'
import type {Backoff} from '../util/backoff.js'
import {PoolRun} from './pool-run.js'
import type {Unit, UnitSource} from './units.js'

export {jobLabel} from './units.js'
export {storageProblem} from './settle.js'

/** What a handler holds while it works: the unit (and its jobs) under one lease. */
export interface Lease<U extends Unit = Unit> {
  unit: U
  /** The jobs of the unit: one for job stages, every claimed episode of the anime for anime stages. */
  jobs: JobRow[]
  /** The first (or only) job; undefined for units that hold no job. */
  job: JobRow
  owner: string
  /** Which pool worker runs it (1..N): per-worker resources such as a tokenizer thread. */
  worker: number
  /** Aborted when the run is shutting down past its grace period or the lease was lost. */
  signal: AbortSignal
  /** Report progress (0..1); it rides on the next heartbeat. */
  progress: (fraction: number) => void
  /** A line for the job's history (job_events) and the log. */
  note: (message: string) => Promise<void>
  /** Heartbeat now (the runner also does it on a timer); false when the lease was lost. */
  extend: () => Promise<boolean>
  /** The worker's live line (interactive output): "12.5 MB, 0:42". */
  status: (line: string) => void
}

export interface UnitOutcome<R = unknown> {
  fields?: JobFields
  /** One line for the log and the job's history ("1,234 tokens"). */
  message?: string
  /** What the stage wants back in the summary (per-anime figures). */
  record?: R
}
export type UnitHandler<R = unknown, U extends Unit = Unit> = (lease: Lease<U>) => Promise<UnitOutcome<R>>

/** Asked before each claim by worker `index`; `say` sets its live line while it waits. */
export type Gate = (signal: AbortSignal, worker: {index: number; say: (line: string) => void}) => Promise<'claim' | 'stop'>

export interface PoolOptions<R = unknown, U extends Unit = Unit> {
  queue: Queue
  stage: StageDef
  /** 'job': one job per claim; 'anime': every claimable episode of one anime; or a source of other units. */
  unit?: 'job' | 'anime' | UnitSource<U>
  /** Anime units: only anime with no episode still in an earlier stage. */
  whole?: boolean
  workers: number
  /** Claim at most this many units in this run, over all workers. */
  limit?: number | undefined
  malId?: number | undefined
  /** Claim only jobs whose video is on this host. */
  host?: string | undefined
  /** Claim only jobs whose anime has a selection of one of these confidences (or a manual one). */
  selected?: readonly string[] | undefined
  leaseMs: number
  graceMs: number
  backoff: Backoff
  output: Output
  handler: UnitHandler<R, U>
  /** Called once per worker before it claims its first unit (load a dictionary, ...). */
  prepareWorker?: (index: number) => Promise<void>
  /** Asked before every claim; may wait (download pauses on disk use) or stop the worker. */
  gate?: Gate
  /** Called when what the gate let through is over (the unit settled, or nothing was claimed). */
  gateDone?: (index: number) => void
  /** Install SIGINT/SIGTERM handlers (off in in-process tests). */
  handleSignals?: boolean
  /** What a running unit does on the first Ctrl-C, for the log line. */
  shutdownWhat?: string
}

export interface PoolSummary<R = unknown> {
  stage: string
  workers: number
  claimed: number
  done: number
  failed: number
  retried: number
  lost: number
  released: number
  interrupted: boolean
  /** Why the run stopped early for every job (a StopRunError), with its hint and exit code. */
  halted?: {message: string; hint: string | undefined; exitCode: number}
  elapsedMs: number
  failures: {jobId: number; label: string; error: string}[]
  records: R[]
}

/** Heartbeats every third of the lease: two can be missed before it expires. */
export function heartbeatMs(leaseMs: number): number {
  return Math.max(50, Math.floor(leaseMs / 3))
}

/**
 * The one worker pool every stage runs on: N listr2 tasks, each looping gate -> claim -> run ->
 * finish, with heartbeats, fenced results, the workers registry and a graceful shutdown.
 */
export async function runPool<R = unknown, U extends Unit = Unit>(options: PoolOptions<R, U>): Promise<PoolSummary<R>> {
  return new PoolRun(options).run()
}

/** A summary of a run that claimed nothing (a stage with nothing ready skips the pool). */
export function emptySummary<R>(stage: StageDef, workers = 0): PoolSummary<R> {
  return {
    stage: stage.name,
    workers,
    claimed: 0,
    done: 0,
    failed: 0,
    retried: 0,
    lost: 0,
    released: 0,
    interrupted: false,
    elapsedMs: 0,
    failures: [],
    records: [],
  }
}
