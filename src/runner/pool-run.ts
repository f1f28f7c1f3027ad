import {Listr} from 'listr2'

import {EXIT, errorMessage} from '../errors.js'
import {QueueLostError, queueGone} from '../queue/faults.js'
import {newRunId} from '../queue/workers.js'
import {printable} from '../util/text.js'
import {type Lease, type PoolOptions, type PoolSummary, emptySummary, heartbeatMs} from './pool.js'
import {type Attempt, settleError, settleFinished} from './settle.js'
import {Shutdown} from './shutdown.js'
import {type Unit, type UnitSource, animeUnits, jobUnits} from './units.js'

/** One worker's handles: its owner name in the queue, its row in the workers table, its two output lines. */
interface Worker {
  index: number
  owner: string
  id: number
  /** Its live title (interactive output). */
  setTitle: (title: string) => void
  /** A line for the log (or its listr2 output). */
  report: (line: string) => void
}

/** What `runPool` holds while it runs: the summary every worker counts into, the shutdown, what is held. */
export class PoolRun<R, U extends Unit> {
  private readonly source: UnitSource<U>
  private readonly summary: PoolSummary<R>
  private readonly shutdown: Shutdown
  private readonly runId: string
  /** What a forced exit (second Ctrl-C) gives back: the units being worked on, the workers' rows. */
  private readonly held = new Map<U, string>()
  private readonly workerIds = new Set<number>()
  /** The queue's database went away: the first such error, and what could be given back. */
  private queueLost: unknown
  private readonly heldBack = {released: 0, leftLeased: 0}

  constructor(private readonly options: PoolOptions<R, U>) {
    const {queue, stage} = options
    this.source = (
      typeof options.unit === 'object'
        ? options.unit
        : options.unit === 'anime'
          ? animeUnits(queue, stage, {malId: options.malId, whole: options.whole ?? false})
          : jobUnits(queue, stage, {malId: options.malId, host: options.host, selected: options.selected})
    ) as UnitSource<U>
    this.runId = newRunId(queue.host)
    this.summary = emptySummary<R>(stage, options.workers)
    this.shutdown = new Shutdown(options.output, {
      graceMs: options.graceMs,
      install: options.handleSignals ?? true,
      what: options.shutdownWhat ?? `running jobs get ${Math.round(options.graceMs / 1000)}s to finish`,
    })
    this.shutdown.beforeExit.push(async () => {
      await Promise.allSettled([...this.held].map(([unit, owner]) => this.source.release(unit, owner, 'interrupted: the process was stopped')))
      await Promise.allSettled([...this.workerIds].map((id) => queue.workers.beat(id, 'stopped', null)))
    })
  }

  async run(): Promise<PoolSummary<R>> {
    const started = Date.now()
    try {
      await (this.options.output.interactive ? this.runInteractive() : this.runPlain())
    } finally {
      this.summary.interrupted = this.shutdown.stopping
      this.shutdown.dispose()
      this.summary.elapsedMs = Date.now() - started
    }
    if (this.queueLost !== undefined) throw new QueueLostError(this.queueLost, this.heldBack)
    return this.summary
  }

  /** A person at a terminal: one live listr2 line per worker. */
  private async runInteractive(): Promise<void> {
    const tasks = new Listr(
      Array.from({length: this.options.workers}, (_, i) => ({
        title: `worker ${i + 1}: starting`,
        task: async (_ctx: unknown, task: {title: string; output: string}) => {
          const setTitle = (t: string): void => void (task.title = printable(t, 'line'))
          const report = (line: string): void => void (task.output = printable(line, 'line'))
          await this.workerLoop(i + 1, setTitle, report)
        },
      })),
      {concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: {collapseErrors: false}},
    )
    await tasks.run()
    if (tasks.errors.length > 0) throw tasks.errors[0]!.error
  }

  /** Cron, a pipe or --json: timestamped log lines on stderr. */
  private async runPlain(): Promise<void> {
    const {output, stage} = this.options
    const results = await Promise.allSettled(
      Array.from({length: this.options.workers}, (_, i) =>
        this.workerLoop(
          i + 1,
          () => {},
          (line) => output.log(`${stage.workerType}-${i + 1} ${line}`),
        ),
      ),
    )
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (rejected) throw rejected.reason
  }

  /** Whether this run may claim more at all (asked before the gate too: a paused gate must not outwait a finished run). */
  private mayClaim(): boolean {
    const {limit} = this.options
    return !this.shutdown.stopping && !this.summary.halted && (limit === undefined || this.summary.claimed < limit)
  }

  /** The queue's database went away (PostgreSQL stopped, connections ended): no worker claims more; the run ends with exit 75. */
  private loseQueue(error: unknown): void {
    this.queueLost ??= error
    this.summary.halted ??= {message: `lost the connection to the queue's database`, hint: undefined, exitCode: EXIT.TRY_LATER}
  }

  /** Give a unit back after the queue's database went away, where the connection still allows. */
  private async giveBack(unit: U, owner: string, error: unknown): Promise<void> {
    this.loseQueue(error)
    try {
      if ((await this.source.release(unit, owner, `not attempted: the queue's database went away (${errorMessage(error).split('\n')[0]})`)) > 0) {
        this.summary.released++
        this.heldBack.released++
      }
    } catch {
      this.heldBack.leftLeased++
    }
  }

  /** Register the worker, then gate -> claim -> run until nothing is left, the limit is reached or the run stops. */
  private async workerLoop(index: number, setTitle: (t: string) => void, report: (line: string) => void): Promise<void> {
    const {queue, stage} = this.options
    const owner = `${this.runId}:w${index}`
    let id: number
    try {
      id = await queue.workers.register(stage.workerType, owner)
    } catch (error) {
      if (!queueGone(error)) throw error
      return this.loseQueue(error)
    }
    this.workerIds.add(id)
    let status: 'stopped' | 'error' = 'stopped'
    try {
      await this.claimLoop({index, owner, id, setTitle, report})
    } catch (error) {
      if (queueGone(error)) return this.loseQueue(error)
      status = 'error'
      throw error
    } finally {
      await queue.workers.beat(id, status, null).catch((error: unknown) => {
        if (!queueGone(error)) throw error
        this.loseQueue(error)
      })
    }
  }

  private async claimLoop(worker: Worker): Promise<void> {
    const {options} = this
    const {index, setTitle} = worker
    if (options.prepareWorker) {
      setTitle(`worker ${index}: preparing`)
      await options.prepareWorker(index)
    }
    while (this.mayClaim()) {
      if (options.gate && (await options.gate(this.shutdown.stopSignal, {index, say: (line) => setTitle(`worker ${index}: ${line}`)})) === 'stop') break
      try {
        if (!(await this.claimAndRun(worker))) break
      } finally {
        options.gateDone?.(index)
      }
    }
    setTitle(`worker ${index}: done`)
  }

  /** Take a slot under the limit, claim a unit and run it; false when there was nothing (more) to claim. */
  private async claimAndRun(worker: Worker): Promise<boolean> {
    const {queue, leaseMs} = this.options
    if (!this.mayClaim()) return false
    this.summary.claimed++
    const unit = await this.source.claim(worker.owner, leaseMs)
    if (!unit) {
      this.summary.claimed--
      return false
    }
    await queue.workers.beat(worker.id, 'busy', unit.currentJobId)
    worker.setTitle(`worker ${worker.index}: ${unit.label}`)
    await this.runOne(unit, worker)
    await queue.workers.beat(worker.id, 'idle', null)
    return true
  }

  /** Run one unit under its lease, with heartbeats, and settle how it ended. */
  private async runOne(unit: U, worker: Worker): Promise<void> {
    const abort = new AbortController()
    this.shutdown.aborts.add(abort)
    this.held.set(unit, worker.owner)
    const lease = new HeldLease(unit, worker, abort, this.options, this.source)
    const attempt: Attempt<U> = {unit, owner: worker.owner, label: unit.label, source: this.source, summary: this.summary, report: worker.report}
    const t0 = Date.now()
    try {
      const outcome = await Promise.race([this.options.handler(lease.view()), lease.aborted])
      await settleFinished(attempt, outcome, Date.now() - t0)
    } catch (error) {
      await this.settleThrown(attempt, error, lease)
    } finally {
      await lease.stop()
      this.shutdown.aborts.delete(abort)
      this.held.delete(unit)
    }
  }

  private async settleThrown(attempt: Attempt<U>, error: unknown, lease: HeldLease<U>): Promise<void> {
    const {backoff, output} = this.options
    try {
      await settleError(attempt, error, {lost: lease.lost, interrupted: lease.signal.aborted && this.shutdown.stopping, backoff, output})
    } catch (second) {
      if (!queueGone(second)) throw second
      await this.giveBack(attempt.unit, attempt.owner, second)
      attempt.report(`${attempt.label}: the queue's database went away: ${errorMessage(second).split('\n')[0]}`)
    }
  }
}

/** A unit under lease while its handler runs: the heartbeat timer, the abort on a lost lease, the handler's view. */
class HeldLease<U extends Unit> {
  lost = false
  private progress: number | undefined
  private beating: Promise<void> = Promise.resolve()
  private readonly timer: NodeJS.Timeout
  /** Rejects when the attempt is aborted (shutdown past its grace, or the lease lost). */
  readonly aborted: Promise<never>

  constructor(
    private readonly unit: U,
    private readonly worker: Worker,
    private readonly abort: AbortController,
    private readonly options: Pick<PoolOptions<unknown, U>, 'queue' | 'leaseMs' | 'output'>,
    private readonly source: UnitSource<U>,
  ) {
    this.timer = setInterval(() => {
      this.beating = this.extend()
        .then(() => options.queue.workers.beat(worker.id, 'busy', unit.currentJobId))
        .catch((error: unknown) => options.output.debug(`heartbeat failed: ${errorMessage(error)}`))
    }, heartbeatMs(options.leaseMs))
    this.aborted = new Promise<never>((_, reject) => {
      const reason = (): Error => (abort.signal.reason instanceof Error ? abort.signal.reason : new Error(String(abort.signal.reason)))
      abort.signal.addEventListener('abort', () => reject(reason()), {once: true})
    })
    this.aborted.catch(() => {})
  }

  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** Heartbeat now; a lost lease aborts the handler. */
  async extend(): Promise<boolean> {
    const ok = await this.source.extend(this.unit, this.worker.owner, this.options.leaseMs, this.progress)
    if (!ok && !this.lost) {
      this.lost = true
      this.abort.abort(new Error('lease lost'))
    }
    return ok
  }

  /** What the stage's handler sees. */
  view(): Lease<U> {
    const {unit, worker} = this
    return {
      unit,
      jobs: unit.jobs,
      job: unit.jobs[0]!,
      owner: worker.owner,
      worker: worker.index,
      signal: this.abort.signal,
      progress: (f) => {
        this.progress = Math.min(1, Math.max(0, f))
      },
      note: async (m) => {
        await this.source.note(unit, worker.owner, m)
        if (this.options.output.verbose) worker.report(`${unit.label}: ${m}`)
      },
      extend: () => this.extend(),
      status: (line) => worker.setTitle(`worker ${worker.index}: ${unit.label}: ${line}`),
    }
  }

  /** Stop the heartbeat; one in flight must not land after the worker's next status. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.beating
  }
}
