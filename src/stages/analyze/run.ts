import {existsSync} from 'node:fs'

import type {AppContext} from '../../cli/context.js'
import {Shutdown} from '../../cli/shutdown.js'
import {EXIT, errorMessage} from '../../errors.js'
import {analysisCandidates, analysisInputs, blockedAnimeCount, completeAnime, hasAnalyses, latestAnalysis, recordAnalysis} from '../../queue/analysis.js'
import {STAGES} from '../../queue/stages.js'
import {newRunId} from '../../queue/workers.js'
import {type AggregateResult, aggregate} from './aggregate.js'
import {analysisRow, analyzeAnime, inputSignature} from './anime.js'
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

/** `animezipf analyze`: per-anime fits for anime whose episodes are tokenized, then the corpus-wide outputs. */
export async function analyze(ctx: AppContext, options: AnalyzeOptions): Promise<{code: number; result: Record<string, unknown>}> {
  const {output, paths} = ctx
  const fitOptions: FitOptions = {bootstrap: options.bootstrap, seed: options.seed, minCount: options.minCount}

  if (options.dryRun) {
    const db = ctx.db({readonly: true})
    let candidates = analysisCandidates(db, options.partial, options.malId)
    if (options.force) {
      const extra = completeAnime(db, options.malId).filter((id) => !candidates.some((c) => c.mal_id === id)).length
      if (extra > 0) output.print(`dry run: --force would also re-analyze ${extra} already complete anime`)
    }
    if (options.limit !== undefined) candidates = candidates.slice(0, options.limit)
    const plan = candidates.map((c) => ({mal_id: c.mal_id, title: c.title, episodes: c.tokenized + c.complete, pending: c.pending}))
    output.result({dry_run: true, would_analyze: plan, aggregates: plan.length > 0 || options.force})
    output.print(`dry run: would analyze ${plan.length} anime; nothing was changed`)
    for (const p of plan) output.print(`  ${p.mal_id} ${p.title}: ${p.episodes} episode(s)${p.pending ? `, ${p.pending} pending (partial)` : ''}`)
    return {code: EXIT.OK, result: {}}
  }

  const db = ctx.db()
  const queue = ctx.queue()
  queue.recoverExpired()
  if (options.force) {
    const n = queue.rewind(stage, ['complete'], options.malId)
    if (n > 0) output.log(`--force: ${n} complete job(s) will be analyzed again`)
  }
  let candidates = analysisCandidates(db, options.partial, options.malId)
  if (options.limit !== undefined) candidates = candidates.slice(0, options.limit)

  const owner = `${newRunId()}:analyze`
  const registry = ctx.registry()
  // a run with nothing to analyze leaves no trace in the workers table
  const workerId = candidates.length > 0 ? registry.register('analyzer', owner) : undefined
  const beatWorker = (status: 'busy' | 'idle' | 'stopped', jobId: number | null) => {
    if (workerId !== undefined) registry.beat(workerId, status, jobId)
  }
  // an anime's analysis is not interruptible: the one running finishes, no other starts
  const shutdown = new Shutdown(output, {graceMs: ctx.config.queue.shutdown_grace_seconds * 1000, install: true, what: 'the anime being analyzed finishes'})
  const outcomes: AnimeOutcome[] = []
  let aggregated: AggregateResult | undefined
  try {
    for (const c of candidates) {
      if (shutdown.stopping) break
      const jobs = queue.claim({stage, owner, count: 1_000_000, leaseMs: ctx.leaseMs, malId: c.mal_id})
      if (jobs.length === 0) continue
      beatWorker('busy', jobs[0]!.id)
      const beat = setInterval(() => {
        for (const j of jobs) queue.extendLease(j.id, owner, ctx.leaseMs)
        beatWorker('busy', jobs[0]!.id)
      }, Math.max(1000, ctx.leaseMs / 3))
      const t0 = Date.now()
      try {
        const inputs = analysisInputs(db, c.anime_id, owner)
        const signature = inputSignature(paths, c.mal_id, inputs, fitOptions)
        const previous = latestAnalysis(db, c.anime_id)
        const unchanged = !options.force && previous?.input_signature === signature && existsSync(paths.zipfParams(c.mal_id)) && existsSync(paths.zipfPlot(c.mal_id))
        let outcome: AnimeOutcome
        if (unchanged) {
          outcome = {mal_id: c.mal_id, title: c.title, status: 'unchanged', episodes: inputs.length}
        } else {
          const partial = c.pending > 0
          const a = await analyzeAnime(paths, c, inputs, {...fitOptions, partial, pending: c.pending, failed: c.failed})
          recordAnalysis(db, analysisRow(c.anime_id, a, signature, partial))
          const pl = a.fit.power_law
          outcome = {
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
            least_squares_slope: a.fit.zipf_fit?.alpha ?? null,
            files: {plot: paths.zipfPlot(c.mal_id), params: paths.zipfParams(c.mal_id), word_freq: paths.animeWordFreq(c.mal_id), statistics: paths.statistics(c.mal_id)},
          }
        }
        const analysisPath = paths.relative(paths.zipfParams(c.mal_id))
        const finished = jobs.filter((j) => queue.finish(j.id, owner, stage, {analysis_path: analysisPath}, outcome.status)).length
        if (finished < jobs.length) outcome = {...outcome, status: 'lost', error: `${jobs.length - finished} job lease(s) lost while analyzing`}
        outcomes.push(outcome)
        output.log(
          `analyzer ${c.title} (MAL ${c.mal_id}): ${outcome.status}${outcome.s !== undefined && outcome.s !== null ? `, s = ${outcome.s.toFixed(3)}` : ''}, ${inputs.length} episode(s) (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
        )
      } catch (error) {
        const message = errorMessage(error).split('\n')[0]!
        for (const j of jobs) queue.fail(j.id, owner, stage, message, false, ctx.backoff)
        outcomes.push({mal_id: c.mal_id, title: c.title, status: 'failed', episodes: jobs.length, error: message})
        output.log(`analyzer ${c.title} (MAL ${c.mal_id}): FAILED: ${message}`)
        if (output.verbose && error instanceof Error) output.log(error.stack ?? '')
      } finally {
        clearInterval(beat)
        beatWorker('idle', null)
      }
    }
    const changed = outcomes.some((o) => o.status === 'analyzed')
    const haveAny = hasAnalyses(db)
    if (!shutdown.stopping && haveAny && (changed || options.force || !existsSync(paths.finalReport))) {
      aggregated = await aggregate(db, paths, fitOptions)
      output.log(`aggregated ${aggregated.corpus.anime} anime: ${aggregated.groups.length} genre/studio groups`)
    }
  } finally {
    beatWorker('stopped', null)
    shutdown.dispose()
  }

  const failed = outcomes.filter((o) => o.status === 'failed')
  const result = {
    anime: outcomes,
    analyzed: outcomes.filter((o) => o.status === 'analyzed').length,
    unchanged: outcomes.filter((o) => o.status === 'unchanged').length,
    failed: failed.length,
    interrupted: shutdown.stopping,
    global: aggregated
      ? {
          corpus: aggregated.corpus,
          s: aggregated.global.power_law?.s ?? null,
          alpha: aggregated.global.power_law?.alpha ?? null,
          alpha_se: aggregated.global.power_law?.alpha_se ?? null,
          xmin: aggregated.global.power_law?.xmin ?? null,
          ks_d: aggregated.global.power_law?.ks_d ?? null,
          least_squares_slope: aggregated.global.zipf_fit?.alpha ?? null,
          coverage: aggregated.global.coverage,
          outliers: aggregated.outliers,
        }
      : null,
    files: aggregated ? aggregated.files : null,
  }
  output.result(result)
  if (outcomes.length === 0) {
    const blocked = blockedAnimeCount(db)
    output.print(`analyze: nothing new to analyze${blocked ? ` (${blocked} anime wait for episodes still in the pipeline; --partial analyzes them now)` : ''}`)
  } else {
    output.print(`analyze: ${result.analyzed} analyzed, ${result.unchanged} unchanged, ${failed.length} failed`)
    for (const o of outcomes.filter((x) => x.status === 'analyzed')) {
      output.print(`  ${o.title}: s = ${o.s?.toFixed(3) ?? '–'} (α = ${o.alpha?.toFixed(4) ?? '–'} ± ${o.alpha_se?.toFixed(4) ?? '–'}, xmin ${o.xmin ?? '–'})${o.partial ? ' [partial]' : ''}  ${o.files?.plot}`)
    }
    for (const o of failed) output.print(`  FAILED ${o.title}: ${o.error}`)
  }
  if (aggregated) {
    const g = aggregated.global.power_law
    output.print(`corpus: ${aggregated.corpus.anime} anime, ${aggregated.corpus.episodes} episodes, ${aggregated.corpus.total_words} words, ${aggregated.corpus.unique_words} distinct`)
    if (g) output.print(`global fit: s = ${g.s.toFixed(3)} (α = ${g.alpha.toFixed(4)} ± ${g.alpha_se.toFixed(4)}, xmin ${g.xmin}, KS D ${g.ks_d.toFixed(4)})`)
    output.print(`report:     ${aggregated.files.report}\ncomparison: ${aggregated.files.comparison}\nfrequencies: ${aggregated.files.all_anime_freq}`)
  }
  const code = shutdown.stopping ? EXIT.INTERRUPTED : failed.length > 0 ? EXIT.JOBS_FAILED : EXIT.OK
  return {code, result}
}
