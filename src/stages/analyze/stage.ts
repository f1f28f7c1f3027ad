import {existsSync} from 'node:fs'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, PermanentJobError, errorMessage} from '../../errors.js'
import type {AnalysisCandidate, EpisodeInput, JobRow} from '../../queue/rows.js'
import type {Queue} from '../../queue/index.js'
import {STAGES} from '../../queue/stages.js'
import {type Lease, type UnitOutcome, emptySummary} from '../../runner/pool.js'
import {type Stage, type StageDeps, type StageIdle, type StagePlan, poolExitCode, runStage} from '../../runner/stage.js'
import {animeUnits} from '../../runner/units.js'
import {SIGNATURE_PREFIX, analysisRow, analyzeAnime, inputSignature} from './anime.js'
import {FigureThread, FigureThreadError} from './figures/figure-thread.js'
import {useRenderer} from './figures/figure.js'
import type {FitOptions} from './fit.js'
import {refreshAggregate} from './refresh.js'
import {type AnalyzePlan, type AnalyzeResult, type AnimeOutcome, analyzeResult, analyzeText, animeOutcomes, planAnalysis} from './result.js'
import {animeIdLabel} from '../../queue/anime.js'

export type {AnalyzeGlobal, AnalyzePlan, AnalyzeResult, AnimeOutcome} from './result.js'

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

export interface AnalyzeDeps extends StageDeps {
  ctx: AppContext
  fit: FitOptions
  force: boolean
  /** Vega draws in a thread of its own while this thread fits the next anime (two anime in flight). */
  figures: FigureThread
}

/** The analysis of one claimed anime: the candidate, its episodes' inputs and what they were last analyzed from. */
interface AnimeInputs {
  c: AnalysisCandidate
  inputs: EpisodeInput[]
  signature: string
  fields: {analysis_path: string}
}

/** Fit one claimed anime from its episodes' frequency CSVs, unless its inputs are what its last analysis was made from. */
export async function analyzeAnimeJob(job: JobRow, lease: Lease, deps: AnalyzeDeps): Promise<UnitOutcome<AnimeOutcome>> {
  const queue = await deps.ctx.queue()
  const c = await queue.analysis.candidate(job.anime_id)
  if (!c) throw new PermanentJobError(`anime ${job.anime_id} is gone from the database`)
  try {
    const a = await animeInputs(queue, c, lease.owner, deps)
    if (await unchanged(queue, a, deps)) {
      return {fields: a.fields, message: 'unchanged', record: {mal_id: c.mal_id, title: c.title, status: 'unchanged', episodes: a.inputs.length}}
    }
    return await fitAnime(queue, a, deps)
  } catch (error) {
    // a figure thread that died is retried; a fit that fails on these inputs fails again
    if (error instanceof FigureThreadError) throw error
    throw new PermanentJobError(errorMessage(error))
  }
}

async function animeInputs(queue: Queue, c: AnalysisCandidate, owner: string, deps: AnalyzeDeps): Promise<AnimeInputs> {
  const paths = deps.ctx.paths
  const inputs = await queue.analysis.inputs(c.anime_id, owner)
  const signature = inputSignature(paths, c.mal_id, inputs, deps.fit)
  return {c, inputs, signature, fields: {analysis_path: paths.relative(paths.zipfParams(c.mal_id))}}
}

/** Unchanged: not forced, the same input signature as the latest analysis, and its files still there. */
async function unchanged(queue: Queue, a: AnimeInputs, deps: AnalyzeDeps): Promise<boolean> {
  if (deps.force) return false
  const paths = deps.ctx.paths
  const previous = await queue.analysis.latest(a.c.anime_id)
  return previous?.input_signature === a.signature && existsSync(paths.zipfParams(a.c.mal_id)) && existsSync(paths.zipfPlot(a.c.mal_id))
}

/** Fit, write the anime's four files, record the analysis, and say what came out. */
async function fitAnime(queue: Queue, {c, inputs, signature, fields}: AnimeInputs, deps: AnalyzeDeps): Promise<UnitOutcome<AnimeOutcome>> {
  const paths = deps.ctx.paths
  const partial = c.pending > 0
  const a = await analyzeAnime(paths, c, inputs, {
    ...deps.fit,
    partial,
    pending: c.pending,
    failed: c.failed,
    excludePos: deps.ctx.config.tokenize.exclude_pos,
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
}

/** `animezipf analyze`: per-anime fits for anime whose episodes are tokenized, then the corpus-wide outputs. */
export const analyzeStage: Stage<AnalyzeOptions, AnalyzeDeps, AnimeOutcome, AnalyzeResult | AnalyzePlan> = {
  def: STAGES.analyze,

  prepare(ctx, options) {
    const figures = new FigureThread()
    useRenderer(figures)
    return Promise.resolve({
      ctx,
      fit: {bootstrap: options.bootstrap, seed: options.seed, minCount: options.minCount},
      force: options.force,
      figures,
      // two anime at a time: one is fitted in this thread while the other's figures are drawn
      workers: 2,
      shutdownWhat: 'the anime being analyzed finishes',
      close: async () => {
        useRenderer(undefined)
        await figures.close()
      },
    })
  },

  // (--dry-run: the plan below says what --force or an upgrade would send back)
  async start(run) {
    const {queue, options, ctx} = run
    if (options.dryRun) return
    if (options.force) {
      const n = await queue.jobs.rewind(this.def, ['complete'], options.malId)
      if (n > 0) ctx.output.log(`--force: ${n} complete job(s) will be analyzed again`)
      return
    }
    // an upgrade that changed the fits or the figures: the anime analyzed before it are analyzed again
    const outdated = await queue.analysis.outdated(SIGNATURE_PREFIX, options.malId)
    await queue.jobs.rewind(this.def, ['complete'], undefined, {malIds: outdated, why: 'analyzed by an older animezipf'})
    if (outdated.length > 0) ctx.output.log(`${outdated.length} anime analyzed by an older animezipf will be analyzed again`)
  },

  units(run) {
    const {partial, malId} = run.options
    return {
      source: animeUnits(run.queue, this.def, {malId, whole: !partial}),
      subject: (u) => u.jobs[0]!,
      eligible: async () => ({ready: (await run.queue.analysis.candidates(partial, malId)).length, waiting: 0}),
    }
  },

  handleJob: analyzeAnimeJob,

  describe: (job) => `analyze ${job.anime_title} (${animeIdLabel(job.mal_id)})`,

  plan: (run) => planAnalysis(run.queue, run.options),

  // with nothing ready, the corpus-wide outputs are still rebuilt when out of date
  whenIdle: 'summarize',

  async summarize(summary, run, deps) {
    const {queue, ctx} = run
    const outcomes = await animeOutcomes(queue, summary)
    const aggregated = summary.interrupted ? undefined : await refreshAggregate(ctx, queue, deps.fit, deps.force)
    if (aggregated) ctx.output.log(`aggregated ${aggregated.corpus.anime} anime: ${aggregated.groups.length} genre/studio groups`)
    const result = analyzeResult(outcomes, summary, aggregated)
    return {code: poolExitCode(summary), result, text: await analyzeText(queue, result, aggregated)}
  },
}

export async function analyze(ctx: AppContext, options: AnalyzeOptions): Promise<ServiceResult<AnalyzeResult | AnalyzePlan | StagePlan | StageIdle>> {
  // before the first import or scrape (a cron chain's first runs, or a mistyped --data-dir):
  // nothing to analyze, said with the folder, and no queue made for it
  if (!ctx.queueExists) {
    const line = `analyze: nothing to analyze: no corpus at ${ctx.paths.root} yet (\`animezipf demo\`, \`import\` or \`scrape\` make one; or pass --data-dir)`
    return {code: EXIT.OK, result: analyzeResult([], emptySummary(STAGES.analyze), undefined), text: [line]}
  }
  return runStage(ctx, analyzeStage, options)
}
