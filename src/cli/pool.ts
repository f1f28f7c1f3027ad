import {Listr} from 'listr2'

import {PermanentJobError, errorMessage} from '../errors.js'
import type {Backoff, JobFields, JobRow, Queue} from '../queue/jobs.js'
import type {StageDef} from '../queue/stages.js'
import {type WorkerRegistry, newRunId} from '../queue/workers.js'
import type {Output} from './output.js'
import {Shutdown} from './shutdown.js'

export interface JobContext {
  job: JobRow
  /** Which pool worker runs it (1..N): per-worker resources such as a tokenizer thread. */
  worker: number
  /** Aborted when the run is shutting down past its grace period or the lease was lost. */
  signal: AbortSignal
  /** Report progress (0..1); it rides on the next heartbeat. */
  progress(fraction: number): void
  /** A line for the job's history (job_events) and the log. */
  note(message: string): void
}

export interface JobOutcome {
  fields?: JobFields
  /** One line for the log and the job's history ("1,234 tokens"). */
  message?: string
}

export type JobHandler = (ctx: JobContext) => Promise<JobOutcome>

export interface PoolOptions {
  queue: Queue
  registry: WorkerRegistry
  stage: StageDef
  workers: number
  /** Claim at most this many jobs in this run, over all workers. */
  limit?: number | undefined
  malId?: number | undefined
  leaseMs: number
  graceMs: number
  backoff: Backoff
  output: Output
  handler: JobHandler
  /** Called once per worker before it claims its first job (load a dictionary, ...). */
  prepareWorker?: (index: number) => Promise<void>
  /** Install SIGINT/SIGTERM handlers (off in in-process tests). */
  handleSignals?: boolean
}

export interface PoolSummary {
  stage: string
  workers: number
  claimed: number
  done: number
  failed: number
  retried: number
  lost: number
  released: number
  interrupted: boolean
  elapsedMs: number
  failures: {jobId: number; label: string; error: string}[]
}

export function jobLabel(job: Pick<JobRow, 'id' | 'anime_title' | 'episode'>): string {
  return `job ${job.id} (${job.anime_title} ep ${job.episode})`
}

/**
 * The bounded worker pool every stage runs on: N listr2 tasks, each looping
 * claim -> run -> finish, with heartbeats, fenced results and a graceful shutdown.
 */
export async function runPool(options: PoolOptions): Promise<PoolSummary> {
  const {queue, stage, output} = options
  const started = Date.now()
  const runId = newRunId()
  const summary: PoolSummary = {
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
  }
  const shutdown = new Shutdown(output, {
    graceMs: options.graceMs,
    install: options.handleSignals ?? true,
    what: `running jobs get ${Math.round(options.graceMs / 1000)}s to finish`,
  })
  const heartbeatMs = Math.max(50, Math.floor(options.leaseMs / 3))

  const recovered = queue.recoverExpired()
  if (recovered.recovered + recovered.failed > 0) {
    output.log(`recovered ${recovered.recovered} job(s) from expired leases${recovered.failed ? `, failed ${recovered.failed} that kept killing workers` : ''}`)
  }

  const takeSlot = (): boolean => {
    if (shutdown.stopping) return false
    if (options.limit !== undefined && summary.claimed >= options.limit) return false
    summary.claimed++
    return true
  }

  async function runOne(job: JobRow, index: number, owner: string, workerId: number, report: (line: string) => void): Promise<void> {
    const abort = new AbortController()
    shutdown.aborts.add(abort)
    let progress: number | undefined
    let lost = false
    const beat = setInterval(() => {
      if (!queue.extendLease(job.id, owner, options.leaseMs, progress)) {
        lost = true
        abort.abort(new Error('lease lost'))
      }
      options.registry.beat(workerId, 'busy', job.id)
    }, heartbeatMs)
    const t0 = Date.now()
    const ctx: JobContext = {
      job,
      worker: index,
      signal: abort.signal,
      progress: (f) => {
        progress = Math.min(1, Math.max(0, f))
      },
      note: (m) => {
        queue.addEvent(job.id, stage.running, 'note', 'info', m, owner)
        if (options.output.verbose) report(`${jobLabel(job)}: ${m}`)
      },
    }
    const aborted = new Promise<never>((_, reject) => {
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), {once: true})
    })
    aborted.catch(() => {})
    try {
      const outcome = await Promise.race([options.handler(ctx), aborted])
      if (queue.finish(job.id, owner, stage, outcome.fields ?? {}, outcome.message)) {
        summary.done++
        report(`${jobLabel(job)}: ${stage.output}${outcome.message ? `, ${outcome.message}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)}s)`)
      } else {
        summary.lost++
        report(`${jobLabel(job)}: lease lost to another worker; result discarded`)
      }
    } catch (error) {
      if (lost) {
        summary.lost++
        report(`${jobLabel(job)}: lease lost to another worker; abandoned`)
      } else if (abort.signal.aborted && shutdown.stopping) {
        if (queue.release(job.id, owner, stage, 'interrupted: released at shutdown')) summary.released++
        report(`${jobLabel(job)}: interrupted, released back to ${stage.input}`)
      } else {
        const message = errorMessage(error).split('\n')[0]!.slice(0, 500)
        const outcome = queue.fail(job.id, owner, stage, message, !(error instanceof PermanentJobError), options.backoff)
        if (outcome === 'retry') summary.retried++
        if (outcome === 'failed') {
          summary.failed++
          summary.failures.push({jobId: job.id, label: jobLabel(job), error: message})
        }
        if (outcome === 'lost') summary.lost++
        report(`${jobLabel(job)}: ${outcome === 'retry' ? 'will retry' : outcome === 'failed' ? 'FAILED' : 'lease lost'}: ${message}`)
        if (options.output.verbose && error instanceof Error && error.stack) output.log(error.stack)
      }
    } finally {
      clearInterval(beat)
      shutdown.aborts.delete(abort)
    }
  }

  async function workerLoop(index: number, setTitle: (t: string) => void, report: (line: string) => void): Promise<void> {
    const owner = `${runId}:w${index}`
    const workerId = options.registry.register(stage.workerType, owner)
    let status: 'stopped' | 'error' = 'stopped'
    try {
      if (options.prepareWorker) {
        setTitle(`worker ${index}: preparing`)
        await options.prepareWorker(index)
      }
      while (takeSlot()) {
        const [job] = queue.claim({stage, owner, count: 1, leaseMs: options.leaseMs, malId: options.malId})
        if (!job) {
          summary.claimed--
          break
        }
        options.registry.beat(workerId, 'busy', job.id)
        setTitle(`worker ${index}: ${jobLabel(job)}`)
        await runOne(job, index, owner, workerId, report)
        options.registry.beat(workerId, 'idle', null)
      }
      setTitle(`worker ${index}: done`)
    } catch (error) {
      status = 'error'
      throw error
    } finally {
      options.registry.beat(workerId, status, null)
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
                task.title = t
              },
              (line) => {
                task.output = line
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
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined
      if (rejected) throw rejected.reason
    }
  } finally {
    summary.interrupted = shutdown.stopping
    shutdown.dispose()
    summary.elapsedMs = Date.now() - started
  }
  return summary
}

