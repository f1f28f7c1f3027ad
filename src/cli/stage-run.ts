import {EXIT} from '../errors.js'
import type {JobRow} from '../queue/jobs.js'
import type {StageDef} from '../queue/stages.js'
import type {AppContext} from './context.js'
import {type JobHandler, type PoolSummary, jobLabel, runPool} from './pool.js'

export interface StageRunOptions {
  stage: StageDef
  workers: number
  limit?: number | undefined
  malId?: number | undefined
  dryRun: boolean
  /** What the stage would do with a job (--dry-run), one line. */
  describe: (job: JobRow) => string
  handler: JobHandler
  prepareWorker?: (index: number) => Promise<void>
  /** Release per-run resources (threads) whatever happened. */
  cleanup?: () => Promise<void>
  /** Extra figures for the summary, computed after the run. */
  extra?: (summary: PoolSummary) => Record<string, unknown>
}

export interface StageRunResult {
  code: number
  result: Record<string, unknown>
}

/** Run one stage through the pool with the exit codes, dry-run and summary every stage shares. */
export async function runStage(ctx: AppContext, options: StageRunOptions): Promise<StageRunResult> {
  const {stage} = options
  const {output} = ctx
  if (options.dryRun) {
    const queue = ctx.queue({readonly: true})
    const jobs = queue.previewClaim(stage, options.limit ?? Number.MAX_SAFE_INTEGER, options.malId)
    const waiting = queue.countEligible(stage, options.malId).waiting
    const plan = jobs.map((j) => ({job_id: j.id, mal_id: j.mal_id, anime: j.anime_title, episode: j.episode, action: options.describe(j)}))
    output.result({dry_run: true, stage: stage.name, workers: options.workers, would_claim: plan.length, jobs: plan, waiting_in_backoff: waiting})
    output.print(`dry run: ${stage.name} would claim ${plan.length} job(s) from '${stage.input}' with ${options.workers} worker(s); nothing was changed`)
    for (const p of plan) output.print(`  ${jobLabel({id: p.job_id, anime_title: p.anime, episode: p.episode})}: ${p.action}`)
    if (waiting > 0) output.print(`  (${waiting} more waiting in retry backoff)`)
    return {code: EXIT.OK, result: {}}
  }

  const queue = ctx.queue()
  queue.recoverExpired()
  const eligible = queue.countEligible(stage, options.malId)
  if (eligible.ready === 0) {
    const next = queue.nextRunAfter(stage, options.malId)
    const result = {stage: stage.name, claimed: 0, waiting_in_backoff: eligible.waiting, next_retry_at: next ?? null}
    output.result(result)
    if (eligible.waiting > 0) {
      output.print(`${stage.name}: nothing to do now; ${eligible.waiting} job(s) wait in retry backoff until ${next} UTC (exit 75: run again later)`)
      return {code: EXIT.TRY_LATER, result}
    }
    output.print(`${stage.name}: nothing to do (no jobs in '${stage.input}')`)
    return {code: EXIT.OK, result}
  }

  let summary: PoolSummary
  try {
    summary = await runPool({
      queue,
      registry: ctx.registry(),
      stage,
      workers: Math.min(options.workers, eligible.ready, options.limit ?? Number.MAX_SAFE_INTEGER),
      limit: options.limit,
      malId: options.malId,
      leaseMs: ctx.leaseMs,
      graceMs: ctx.config.queue.shutdown_grace_seconds * 1000,
      backoff: ctx.backoff,
      output,
      handler: options.handler,
      prepareWorker: options.prepareWorker,
    })
  } finally {
    await options.cleanup?.()
  }
  const result = {...summary, ...options.extra?.(summary)}
  output.result(result)
  const secs = (summary.elapsedMs / 1000).toFixed(1)
  output.print(
    `${stage.name}: ${summary.done} done, ${summary.failed} failed, ${summary.retried} to retry${summary.released ? `, ${summary.released} released` : ''}${summary.lost ? `, ${summary.lost} lost to other workers` : ''} in ${secs}s with ${summary.workers} worker(s)`,
  )
  for (const f of summary.failures.slice(0, 20)) output.print(`  failed: ${f.label}: ${f.error}`)
  if (summary.failures.length > 0) output.print('  see `animezipf status` for failures and `animezipf status --job ID` for one job\'s history')
  const code = summary.interrupted ? EXIT.INTERRUPTED : summary.failed > 0 ? EXIT.JOBS_FAILED : EXIT.OK
  return {code, result}
}
