import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {requireAnime} from '../queue/anime.js'
import type {Queue} from '../queue/index.js'
import type {Recovery} from '../queue/jobs.js'
import type {JobRow} from '../queue/rows.js'
import type {JobStage, StageDef} from '../queue/stages.js'
import {type Gate, type Lease, type PoolSummary, type UnitOutcome, emptySummary, runPool} from './pool.js'
import {type JobStageFigures, type StageIdle, type StagePlan, nothingToDo, planClaims, stageFigures} from './stage-result.js'
import {type Unit, type UnitSource, jobUnits} from './units.js'

export {poolExitCode} from './stage-result.js'
export type {JobStageFigures, StageIdle, StagePlan} from './stage-result.js'

/** The flags every stage run takes. */
export interface StageRunFlags {
  limit?: number | undefined
  malId?: number | undefined
  dryRun: boolean
}

/** What `prepare` hands the runner besides the stage's own dependencies. */
export interface StageDeps {
  /** Workers at once (before the runner caps them by what is ready and by --limit). */
  workers: number
  /** Asked before every claim; may wait (download pauses on disk use) or stop the worker. */
  gate?: Gate
  /** Called when what the gate let through is over. */
  gateDone?: (index: number) => void
  /** Called once per worker before its first claim (load a dictionary). */
  prepareWorker?: (index: number) => Promise<void>
  /** Release per-run resources (threads), whatever happened. */
  close?: () => Promise<void>
  /** Only jobs whose anime has a selection of these confidences (download). */
  selected?: readonly string[] | undefined
  /** --dry-run --force: jobs in these stages count as back in the input stage. */
  rewoundFrom?: JobStage[] | undefined
  /** What a running unit does on the first Ctrl-C, for the log line. */
  shutdownWhat?: string
}

/** One run of a stage, as the runner hands it to the stage's hooks: the queue is open in the mode the run needs. */
export interface StageRun<O extends StageRunFlags = StageRunFlags> {
  ctx: AppContext
  queue: Queue
  options: O
  /** The host this run claims for (host-bound stages on unshared storage), else undefined. */
  host: string | undefined
  /** Jobs of dead workers put back before the run (none under --dry-run). */
  recovery: Recovery
  /** Lines said before the plan or the summary (what --force did). */
  preamble: string[]
}

/** How a stage's units are claimed, what its handler gets of each, and how many are ready. */
export interface UnitKind<U extends Unit, W> {
  source: UnitSource<U>
  subject: (unit: U) => W
  /** Units ready and waiting in backoff; without it the pool always starts (it claims what there is). */
  eligible?: () => Promise<{ready: number; waiting: number}>
}

/**
 * A stage, declared: the runner does recovery, --dry-run, claiming, leases, the disk gate,
 * retries, exit codes and output once for all of them; the stage says what one job does.
 */
export interface Stage<O extends StageRunFlags, D extends StageDeps, R, T extends object, U extends Unit = Unit, W = JobRow> {
  /** The queue transition: input -> running -> output. */
  def: StageDef
  /** Resolve config, binaries and models before the queue opens (a user's mistake creates nothing). */
  prepare(ctx: AppContext, options: O): Promise<D>
  /** Queue-side work before claiming (--force rewinds, stale scratch folders); under --dry-run it only says what it would do. */
  start?(run: StageRun<O>, deps: D): Promise<void>
  /** The units it claims; default one job per claim. */
  units?(run: StageRun<O>, deps: D): UnitKind<U, W>
  /** What one unit does: its fields for the queue, a line for the log, a record for the summary. */
  handleJob(work: W, lease: Lease<U>, deps: D): Promise<UnitOutcome<R>>
  /** What it would do with a job, one line (--dry-run). */
  describe(job: JobRow, deps: D): string
  /** A dry run of its own (stages whose units are not jobs). */
  plan?(run: StageRun<O>, deps: D): Promise<ServiceResult<T>>
  /** With nothing ready: 'skip' says so and ends (job stages); 'summarize' still summarizes an empty run. */
  whenIdle?: 'skip' | 'summarize'
  /** With nothing ready ('skip'): what the stage adds to the runner's idle result. */
  idle?(result: ServiceResult<StageIdle>, run: StageRun<O>, deps: D): Promise<ServiceResult<T>>
  /** The typed result and the summary lines, from the pool's records. */
  summarize(summary: PoolSummary<R>, run: StageRun<O>, deps: D): Promise<ServiceResult<T>>
}

/** Put jobs of dead workers back, once per run, and say what was done. */
export async function recoverExpired(ctx: AppContext, queue: Queue): Promise<Recovery> {
  const r = await queue.jobs.recoverExpired()
  for (const d of r.details.slice(0, 20)) {
    ctx.output.log(
      `recovery: job ${d.jobId} was ${d.stage} under ${d.owner} whose ${d.processGone ? 'process is gone (not counted against the job)' : `lease expired (${d.expiries} time(s) in this stage)`}: ${d.to === 'failed' ? 'failed, it keeps killing or hanging its workers' : `back to ${d.to}`}`,
    )
  }
  if (r.details.length > 20) ctx.output.log(`recovery: ${r.details.length - 20} more`)
  return r
}

/** One job per claim, each handed to the stage as it is. */
export function jobUnitKind(run: StageRun, stage: StageDef, selected?: readonly string[]): UnitKind<Unit, JobRow> {
  const filter = {malId: run.options.malId, host: run.host, selected}
  return {
    source: jobUnits(run.queue, stage, filter),
    subject: (unit) => unit.jobs[0]!,
    eligible: () => run.queue.jobs.countEligible(stage, filter.malId, filter.host, filter.selected),
  }
}

/** The one way into the runner: every stage command runs its declared stage through here. */
export async function runStage<O extends StageRunFlags, D extends StageDeps, R, T extends object, U extends Unit, W>(
  ctx: AppContext,
  stage: Stage<O, D, R, T, U, W>,
  options: O,
): Promise<ServiceResult<T | StagePlan | StageIdle>> {
  const deps = await stage.prepare(ctx, options)
  try {
    const run = await openRun(ctx, stage.def, options)
    await stage.start?.(run, deps)
    if (options.dryRun) return await (stage.plan ? stage.plan(run, deps) : planClaims(run, stage.def, deps, (job) => stage.describe(job, deps)))
    const kind = stage.units?.(run, deps) ?? (jobUnitKind(run, stage.def, deps.selected) as unknown as UnitKind<U, W>)
    const eligible = await kind.eligible?.()
    if (eligible?.ready === 0 && stage.whenIdle !== 'summarize') {
      const idle = await nothingToDo(run, stage.def, eligible.waiting)
      return stage.idle ? await stage.idle(idle, run, deps) : idle
    }
    const summary = eligible?.ready === 0 ? emptySummary<R>(stage.def) : await poolRun(run, stage, deps, kind, eligible?.ready)
    return await stage.summarize(summary, run, deps)
  } finally {
    await deps.close?.()
  }
}

/** Open the queue once in the mode the run needs, check --anime-id, and put dead workers' jobs back. */
async function openRun<O extends StageRunFlags>(ctx: AppContext, stage: StageDef, options: O): Promise<StageRun<O>> {
  const queue = await ctx.queue({readonly: options.dryRun})
  await requireAnime(queue.anime, options.malId)
  const recovery = options.dryRun ? {recovered: 0, failed: 0, details: []} : await recoverExpired(ctx, queue)
  // host-bound stages claim only what is on this machine's storage, unless it is shared
  const host = stage.hostBound && !ctx.config.data.storage_shared ? ctx.host : undefined
  return {ctx, queue, options, host, recovery, preamble: []}
}

async function poolRun<O extends StageRunFlags, D extends StageDeps, R, T extends object, U extends Unit, W>(
  run: StageRun<O>,
  stage: Stage<O, D, R, T, U, W>,
  deps: D,
  kind: UnitKind<U, W>,
  ready: number | undefined,
): Promise<PoolSummary<R>> {
  const {ctx, options} = run
  return runPool<R, U>({
    queue: run.queue,
    stage: stage.def,
    unit: kind.source,
    workers: Math.max(1, Math.min(deps.workers, ready ?? Number.MAX_SAFE_INTEGER, options.limit ?? Number.MAX_SAFE_INTEGER)),
    limit: options.limit,
    leaseMs: ctx.leaseMs,
    graceMs: ctx.config.queue.shutdown_grace_seconds * 1000,
    backoff: ctx.backoff,
    output: ctx.output,
    handler: (lease) => stage.handleJob(kind.subject(lease.unit), lease, deps),
    prepareWorker: deps.prepareWorker,
    gate: deps.gate,
    gateDone: deps.gateDone,
    shutdownWhat: deps.shutdownWhat,
  })
}

/** The result every job stage gives: the pool's figures and recovery, its summary lines and exit code. */
export function jobStageResult(summary: PoolSummary, run: StageRun): ServiceResult<JobStageFigures> {
  return stageFigures(summary, run.recovery, run.preamble)
}
