import type {ServiceResult} from '../../app/result.js'
import type {Queue} from '../../queue/index.js'
import type {PoolSummary} from '../../runner/pool.js'
import type {AggregateResult} from './aggregate.js'
import {SIGNATURE_PREFIX} from './anime.js'

/** One anime of an analyze run, as `analyze --json` lists it. */
export interface AnimeOutcome {
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

/** The corpus-wide fit as `analyze --json` reports it when the aggregate was rebuilt. */
export interface AnalyzeGlobal {
  corpus: AggregateResult['corpus']
  s: number | null
  alpha: number | null
  alpha_se: number | null
  xmin: number | null
  ks_d: number | null
  least_squares_slope: number | null
  coverage: AggregateResult['global']['coverage']
  outliers: AggregateResult['outliers']
}

/** `analyze --json`: each anime's outcome, the counts, and the corpus-wide outputs when they were rebuilt. */
export interface AnalyzeResult {
  anime: AnimeOutcome[]
  analyzed: number
  unchanged: number
  failed: number
  lost: number
  interrupted: boolean
  global: AnalyzeGlobal | null
  files: AggregateResult['files'] | null
}

/** `analyze --dry-run --json`: the anime it would analyze, and whether it would rebuild the aggregate. */
export interface AnalyzePlan {
  dry_run: true
  would_analyze: {mal_id: number; title: string; episodes: number; pending: number}[]
  aggregates: boolean
}

/** --dry-run: what --force or an upgrade would send back first, then the anime a run would analyze now. */
export async function planAnalysis(
  queue: Queue,
  options: {malId?: number | undefined; limit?: number | undefined; partial: boolean; force: boolean},
): Promise<ServiceResult<AnalyzePlan>> {
  const text: string[] = []
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

/** The pool's records, then its failures as outcomes of their own (the anime looked up by job). */
export async function animeOutcomes(queue: Queue, summary: PoolSummary<AnimeOutcome>): Promise<AnimeOutcome[]> {
  const outcomes: AnimeOutcome[] = [...summary.records]
  for (const f of summary.failures) {
    const job = await queue.jobs.getJob(f.jobId)
    outcomes.push({mal_id: job?.mal_id ?? 0, title: job?.anime_title ?? f.label, status: 'failed', episodes: 0, error: f.error})
  }
  return outcomes
}

function globalFigures(aggregated: AggregateResult): AnalyzeGlobal {
  const pl = aggregated.global.power_law
  return {
    corpus: aggregated.corpus,
    s: pl?.s ?? null,
    alpha: pl?.alpha ?? null,
    alpha_se: pl?.alpha_se ?? null,
    xmin: pl?.xmin ?? null,
    ks_d: pl?.ks_d ?? null,
    least_squares_slope: aggregated.global.zipf_fit?.rank_slope ?? null,
    coverage: aggregated.global.coverage,
    outliers: aggregated.outliers,
  }
}

export function analyzeResult(outcomes: AnimeOutcome[], summary: PoolSummary<AnimeOutcome>, aggregated: AggregateResult | undefined): AnalyzeResult {
  return {
    anime: outcomes,
    analyzed: outcomes.filter((o) => o.status === 'analyzed').length,
    unchanged: outcomes.filter((o) => o.status === 'unchanged').length,
    failed: outcomes.filter((o) => o.status === 'failed').length,
    lost: summary.lost,
    interrupted: summary.interrupted,
    global: aggregated ? globalFigures(aggregated) : null,
    files: aggregated ? aggregated.files : null,
  }
}

/** The summary lines: each anime analyzed or failed (or why nothing was), then the corpus when it was rebuilt. */
export async function analyzeText(queue: Queue, result: AnalyzeResult, aggregated: AggregateResult | undefined): Promise<string[]> {
  const text: string[] = []
  const outcomes = result.anime
  if (outcomes.length === 0) {
    const blocked = await queue.analysis.blockedAnimeCount()
    text.push(
      `analyze: nothing new to analyze${blocked ? ` (${blocked} anime wait for episodes still in the pipeline; --partial analyzes them now)` : ''}${aggregated ? '; the corpus-wide outputs were out of date and are rebuilt' : ''}`,
    )
  } else {
    text.push(`analyze: ${result.analyzed} analyzed, ${result.unchanged} unchanged, ${result.failed} failed`)
    for (const o of outcomes.filter((x) => x.status === 'analyzed')) {
      text.push(
        `  ${o.title}: s = ${o.s?.toFixed(3) ?? '–'} (α = ${o.alpha?.toFixed(4) ?? '–'} ± ${o.alpha_se?.toFixed(4) ?? '–'}, xmin ${o.xmin ?? '–'})${o.partial ? ' [partial]' : ''}  ${o.files?.plot}`,
      )
    }
    for (const o of outcomes.filter((x) => x.status === 'failed')) text.push(`  FAILED ${o.title}: ${o.error}`)
  }
  if (aggregated) text.push(...corpusLines(aggregated))
  return text
}

function corpusLines(aggregated: AggregateResult): string[] {
  const g = aggregated.global.power_law
  const text = [
    `corpus: ${aggregated.corpus.anime} anime, ${aggregated.corpus.episodes} episodes, ${aggregated.corpus.total_words} words, ${aggregated.corpus.unique_words} distinct`,
  ]
  if (g) text.push(`global fit: s = ${g.s.toFixed(3)} (α = ${g.alpha.toFixed(4)} ± ${g.alpha_se.toFixed(4)}, xmin ${g.xmin}, KS D ${g.ks_d.toFixed(4)})`)
  text.push(`report:     ${aggregated.files.report}\ncomparison: ${aggregated.files.comparison}\nfrequencies: ${aggregated.files.all_anime_freq}`)
  return text
}
