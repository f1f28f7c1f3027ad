import {existsSync} from 'node:fs'

import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT} from '../errors.js'
import {requireAnime} from '../queue/anime.js'
import type {Queue} from '../queue/index.js'
import type {FailedJob} from '../queue/maintenance.js'
import {type JobStage, STAGES} from '../queue/stages.js'

export const RETRY_STAGES = ['select', 'download', 'transcribe', 'tokenize', 'analyze'] as const
export type RetryStage = (typeof RETRY_STAGES)[number]

export interface RetryOptions {
  stage?: RetryStage | undefined
  malId?: number | undefined
  /** Only jobs whose error contains this text (any case). */
  error?: string | undefined
  /** Also jobs that used up their retries. */
  force: boolean
  /** Give revived jobs a fresh retry budget. */
  resetCount: boolean
  dryRun: boolean
}

/** Failed jobs of one stage and one error, and how many went (or would go) back to each stage. */
export interface RetryGroup {
  stage: string | null
  error: string | null
  count: number
  to: Record<string, number>
}

/** `animezipf retry --json` for failed jobs. */
export interface RetryJobsResult {
  dry_run: boolean
  /** Failed jobs that match the filters. */
  failed: number
  /** 0 under --dry-run. */
  revived: number
  /** Only under --dry-run. */
  would_revive?: number | undefined
  at_max_retries: number
  by: RetryGroup[]
  /** Only under --dry-run: each job and where it would go. */
  jobs?: {job_id: number; from: string | null; to: JobStage; why: string}[] | undefined
}

/** `animezipf retry --stage select --json`. */
export interface RetrySelectionsResult {
  dry_run: boolean
  stage: 'select'
  anime: {mal_id: number; title: string; why: 'attempts' | 'no_candidates'}[]
}

/** `animezipf retry --json`. */
export type RetryResult = RetryJobsResult | RetrySelectionsResult

interface Plan {
  job: FailedJob
  to: JobStage
  clear: ('video' | 'transcript' | 'tokens')[]
  why: string
}

/** Which failed jobs go back, and how many were left alone (retries used up; no stage to go back to). */
interface Revivals {
  plans: Plan[]
  atMax: number
  unknown: number
}

/** `animezipf retry`: failed jobs back to the stage that failed (or earlier, when its input is gone). */
export async function retry(ctx: AppContext, options: RetryOptions): Promise<ServiceResult<RetryResult>> {
  const queue = await ctx.queue({readonly: options.dryRun})
  await requireAnime(queue.anime, options.malId)
  if (options.stage === 'select') return retrySelections(ctx, options)

  const running = options.stage ? STAGES[options.stage].running : undefined
  const failed = await queue.maintenance.failedJobs({failedStage: running, malId: options.malId, error: options.error})
  const revivals = chooseRevivals(ctx, failed, options)
  const revived = options.dryRun ? 0 : await revive(queue, revivals.plans, options)
  const {plans, atMax} = revivals
  const by = failureGroups(plans)
  return {
    code: EXIT.OK,
    result: {
      dry_run: options.dryRun,
      failed: failed.length,
      revived: options.dryRun ? 0 : revived,
      would_revive: options.dryRun ? plans.length : undefined,
      at_max_retries: atMax,
      by,
      jobs: options.dryRun ? plans.map((p) => ({job_id: p.job.id, from: p.job.failed_stage, to: p.to, why: p.why})) : undefined,
    },
    text: failed.length === 0 ? [nothingToRetry(options)] : retryReport(revivals, by, revived, options),
  }
}

/** Whether this host may look at the job's video: shared storage, or the video is on this host (or nowhere yet). */
function local(ctx: AppContext, j: FailedJob): boolean {
  return ctx.config.data.storage_shared || j.video_host === null || j.video_host === ctx.host
}

/** The video is still there, or the audio of an earlier attempt (enough for transcribe too). */
function videoThere(ctx: AppContext, j: FailedJob): boolean {
  const {paths} = ctx
  return (
    (j.video_path !== null && j.video_deleted !== 1 && (!local(ctx, j) || existsSync(paths.videoAbsolute(j.video_path)))) ||
    (local(ctx, j) && j.mal_id !== null && existsSync(paths.audioFile(j.mal_id, j.episode)))
  )
}

/** The earliest stage whose input still exists, from the one that failed backwards. */
function planOf(ctx: AppContext, j: FailedJob): Plan | undefined {
  const {paths} = ctx
  const transcriptThere = () => j.transcript_path !== null && existsSync(paths.absolute(j.transcript_path))
  const tokensThere = () => j.tokens_path !== null && existsSync(paths.absolute(j.tokens_path))
  const fromVideo = (why: string, clear: Plan['clear']): Plan =>
    videoThere(ctx, j)
      ? {job: j, to: 'downloaded', clear, why: `${why}; the video (or its audio) is still there`}
      : {job: j, to: 'queued', clear: [...clear, 'video'], why: `${why}; the video is gone: downloaded again`}
  switch (j.failed_stage) {
    case 'downloading':
      return {job: j, to: 'queued', clear: ['video'], why: 'downloaded again'}
    case 'transcribing':
      return fromVideo('transcribed again', [])
    case 'tokenizing':
      return transcriptThere() ? {job: j, to: 'transcribed', clear: [], why: 'tokenized again'} : fromVideo('the transcript is gone', ['transcript'])
    case 'analyzing':
      if (tokensThere()) return {job: j, to: 'tokenized', clear: [], why: 'analyzed again'}
      return transcriptThere()
        ? {job: j, to: 'transcribed', clear: ['tokens'], why: 'the tokens are gone: tokenized again'}
        : fromVideo('the transcript is gone', ['transcript', 'tokens'])
    default:
      return undefined
  }
}

/** Failed jobs with retries left (all with --force), each with where it goes back to. */
function chooseRevivals(ctx: AppContext, failed: FailedJob[], options: RetryOptions): Revivals {
  const revivals: Revivals = {plans: [], atMax: 0, unknown: 0}
  // a job that kept killing its workers (failed by lease recovery) has used up its retries too
  const poison = (j: FailedJob) => j.expiries > j.max_retries || /lease of .* expired/.test(j.error_message ?? '')
  for (const j of failed) {
    if (!options.force && (j.retry_count >= j.max_retries || poison(j))) {
      revivals.atMax++
      continue
    }
    const p = planOf(ctx, j)
    if (p) revivals.plans.push(p)
    else revivals.unknown++
  }
  return revivals
}

/** Each planned job moved back, its reason in its history; how many moved (a job taken meanwhile does not). */
async function revive(queue: Queue, plans: Plan[], options: RetryOptions): Promise<number> {
  let revived = 0
  for (const p of plans) {
    const moved = await queue.maintenance.move(p.job.id, 'failed', p.to, {
      event: 'revived',
      message: `retry: failed in ${p.job.failed_stage} (${p.job.error_message ?? 'no message'}): ${p.why}${options.resetCount ? '; retry count reset' : ''}`,
      resetCount: options.resetCount,
      clear: p.clear,
    })
    if (moved) revived++
  }
  return revived
}

/** The summary: by the stage that failed and the error, with where the jobs went; the largest first. */
function failureGroups(plans: Plan[]): RetryGroup[] {
  const groups = new Map<string, RetryGroup>()
  for (const p of plans) {
    const key = `${p.job.failed_stage}\u0000${p.job.error_message}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = {stage: p.job.failed_stage, error: p.job.error_message, count: 0, to: {}}))
    g.count++
    g.to[p.to] = (g.to[p.to] ?? 0) + 1
  }
  return [...groups.values()].sort((a, b) => b.count - a.count)
}

function nothingToRetry(options: RetryOptions): string {
  return `retry: nothing to do (no failed job${options.stage ? ` in ${options.stage}` : ''}${options.malId !== undefined ? ` of anime ${options.malId}` : ''}${options.error ? ` whose error contains ${JSON.stringify(options.error)}` : ''})`
}

/** The lines for a person: the count, the groups, under --dry-run the first jobs, and what was left alone. */
function retryReport({plans, atMax, unknown}: Revivals, by: RetryGroup[], revived: number, options: RetryOptions): string[] {
  const verb = options.dryRun ? 'would revive' : 'revived'
  const text = [`retry: ${verb} ${options.dryRun ? plans.length : revived} failed job(s)${options.dryRun ? ' (dry run: nothing was changed)' : ''}`]
  for (const g of by) {
    text.push(
      `  ${String(g.count).padStart(5)}  ${(g.stage ?? '?').padEnd(13)} ${g.error ?? ''}  -> ${Object.entries(g.to)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    )
  }
  if (options.dryRun)
    for (const p of plans.slice(0, 50)) text.push(`  job ${p.job.id} (${p.job.anime_title} ep ${p.job.episode}): ${p.job.failed_stage} -> ${p.to} (${p.why})`)
  if (atMax > 0)
    text.push(
      `  ${atMax} failed job(s) used up their retries (max_retries, or their lease expired that often): add --force to revive them too (--reset-count for a fresh budget)`,
    )
  if (unknown > 0) text.push(`  ${unknown} failed job(s) with no stage to go back to were left alone`)
  return text
}

/** `retry --stage select`: anime whose selection failed or found nothing, tried again at the next `select`. */
async function retrySelections(ctx: AppContext, options: RetryOptions): Promise<ServiceResult<RetrySelectionsResult>> {
  const queue = await ctx.queue({readonly: options.dryRun})
  const rows = await queue.maintenance.failedSelections(options.malId)
  const chosen = options.error ? rows.filter((r) => (r.detail ?? '').toLowerCase().includes(options.error!.toLowerCase())) : rows
  if (!options.dryRun) for (const r of chosen) await queue.maintenance.reviveSelection(r.mal_id)
  const text =
    chosen.length === 0
      ? ['retry: nothing to do (no anime whose selection failed or found no candidates)']
      : [
          `retry: ${options.dryRun ? 'would let' : 'let'} select try ${chosen.length} anime again${options.dryRun ? ' (dry run: nothing was changed)' : ''}; run \`animezipf select\``,
          ...chosen.slice(0, 50).map((r) => `  ${r.mal_id} ${r.title}: ${r.why === 'attempts' ? `failed attempts (${r.detail ?? ''})` : 'no candidates'}`),
        ]
  return {code: EXIT.OK, result: {dry_run: options.dryRun, stage: 'select', anime: chosen.map((r) => ({mal_id: r.mal_id, title: r.title, why: r.why}))}, text}
}
