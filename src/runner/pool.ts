import {Listr} from 'listr2'

import type {Output} from '../app/output.js'
import {EXIT, PermanentJobError, StopRunError, errorMessage} from '../errors.js'
import {QueueLostError, queueGone} from '../queue/faults.js'
import type {Queue} from '../queue/index.js'
import type {JobFields, JobRow} from '../queue/rows.js'
import type {StageDef} from '../queue/stages.js'
import {newRunId} from '../queue/workers.js'
import type {Backoff} from '../util/backoff.js'
import {printable} from '../util/text.js'
import {Shutdown} from './shutdown.js'
import {type Unit, type UnitSource, animeUnits, jobUnits} from './units.js'

export {jobLabel} from './units.js'

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

/** A full disk or a folder that cannot be written: one line with the path, and whether space will fix it. */
export function storageProblem(error: unknown): {full: boolean; message: string; hint: string} | undefined {
  const e = error as NodeJS.ErrnoException | null | undefined
  const where = e?.path ? ` (${e.path})` : ''
  if (e?.code === 'ENOSPC')
    return {full: true, message: `disk full${where}: no space left on the device`, hint: 'free space (animezipf cleanup, a transcribe run) and run again'}
  if (e?.code === 'EDQUOT') return {full: true, message: `disk quota exceeded${where}`, hint: 'free space or raise the quota, and run again'}
  if (e?.code === 'EROFS')
    return {full: false, message: `cannot write${where}: the filesystem is read-only`, hint: 'point [data] root_dir / storage_dir at a writable folder'}
  if (e?.code === 'EACCES' || e?.code === 'EPERM')
    return {
      full: false,
      message: `cannot write${where}: permission denied (${e.code})`,
      hint: "fix the folder's permissions or point [data] root_dir / storage_dir elsewhere",
    }
  return undefined
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
  const {queue, stage, output} = options
  const source = (
    typeof options.unit === 'object'
      ? options.unit
      : options.unit === 'anime'
        ? animeUnits(queue, stage, {malId: options.malId, whole: options.whole ?? false})
        : jobUnits(queue, stage, {malId: options.malId, host: options.host, selected: options.selected})
  ) as UnitSource<U>
  const started = Date.now()
  const runId = newRunId(queue.host)
  const summary: PoolSummary<R> = {
    stage: stage.name,
    workers: options.workers,
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
  const shutdown = new Shutdown(output, {
    graceMs: options.graceMs,
    install: options.handleSignals ?? true,
    what: options.shutdownWhat ?? `running jobs get ${Math.round(options.graceMs / 1000)}s to finish`,
  })

  /** Whether this run may claim more at all (asked before the gate too: a paused gate must not outwait a finished run). */
  const mayClaim = (): boolean => !shutdown.stopping && !summary.halted && (options.limit === undefined || summary.claimed < options.limit)
  // what a forced exit (second Ctrl-C) gives back: the units being worked on, the workers' rows
  const held = new Map<U, string>()
  const workerIds = new Set<number>()
  shutdown.beforeExit.push(async () => {
    await Promise.allSettled([...held].map(([unit, owner]) => source.release(unit, owner, 'interrupted: the process was stopped')))
    await Promise.allSettled([...workerIds].map((id) => queue.workers.beat(id, 'stopped', null)))
  })
  // the queue's database went away (PostgreSQL stopped, restarted, connections ended): no worker
  // claims more, each gives its job back where the connection allows, and the run ends with exit 75
  let queueLost: unknown
  const heldBack = {released: 0, leftLeased: 0}
  const loseQueue = (error: unknown): void => {
    queueLost ??= error
    summary.halted ??= {message: `lost the connection to the queue's database`, hint: undefined, exitCode: EXIT.TRY_LATER}
  }
  const giveBack = async (unit: U, owner: string, error: unknown): Promise<void> => {
    loseQueue(error)
    try {
      if ((await source.release(unit, owner, `not attempted: the queue's database went away (${errorMessage(error).split('\n')[0]})`)) > 0) {
        summary.released++
        heldBack.released++
      }
    } catch {
      heldBack.leftLeased++
    }
  }
  const takeSlot = (): boolean => {
    if (!mayClaim()) return false
    summary.claimed++
    return true
  }

  async function runOne(unit: U, index: number, owner: string, workerId: number, report: (line: string) => void, setTitle: (t: string) => void): Promise<void> {
    const abort = new AbortController()
    shutdown.aborts.add(abort)
    held.set(unit, owner)
    let progress: number | undefined
    let lost = false
    const extend = async (): Promise<boolean> => {
      const ok = await source.extend(unit, owner, options.leaseMs, progress)
      if (!ok && !lost) {
        lost = true
        abort.abort(new Error('lease lost'))
      }
      return ok
    }
    let beating: Promise<void> = Promise.resolve()
    const beat = setInterval(() => {
      beating = extend()
        .then(() => queue.workers.beat(workerId, 'busy', unit.currentJobId))
        .catch((error: unknown) => output.debug(`heartbeat failed: ${errorMessage(error)}`))
    }, heartbeatMs(options.leaseMs))
    const t0 = Date.now()
    const label = unit.label
    const lease: Lease<U> = {
      unit,
      jobs: unit.jobs,
      job: unit.jobs[0]!,
      owner,
      worker: index,
      signal: abort.signal,
      progress: (f) => {
        progress = Math.min(1, Math.max(0, f))
      },
      note: async (m) => {
        await source.note(unit, owner, m)
        if (options.output.verbose) report(`${label}: ${m}`)
      },
      extend,
      status: (line) => setTitle(`worker ${index}: ${label}: ${line}`),
    }
    const aborted = new Promise<never>((_, reject) => {
      abort.signal.addEventListener(
        'abort',
        () => reject(abort.signal.reason instanceof Error ? abort.signal.reason : new Error(String(abort.signal.reason))),
        {once: true},
      )
    })
    aborted.catch(() => {})
    try {
      const outcome = await Promise.race([options.handler(lease), aborted])
      if (await source.finish(unit, owner, outcome.fields ?? {}, outcome.message)) {
        summary.done++
        if (outcome.record !== undefined) summary.records.push(outcome.record)
        report(`${label}: ${stage.output}${outcome.message ? `, ${outcome.message}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)}s)`)
      } else {
        summary.lost++
        report(`${label}: lease lost to another worker; result discarded`)
      }
    } catch (error) {
      try {
        await settle(error)
      } catch (second) {
        if (!queueGone(second)) throw second
        await giveBack(unit, owner, second)
        report(`${label}: the queue's database went away: ${errorMessage(second).split('\n')[0]}`)
      }
    } finally {
      clearInterval(beat)
      // a heartbeat in flight must not land after the worker's next status
      await beating
      shutdown.aborts.delete(abort)
      held.delete(unit)
    }

    /** Record how the attempt ended: lost, halted, released at shutdown, deferred, retried or failed. */
    async function settle(error: unknown): Promise<void> {
      if (lost) {
        summary.lost++
        report(`${label}: lease lost to another worker; abandoned`)
      } else if (queueGone(error)) {
        throw error
      } else if (error instanceof StopRunError) {
        summary.halted ??= {message: error.message, hint: error.hint, exitCode: error.exitCode}
        if ((await source.release(unit, owner, `not attempted: ${error.message}`)) > 0) summary.released++
        report(`${label}: released back to ${stage.input}: ${error.message}`)
      } else if (abort.signal.aborted && shutdown.stopping) {
        if ((await source.release(unit, owner, 'interrupted: released at shutdown')) > 0) {
          summary.released++
          report(`${label}: interrupted, released back to ${stage.input}`)
        } else {
          summary.lost++
          report(`${label}: interrupted; its lease was already lost`)
        }
      } else if (storageProblem(error)) {
        // the machine's fault, not the job's: the same would happen to every job
        const problem = storageProblem(error)!
        if (problem.full) {
          // the job says why it did not finish, without using up a retry (the disk, not the job, was
          // at fault); no other starts
          if ((await source.defer(unit, owner, problem.message)) > 0) summary.retried++
        } else if ((await source.release(unit, owner, `not attempted: ${problem.message}`)) > 0) summary.released++
        summary.halted ??= {message: problem.message, hint: problem.hint, exitCode: problem.full ? EXIT.TRY_LATER : EXIT.USAGE}
        report(`${label}: ${problem.message}`)
      } else {
        const message = errorMessage(error).split('\n')[0]!.slice(0, 500)
        const transient = !(error instanceof PermanentJobError)
        const outcome = await source.fail(unit, owner, message, transient, options.backoff)
        if (outcome === 'retry') summary.retried++
        if (outcome === 'failed') {
          summary.failed++
          summary.failures.push({jobId: unit.currentJobId ?? 0, label, error: message})
        }
        if (outcome === 'lost') summary.lost++
        report(`${label}: ${outcome === 'retry' ? 'will retry' : outcome === 'failed' ? 'FAILED' : 'lease lost'}: ${message}`)
        if (options.output.verbose && error instanceof Error && error.stack) output.log(error.stack)
      }
    }
  }

  async function workerLoop(index: number, setTitle: (t: string) => void, report: (line: string) => void): Promise<void> {
    const owner = `${runId}:w${index}`
    let workerId: number
    try {
      workerId = await queue.workers.register(stage.workerType, owner)
    } catch (error) {
      if (!queueGone(error)) throw error
      loseQueue(error)
      return
    }
    workerIds.add(workerId)
    let status: 'stopped' | 'error' = 'stopped'
    try {
      if (options.prepareWorker) {
        setTitle(`worker ${index}: preparing`)
        await options.prepareWorker(index)
      }
      for (;;) {
        if (!mayClaim()) break
        if (options.gate && (await options.gate(shutdown.stopSignal, {index, say: (line) => setTitle(`worker ${index}: ${line}`)})) === 'stop') break
        try {
          if (!takeSlot()) break
          const unit = await source.claim(owner, options.leaseMs)
          if (!unit) {
            summary.claimed--
            break
          }
          await queue.workers.beat(workerId, 'busy', unit.currentJobId)
          setTitle(`worker ${index}: ${unit.label}`)
          await runOne(unit, index, owner, workerId, report, setTitle)
          await queue.workers.beat(workerId, 'idle', null)
        } finally {
          options.gateDone?.(index)
        }
      }
      setTitle(`worker ${index}: done`)
    } catch (error) {
      if (queueGone(error)) {
        loseQueue(error)
        return
      }
      status = 'error'
      throw error
    } finally {
      await queue.workers.beat(workerId, status, null).catch((error: unknown) => {
        if (!queueGone(error)) throw error
        loseQueue(error)
      })
    }
  }

  try {
    if (output.interactive) {
      const tasks = new Listr(
        Array.from({length: options.workers}, (_, i) => ({
          title: `worker ${i + 1}: starting`,
          task: async (_ctx: unknown, task: {title: string; output: string}) => {
            await workerLoop(
              i + 1,
              (t) => {
                task.title = printable(t, 'line')
              },
              (line) => {
                task.output = printable(line, 'line')
              },
            )
          },
        })),
        {concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: {collapseErrors: false}},
      )
      await tasks.run()
      const errors = tasks.errors
      if (errors.length > 0) throw errors[0]!.error
    } else {
      const results = await Promise.allSettled(
        Array.from({length: options.workers}, (_, i) =>
          workerLoop(
            i + 1,
            () => {},
            (line) => output.log(`${stage.workerType}-${i + 1} ${line}`),
          ),
        ),
      )
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (rejected) throw rejected.reason
    }
  } finally {
    summary.interrupted = shutdown.stopping
    shutdown.dispose()
    summary.elapsedMs = Date.now() - started
  }
  if (queueLost !== undefined) throw new QueueLostError(queueLost, heldBack)
  return summary
}
