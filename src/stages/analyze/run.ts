import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import type {AppContext} from '../../app/context.js'
import {requireAnime} from '../../queue/anime.js'
import type {ServiceResult} from '../../app/result.js'
import {PermanentJobError, errorMessage} from '../../errors.js'
import type {Queue} from '../../queue/index.js'
import {STAGES} from '../../queue/stages.js'
import {isDeadLocalOwner, newRunId} from '../../queue/workers.js'
import {heartbeatMs, runPool} from '../../runner/pool.js'
import {poolExitCode, recoverExpired} from '../../runner/stage.js'
import {type AggregateResult, aggregate} from './aggregate.js'
import {SIGNATURE_PREFIX, analysisRow, analyzeAnime, inputSignature} from './anime.js'
import {FigureThread, FigureThreadError} from './figures/figure-thread.js'
import {useRenderer} from './figures/figure.js'
import type {FitOptions} from './fit.js'

export interface AnalyzeOptions {
  malId?: number | undefined
  limit?: number | undefined
  partial: boolean
  bootstrap: number
  seed: number
  minCount: number
  force: boolean
  dryRun: boolean
}

const stage = STAGES.analyze
const AGGREGATE = 'aggregate'

interface AnimeOutcome {
  mal_id: number
  title: string
  status: 'analyzed' | 'unchanged' | 'failed' | 'lost'
  episodes: number
  partial?: boolean
  total_words?: number
  unique_words?: number
  s?: number | null
  alpha?: number | null
  alpha_se?: number | null
  xmin?: number | null
  least_squares_slope?: number | null
  error?: string
  files?: Record<string, string>
}

/** What the corpus-wide outputs are computed from: every anime's latest analysis, the groups, the fit options. */
async function aggregateSignature(queue: Queue, fit: FitOptions): Promise<string> {
  const h = createHash('sha256')
  h.update(SIGNATURE_PREFIX)
  h.update(JSON.stringify(fit))
  for (const a of await queue.analysis.analyzedAnime()) h.update(`${a.anime_id}:${a.analysis_id}:${a.input_signature}\n`)
  for (const m of await queue.analysis.groupMembership()) h.update(`${m.anime_id}:${m.kind}:${m.name}\n`)
  return h.digest('hex').slice(0, 32)
}

/**
 * Rebuild the aggregate when any of its inputs changed since the last complete rebuild (a recorded
 * signature, so a crash right after an anime's analysis is caught up by the next run), under a
 * lease so that two runs, on any host, never write it at once: the second waits, then checks again.
 */
async function refreshAggregate(ctx: AppContext, queue: Queue, fit: FitOptions, force: boolean): Promise<AggregateResult | undefined> {
  const owner = `${newRunId(queue.host)}:aggregate`
  const reportThere = () => existsSync(ctx.paths.finalReport) && existsSync(ctx.paths.globalFit) && existsSync(ctx.paths.difficultyJson)
  for (let waits = 0; ; waits++) {
    // while another run holds the lease, only the lease is polled (cheap); the inputs are read once it is free
    const held = await queue.locks.state(AGGREGATE)
    if (held?.live && held.owner !== owner && !isDeadLocalOwner(held.owner ?? '', queue.host)) {
      if (waits === 0) ctx.output.log(`aggregate: another analyze (${held.owner}) is rebuilding it; waiting for it to finish, then checking again`)
      await sleep(Math.min(5000, 500 * 2 ** Math.min(waits, 4)))
      force = false
      continue
    }
    const signature = await aggregateSignature(queue, fit)
    if (!force && held?.signature === signature && reportThere()) return undefined
    if ((await queue.analysis.analyzedAnime()).length === 0) return undefined
    if (!(await queue.locks.acquire(AGGREGATE, owner, ctx.leaseMs))) continue
    let lost = false
    const beat = setInterval(() => {
      queue.locks
        .extend(AGGREGATE, owner, ctx.leaseMs)
        .then((ok) => {
          if (!ok) lost = true
        })
        .catch(() => {})
    }, heartbeatMs(ctx.leaseMs))
    try {
      // inputs may have changed while waiting: build from what is there now, record what it was built from
      const building = await aggregateSignature(queue, fit)
      const result = await aggregate(queue, ctx.paths, fit)
      // a builder that lost its lease records nothing: the next run sees the old signature and rebuilds
      await queue.locks.release(AGGREGATE, owner, lost ? undefined : building)
      if (lost) ctx.output.warn('aggregate: the lease on it was lost while rebuilding; the next analyze rebuilds it again')
      return result
    } catch (error) {
      await queue.locks.release(AGGREGATE, owner)
      throw error
    } finally {
      clearInterval(beat)
    }
  }
}

async function stopFigures(thread: FigureThread): Promise<void> {
  useRenderer(undefined)
  await thread.close()
}

/** `animezipf analyze`: per-anime fits for anime whose episodes are tokenized, then the corpus-wide outputs. */
export async function analyze(ctx: AppContext, options: AnalyzeOptions): Promise<ServiceResult> {
  const {output, paths} = ctx
  const fitOptions: FitOptions = {bootstrap: options.bootstrap, seed: options.seed, minCount: options.minCount}
  const text: string[] = []
  await requireAnime((await ctx.queue({readonly: options.dryRun})).anime, options.malId)

  if (options.dryRun) {
    const queue = await ctx.queue({readonly: true})
    let candidates = await queue.analysis.candidates(options.partial, options.malId, options.force)
    if (options.force) {
      const complete = await queue.analysis.completeAnime(options.malId)
      if (complete.length > 0) text.push(`dry run: --force would first send the episodes of ${complete.length} complete anime back to 'tokenized'`)
    } else {
      const outdated = await queue.analysis.outdated(SIGNATURE_PREFIX, options.malId)
      if (outdated.length > 0) text.push(`dry run: ${outdated.length} anime analyzed by an older animezipf would be analyzed again`)
    }
    if (options.limit !== undefined) candidates = candidates.slice(0, options.limit)
    const plan = candidates.map((c) => ({mal_id: c.mal_id, title: c.title, episodes: c.tokenized + c.complete, pending: c.pending}))
    text.push(`dry run: would analyze ${plan.length} anime; nothing was changed`)
    for (const p of plan) text.push(`  ${p.mal_id} ${p.title}: ${p.episodes} episode(s)${p.pending ? `, ${p.pending} pending (partial)` : ''}`)
    return {code: 0, result: {dry_run: true, would_analyze: plan, aggregates: plan.length > 0 || options.force}, text}
  }

  const queue = await ctx.queue()
  await recoverExpired(ctx, queue)
  if (options.force) {
    const n = await queue.jobs.rewind(stage, ['complete'], options.malId)
    if (n > 0) output.log(`--force: ${n} complete job(s) will be analyzed again`)
  } else {
    // an upgrade that changed the fits or the figures: the anime analyzed before it are analyzed again
    const outdated = await queue.analysis.outdated(SIGNATURE_PREFIX, options.malId)
    await queue.jobs.rewind(stage, ['complete'], undefined, {malIds: outdated, why: 'analyzed by an older animezipf'})
    if (outdated.length > 0) output.log(`${outdated.length} anime analyzed by an older animezipf will be analyzed again`)
  }
  const ready = (await queue.analysis.candidates(options.partial, options.malId)).length

  // Vega draws in a thread of its own while this thread fits the next anime (two anime in flight)
  const figureThread = new FigureThread()
  useRenderer(figureThread)
  const summary =
    ready === 0
      ? undefined
      : await runPool<AnimeOutcome>({
          queue,
          stage,
          unit: 'anime',
          whole: !options.partial,
          // two anime at a time: one is fitted in this thread while the other's figures are drawn
          workers: 2,
          limit: options.limit,
          malId: options.malId,
          leaseMs: ctx.leaseMs,
          graceMs: ctx.config.queue.shutdown_grace_seconds * 1000,
          backoff: ctx.backoff,
          output,
          shutdownWhat: 'the anime being analyzed finishes',
          handler: async (lease) => {
            const job = lease.job
            const c = await queue.analysis.candidate(job.anime_id)
            if (!c) throw new PermanentJobError(`anime ${job.anime_id} is gone from the database`)
            try {
              const inputs = await queue.analysis.inputs(c.anime_id, lease.owner)
              const signature = inputSignature(paths, c.mal_id, inputs, fitOptions)
              const previous = await queue.analysis.latest(c.anime_id)
              const unchanged =
                !options.force && previous?.input_signature === signature && existsSync(paths.zipfParams(c.mal_id)) && existsSync(paths.zipfPlot(c.mal_id))
              const fields = {analysis_path: paths.relative(paths.zipfParams(c.mal_id))}
              if (unchanged) return {fields, message: 'unchanged', record: {mal_id: c.mal_id, title: c.title, status: 'unchanged', episodes: inputs.length}}
              const partial = c.pending > 0
              const a = await analyzeAnime(paths, c, inputs, {
                ...fitOptions,
                partial,
                pending: c.pending,
                failed: c.failed,
                excludePos: ctx.config.tokenize.exclude_pos,
              })
              await queue.analysis.record(analysisRow(c.anime_id, a, signature, partial))
              const pl = a.fit.power_law
              return {
                fields,
                message: `analyzed${pl ? `, s = ${pl.s.toFixed(3)}` : ''}`,
                record: {
                  mal_id: c.mal_id,
                  title: c.title,
                  status: 'analyzed',
                  episodes: inputs.length,
                  partial,
                  total_words: a.fit.total_words,
                  unique_words: a.fit.unique_words,
                  s: pl?.s ?? null,
                  alpha: pl?.alpha ?? null,
                  alpha_se: pl?.alpha_se ?? null,
                  xmin: pl?.xmin ?? null,
                  least_squares_slope: a.fit.zipf_fit?.rank_slope ?? null,
                  files: {
                    plot: paths.zipfPlot(c.mal_id),
                    params: paths.zipfParams(c.mal_id),
                    word_freq: paths.animeWordFreq(c.mal_id),
                    statistics: paths.statistics(c.mal_id),
                  },
                },
              }
            } catch (error) {
              // a figure thread that died is retried; a fit that fails on these inputs fails again
              if (error instanceof FigureThreadError) throw error
              throw new PermanentJobError(errorMessage(error))
            }
          },
        }).catch(async (error: unknown) => {
          await stopFigures(figureThread)
          throw error
        })

  const outcomes: AnimeOutcome[] = [...(summary?.records ?? [])]
  for (const f of summary?.failures ?? []) {
    const job = await queue.jobs.getJob(f.jobId)
    outcomes.push({mal_id: job?.mal_id ?? 0, title: job?.anime_title ?? f.label, status: 'failed', episodes: 0, error: f.error})
  }
  let aggregated: AggregateResult | undefined
  try {
    if (!summary?.interrupted) {
      aggregated = await refreshAggregate(ctx, queue, fitOptions, options.force)
      if (aggregated) output.log(`aggregated ${aggregated.corpus.anime} anime: ${aggregated.groups.length} genre/studio groups`)
    }
  } finally {
    await stopFigures(figureThread)
  }

  const failed = outcomes.filter((o) => o.status === 'failed')
  const result = {
    anime: outcomes,
    analyzed: outcomes.filter((o) => o.status === 'analyzed').length,
    unchanged: outcomes.filter((o) => o.status === 'unchanged').length,
    failed: failed.length,
    lost: summary?.lost ?? 0,
    interrupted: summary?.interrupted ?? false,
    global: aggregated
      ? {
          corpus: aggregated.corpus,
          s: aggregated.global.power_law?.s ?? null,
          alpha: aggregated.global.power_law?.alpha ?? null,
          alpha_se: aggregated.global.power_law?.alpha_se ?? null,
          xmin: aggregated.global.power_law?.xmin ?? null,
          ks_d: aggregated.global.power_law?.ks_d ?? null,
          least_squares_slope: aggregated.global.zipf_fit?.rank_slope ?? null,
          coverage: aggregated.global.coverage,
          outliers: aggregated.outliers,
        }
      : null,
    files: aggregated ? aggregated.files : null,
  }
  if (outcomes.length === 0) {
    const blocked = await queue.analysis.blockedAnimeCount()
    text.push(
      `analyze: nothing new to analyze${blocked ? ` (${blocked} anime wait for episodes still in the pipeline; --partial analyzes them now)` : ''}${aggregated ? '; the corpus-wide outputs were out of date and are rebuilt' : ''}`,
    )
  } else {
    text.push(`analyze: ${result.analyzed} analyzed, ${result.unchanged} unchanged, ${failed.length} failed`)
    for (const o of outcomes.filter((x) => x.status === 'analyzed')) {
      text.push(
        `  ${o.title}: s = ${o.s?.toFixed(3) ?? '–'} (α = ${o.alpha?.toFixed(4) ?? '–'} ± ${o.alpha_se?.toFixed(4) ?? '–'}, xmin ${o.xmin ?? '–'})${o.partial ? ' [partial]' : ''}  ${o.files?.plot}`,
      )
    }
    for (const o of failed) text.push(`  FAILED ${o.title}: ${o.error}`)
  }
  if (aggregated) {
    const g = aggregated.global.power_law
    text.push(
      `corpus: ${aggregated.corpus.anime} anime, ${aggregated.corpus.episodes} episodes, ${aggregated.corpus.total_words} words, ${aggregated.corpus.unique_words} distinct`,
    )
    if (g) text.push(`global fit: s = ${g.s.toFixed(3)} (α = ${g.alpha.toFixed(4)} ± ${g.alpha_se.toFixed(4)}, xmin ${g.xmin}, KS D ${g.ks_d.toFixed(4)})`)
    text.push(`report:     ${aggregated.files.report}\ncomparison: ${aggregated.files.comparison}\nfrequencies: ${aggregated.files.all_anime_freq}`)
  }
  const code = summary ? poolExitCode(summary) : 0
  return {code, result, text}
}
