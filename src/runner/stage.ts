import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT} from '../errors.js'
import {requireAnime} from '../queue/anime.js'
import type {Queue} from '../queue/index.js'
import type {Recovery} from '../queue/jobs.js'
import type {JobRow} from '../queue/rows.js'
import type {JobStage, StageDef} from '../queue/stages.js'
import {type Gate, type PoolSummary, type UnitHandler, jobLabel, runPool} from './pool.js'

export interface StageRunOptions {
  stage: StageDef
  workers: number
  limit?: number | undefined
  malId?: number | undefined
  dryRun: boolean
  /** What the stage would do with a job (--dry-run), one line. */
  describe: (job: JobRow) => string
  handler: UnitHandler
  prepareWorker?: (index: number) => Promise<void>
  gate?: Gate
  gateDone?: (index: number) => void
  /** --dry-run --force: jobs in these stages count as back in the input stage (what --force would do first). */
  dryRunRewoundFrom?: JobStage[]
  /** Only jobs whose anime has a selection of these confidences (download). */
  selected?: readonly string[] | undefined
  /** Release per-run resources (threads) whatever happened. */
  cleanup?: () => Promise<void>
  /** Extra figures for the summary, computed after the run. */
  extra?: (summary: PoolSummary) => Record<string, unknown>
  /** Lines to say before the plan or the summary (what --force did, ...). */
  preamble?: string[]
}

export type StageRunResult = ServiceResult

/** The host a stage claims for: its own for host-bound stages unless storage is shared. */
function claimHost(ctx: AppContext, stage: StageDef): string | undefined {
  return stage.hostBound && !ctx.config.data.storage_shared ? ctx.host : undefined
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

/** Run one job-unit stage through the pool with the exit codes, dry-run and summary every stage shares. */
export async function runStage(ctx: AppContext, options: StageRunOptions): Promise<StageRunResult> {
  const {stage} = options
  const text = [...(options.preamble ?? [])]
  const host = claimHost(ctx, stage)
  await requireAnime((await ctx.queue({readonly: options.dryRun})).anime, options.malId)
  if (options.dryRun) {
    const queue = await ctx.queue({readonly: true})
    const jobs = await queue.jobs.previewClaim(
      stage,
      options.limit ?? Number.MAX_SAFE_INTEGER,
      options.malId,
      host,
      options.selected,
      options.dryRunRewoundFrom,
    )
    const waiting = (await queue.jobs.countEligible(stage, options.malId, host, options.selected)).waiting
    const plan = jobs.map((j) => ({job_id: j.id, mal_id: j.mal_id, anime: j.anime_title, episode: j.episode, action: options.describe(j)}))
    text.push(`dry run: ${stage.name} would claim ${plan.length} job(s) from '${stage.input}' with ${options.workers} worker(s); nothing was changed`)
    for (const p of plan) text.push(`  ${jobLabel({id: p.job_id, anime_title: p.anime, episode: p.episode})}: ${p.action}`)
    if (waiting > 0) text.push(`  (${waiting} more waiting in retry backoff)`)
    return {
      code: EXIT.OK,
      result: {dry_run: true, stage: stage.name, workers: options.workers, would_claim: plan.length, jobs: plan, waiting_in_backoff: waiting},
      text,
    }
  }

  const queue = await ctx.queue()
  const recovery = await recoverExpired(ctx, queue)
  const recovered = {recovered: recovery.recovered, failed_by_recovery: recovery.failed}
  const eligible = await queue.jobs.countEligible(stage, options.malId, host, options.selected)
  if (eligible.ready === 0) {
    await options.cleanup?.()
    const next = await queue.jobs.nextRunAfter(stage, options.malId)
    const result = {stage: stage.name, claimed: 0, ...recovered, waiting_in_backoff: eligible.waiting, next_retry_at: next ?? null}
    if (eligible.waiting > 0) {
      text.push(`${stage.name}: nothing to do now; ${eligible.waiting} job(s) wait in retry backoff until ${next} UTC (exit 75: run again later)`)
      return {code: EXIT.TRY_LATER, result, text}
    }
    text.push(`${stage.name}: nothing to do (no jobs in '${stage.input}'${host ? ` with their video on ${host}` : ''})`)
    return {code: EXIT.OK, result, text}
  }

  let summary: PoolSummary
  try {
    summary = await runPool({
      queue,
      stage,
      workers: Math.min(options.workers, eligible.ready, options.limit ?? Number.MAX_SAFE_INTEGER),
      limit: options.limit,
      malId: options.malId,
      host,
      leaseMs: ctx.leaseMs,
      graceMs: ctx.config.queue.shutdown_grace_seconds * 1000,
      backoff: ctx.backoff,
      output: ctx.output,
      handler: options.handler,
      prepareWorker: options.prepareWorker,
      gate: options.gate,
      gateDone: options.gateDone,
      selected: options.selected,
    })
  } finally {
    await options.cleanup?.()
  }
  const {records: _records, ...figures} = summary
  const result = {...figures, ...recovered, ...options.extra?.(summary)}
  text.push(poolSummaryLine(summary))
  if (summary.halted) text.push(`${stage.name} stopped: ${summary.halted.message}${summary.halted.hint ? ` (${summary.halted.hint})` : ''}`)
  for (const f of summary.failures.slice(0, 20)) text.push(`  failed: ${f.label}: ${f.error}`)
  if (summary.failures.length > 0) text.push("  see `animezipf status` for failures and `animezipf status --job ID` for one job's history")
  return {code: poolExitCode(summary), result, text}
}

function poolSummaryLine(summary: PoolSummary): string {
  const secs = (summary.elapsedMs / 1000).toFixed(1)
  return `${summary.stage}: ${summary.done} done, ${summary.failed} failed, ${summary.retried} to retry${summary.released ? `, ${summary.released} released` : ''}${summary.lost ? `, ${summary.lost} lost to other workers` : ''} in ${secs}s with ${summary.workers} worker(s)`
}

export function poolExitCode(summary: PoolSummary): number {
  if (summary.halted) return summary.halted.exitCode
  // a run that could only push jobs back to wait: try later, it did not succeed
  if (!summary.interrupted && summary.failed === 0 && summary.done === 0 && summary.retried > 0) return EXIT.TRY_LATER
  return summary.interrupted ? EXIT.INTERRUPTED : summary.failed > 0 ? EXIT.JOBS_FAILED : EXIT.OK
}
