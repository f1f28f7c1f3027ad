import type {ServiceResult} from '../app/result.js'
import {EXIT} from '../errors.js'
import type {Recovery} from '../queue/jobs.js'
import type {JobRow} from '../queue/rows.js'
import type {StageDef} from '../queue/stages.js'
import type {PoolSummary} from './pool.js'
import type {StageDeps, StageRun} from './stage.js'
import {jobLabel} from './units.js'

/** `--dry-run` of a job stage: the jobs it would claim and what it would do with each. */
export interface StagePlan {
  dry_run: true
  stage: string
  workers: number
  would_claim: number
  jobs: {job_id: number; mal_id: number | null; anime: string; episode: number; action: string}[]
  waiting_in_backoff: number
}

/** A job stage with nothing ready: what waits, and until when. */
export interface StageIdle {
  stage: string
  claimed: 0
  recovered: number
  failed_by_recovery: number
  waiting_in_backoff: number
  next_retry_at: string | null
}

/** What every job stage's result holds: the pool's figures and the recovery before it. */
export type JobStageFigures = Omit<PoolSummary, 'records'> & {recovered: number; failed_by_recovery: number}

/** --dry-run: the jobs a run would claim now, in claim order, and what it would do with each; nothing is changed. */
export async function planClaims(run: StageRun, stage: StageDef, deps: StageDeps, describe: (job: JobRow) => string): Promise<ServiceResult<StagePlan>> {
  const {queue, options, host} = run
  const jobs = await queue.jobs.previewClaim(stage, options.limit ?? Number.MAX_SAFE_INTEGER, options.malId, host, deps.selected, deps.rewoundFrom)
  const waiting = (await queue.jobs.countEligible(stage, options.malId, host, deps.selected)).waiting
  const plan = jobs.map((j) => ({job_id: j.id, mal_id: j.mal_id, anime: j.anime_title, episode: j.episode, action: describe(j)}))
  const text = [...run.preamble]
  text.push(`dry run: ${stage.name} would claim ${plan.length} job(s) from '${stage.input}' with ${deps.workers} worker(s); nothing was changed`)
  for (const p of plan) text.push(`  ${jobLabel({id: p.job_id, anime_title: p.anime, episode: p.episode})}: ${p.action}`)
  if (waiting > 0) text.push(`  (${waiting} more waiting in retry backoff)`)
  return {
    code: EXIT.OK,
    result: {dry_run: true, stage: stage.name, workers: deps.workers, would_claim: plan.length, jobs: plan, waiting_in_backoff: waiting},
    text,
  }
}

/** Nothing ready: exit 0, or 75 when jobs wait in backoff (run again later). */
export async function nothingToDo(run: StageRun, stage: StageDef, waiting: number): Promise<ServiceResult<StageIdle>> {
  const {queue, options, host, recovery} = run
  const next = await queue.jobs.nextRunAfter(stage, options.malId)
  const result: StageIdle = {
    stage: stage.name,
    claimed: 0,
    recovered: recovery.recovered,
    failed_by_recovery: recovery.failed,
    waiting_in_backoff: waiting,
    next_retry_at: next ?? null,
  }
  const text = [...run.preamble]
  if (waiting > 0) {
    text.push(`${stage.name}: nothing to do now; ${waiting} job(s) wait in retry backoff until ${next} UTC (exit 75: run again later)`)
    return {code: EXIT.TRY_LATER, result, text}
  }
  text.push(`${stage.name}: nothing to do (no jobs in '${stage.input}'${host ? ` with their video on ${host}` : ''})`)
  return {code: EXIT.OK, result, text}
}

/** A job stage's figures, its summary lines (failures listed) and its exit code. */
export function stageFigures(summary: PoolSummary, recovery: Recovery, preamble: string[]): ServiceResult<JobStageFigures> {
  const {records: _records, ...figures} = summary
  const text = [...preamble, poolSummaryLine(summary)]
  if (summary.halted) text.push(`${summary.stage} stopped: ${summary.halted.message}${summary.halted.hint ? ` (${summary.halted.hint})` : ''}`)
  for (const f of summary.failures.slice(0, 20)) text.push(`  failed: ${f.label}: ${f.error}`)
  if (summary.failures.length > 0) text.push("  see `animezipf status` for failures and `animezipf status --job ID` for one job's history")
  return {code: poolExitCode(summary), result: {...figures, recovered: recovery.recovered, failed_by_recovery: recovery.failed}, text}
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
