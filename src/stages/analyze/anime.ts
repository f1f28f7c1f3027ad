import {createHash} from 'node:crypto'
import {existsSync, rmSync, statSync} from 'node:fs'

import type {DataPaths} from '../../paths.js'
import type {AnalysisRow, EpisodeInput} from '../../queue/rows.js'
import {writeFileAtomic} from '../../util/atomic.js'
import {type FitOptions, type FitReport, fitFrequencies} from './fit.js'
import {CountVector, Vocabulary} from './freq-table.js'
import {escapeHtml, fmt, page} from './html.js'
import {figureBlock} from './figures/figure.js'
import {type WordListFigures, wordListFigures, wordListInput} from './figures/anime.js'
import {streamGrowth, writeGrowth} from './growth.js'
import {type HeapsFit, fitHeaps} from './rank-fits.js'
import {animeIdLabel} from '../../queue/anime.js'

export interface AnimeInfo {
  anime_id: number
  mal_id: number
  title: string
}

export interface AnimeAnalysis {
  params: Record<string, unknown>
  statistics: Record<string, unknown>
  fit: FitReport
  heaps: HeapsFit | null
  totalTokens: number
}

/**
 * The version of what analyze computes: a change of fits or outputs bumps it, so that analyses
 * made by an older animezipf are recomputed by the next run (4: the Vega figures).
 */
export const ANALYSIS_VERSION = 4

/** Every signature of this version starts so: an analysis whose signature does not is outdated. */
export const SIGNATURE_PREFIX = `v${ANALYSIS_VERSION}:`

/** What an analysis was computed from: it changes when any episode's tokens change. */
export function inputSignature(paths: DataPaths, malId: number, episodes: readonly EpisodeInput[], options: FitOptions): string {
  const h = createHash('sha256')
  h.update(`v${ANALYSIS_VERSION}\n`)
  h.update(JSON.stringify(options))
  for (const e of episodes) {
    const csv = paths.freqCsv(malId, e.episode)
    const st = existsSync(csv) ? statSync(csv) : undefined
    h.update(`${e.episode}:${e.tokens_path}:${e.tokens_size_bytes}:${e.word_count}:${st?.size}:${st?.mtimeMs}\n`)
  }
  return `${SIGNATURE_PREFIX}${h.digest('hex').slice(0, 32)}`
}

/** Stream the episodes' frequency CSVs in episode order; vocabulary growth is recorded as it goes. */
export async function readEpisodes(paths: DataPaths, malId: number, episodes: readonly EpisodeInput[]) {
  const table = new CountVector(new Vocabulary())
  const perEpisode: {episode: number; tokens: number; words: number; types: number}[] = []
  const growth: {tokens: number; types: number}[] = []
  for (const e of episodes) {
    const file = paths.freqCsv(malId, e.episode)
    if (!existsSync(file)) throw new Error(`frequency CSV missing: ${file} (run \`animezipf tokenize --force --anime-id ${malId}\`)`)
    const own = await table.readCsv(file)
    perEpisode.push({episode: e.episode, tokens: e.token_count ?? own.tokens, words: own.tokens, types: own.types})
    growth.push({tokens: table.total, types: table.size})
  }
  return {table, perEpisode, growth}
}

function figuresTable(fit: FitReport, heaps: HeapsFit | null): string {
  const pl = fit.power_law
  const rows: [string, string][] = [
    ['words (tokens counted)', String(fit.total_words)],
    ['distinct words', String(fit.unique_words)],
    [
      'least-squares slope (ranks)',
      fit.zipf_fit ? `${fmt(fit.zipf_fit.rank_slope)} (R² ${fmt(fit.zipf_fit.r_squared)}, ranks ${fit.zipf_fit.rank_range.join('–')})` : '–',
    ],
    ['power-law α (MLE)', pl ? `${fmt(pl.alpha, 4)} ± ${fmt(pl.alpha_se, 4)}` : '–'],
    ['rank exponent s = 1/(α−1)', pl ? fmt(pl.s) : '–'],
    ['xmin, words in tail', pl ? `${pl.xmin}, ${pl.n_tail}` : '–'],
    ['KS distance', pl ? fmt(pl.ks_d, 4) : '–'],
    ['bootstrap p', pl?.bootstrap ? `${fmt(pl.bootstrap.p_value)} (${pl.bootstrap.replicates} replicates)` : 'not run (--bootstrap N)'],
    ['vs lognormal (Vuong R, p)', pl?.lognormal ? `${fmt(pl.lognormal.normalized_r)}, ${fmt(pl.lognormal.p_value)} → ${pl.lognormal.favours}` : '–'],
    ['Zipf–Mandelbrot s, b', fit.zipf_mandelbrot ? `${fmt(fit.zipf_mandelbrot.s)}, ${fmt(fit.zipf_mandelbrot.b, 2)}` : '–'],
    ["Heaps' K, β", heaps ? `${fmt(heaps.K, 2)}, ${fmt(heaps.beta)}` : '–'],
    ['types for 80/90/95/98% of tokens', Object.values(fit.coverage.all.types_for).join(' / ')],
    ['same without particles', Object.values(fit.coverage.without_particles.types_for).join(' / ')],
    ['share of words seen once', fmt(fit.coverage.all.hapax_share)],
  ]
  return `<table>${rows.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`
}

/** The per-anime (or corpus) page: its four figures, its numbers and its most frequent words. */
export function plotPage(title: string, subtitle: string, fit: FitReport, heaps: HeapsFit | null, f: WordListFigures): string {
  const top = fit.top_words
    .slice(0, 20)
    .map((w) => `<tr><td>${w.rank}</td><td class="t">${escapeHtml(w.word)}</td><td class="t">${escapeHtml(w.pos)}</td><td>${w.count}</td></tr>`)
    .join('')
  return page(
    `${title}: Zipf plot`,
    `<h1>${escapeHtml(title)}</h1><p class="muted">${escapeHtml(subtitle)}</p>
<div class="figs">
${figureBlock('Rank–frequency', f.rankFrequency, 'The words by rank and count (log–log; every rank up to 120, log-spaced ones after, 500 at most; hover a point for the word). The lines are the fitted curves: the power law’s is the curve its CCDF implies for this many words above xmin.')}
${figureBlock('CCDF', f.ccdf, 'Share of distinct words said at least x times, with the discrete power law fitted by maximum likelihood above xmin (Clauset, Shalizi & Newman 2009).')}
${figureBlock('Coverage', f.coverage, 'Share of all words covered by the k most frequent ones, with and without particles; dotted lines at 90, 95 and 98%.')}
${figureBlock("Heaps' law", f.heaps, 'Distinct words against words said, with the fitted V = K·N^β.', 'no vocabulary growth to draw')}
</div>
<h2>Numbers</h2>${figuresTable(fit, heaps)}
<h2>Most frequent words</h2><table><tr><th>rank</th><th>word</th><th>POS</th><th>count</th></tr>${top}</table>`,
  )
}

/** Analyze one anime from its episodes' frequency CSVs and write its four files atomically. */
export async function analyzeAnime(
  paths: DataPaths,
  anime: AnimeInfo,
  episodes: readonly EpisodeInput[],
  options: FitOptions & {partial: boolean; pending: number; failed: number; excludePos?: readonly string[]},
): Promise<AnimeAnalysis> {
  const malId = anime.mal_id
  const {table, perEpisode, growth} = await readEpisodes(paths, malId, episodes)
  const rows = table.rows()
  const fit = fitFrequencies(rows, options)
  // Heaps' law on the token stream when every episode's tokens are there, else on the episodes
  const stream = streamGrowth(paths, malId, episodes, new Set(options.excludePos ?? ['記号']))
  const heapsFit = stream ? fitHeaps(stream.points) : fitHeaps(growth)
  const heaps = heapsFit ? {...heapsFit, source: stream ? ('token stream' as const) : ('episodes' as const)} : null
  if (stream) writeGrowth(paths.vocabularyGrowth(malId), stream)
  else rmSync(paths.vocabularyGrowth(malId), {force: true})
  const totalTokens = perEpisode.reduce((a, e) => a + e.tokens, 0)
  const analyzedAt = new Date().toISOString()
  const params = {
    anime_id: malId,
    anime_title: anime.title,
    episodes_analyzed: episodes.length,
    partial: options.partial && options.pending > 0,
    episodes_pending: options.pending,
    episodes_failed: options.failed,
    total_words: fit.total_words,
    unique_words: fit.unique_words,
    vocabulary_richness: fit.vocabulary_richness,
    zipf_fit: fit.zipf_fit,
    power_law: fit.power_law,
    zipf_mandelbrot: fit.zipf_mandelbrot,
    heaps,
    coverage: fit.coverage,
    top_words: fit.top_words,
    analyzed_at: analyzedAt,
  }
  const statistics = {
    anime_id: malId,
    anime_title: anime.title,
    episodes: perEpisode,
    total_tokens: totalTokens,
    total_words: fit.total_words,
    unique_words: fit.unique_words,
    hapax_legomena: rows.filter((r) => r.count === 1).length,
    vocabulary_growth: growth,
    analyzed_at: analyzedAt,
  }
  writeFileAtomic(paths.animeWordFreq(malId), table.csv())
  writeFileAtomic(paths.zipfParams(malId), `${JSON.stringify(params, null, 2)}\n`)
  writeFileAtomic(paths.statistics(malId), `${JSON.stringify(statistics, null, 2)}\n`)
  const note = `${episodes.length} episode(s)${params.partial ? `, ${options.pending} still pending (partial)` : ''}; ${animeIdLabel(malId, true)}`
  const figures = await wordListFigures(wordListInput(fit, rows, stream?.points ?? growth, heaps))
  writeFileAtomic(paths.zipfPlot(malId), plotPage(anime.title, note, fit, heaps, figures))
  return {params, statistics, fit, heaps, totalTokens}
}

export function analysisRow(animeId: number, a: AnimeAnalysis, signature: string, partial: boolean): AnalysisRow {
  const {fit} = a
  const pl = fit.power_law
  return {
    anime_id: animeId,
    zipf_alpha: fit.zipf_fit?.rank_slope ?? null,
    zipf_constant: fit.zipf_fit?.constant ?? null,
    r_squared: fit.zipf_fit?.r_squared ?? null,
    total_words: fit.total_words,
    unique_words: fit.unique_words,
    vocabulary_richness: fit.vocabulary_richness,
    top_10_words: JSON.stringify(fit.top_words.slice(0, 10)),
    top_50_words: JSON.stringify(fit.top_words),
    episodes_analyzed: a.params.episodes_analyzed as number,
    partial: partial ? 1 : 0,
    rank_range: fit.zipf_fit ? JSON.stringify(fit.zipf_fit.rank_range) : null,
    mle_alpha: pl?.alpha ?? null,
    mle_s: pl?.s ?? null,
    mle_alpha_se: pl?.alpha_se ?? null,
    mle_xmin: pl?.xmin ?? null,
    mle_n_tail: pl?.n_tail ?? null,
    ks_d: pl?.ks_d ?? null,
    bootstrap_p: pl?.bootstrap?.p_value ?? null,
    lognormal_r: pl?.lognormal?.normalized_r ?? null,
    lognormal_p: pl?.lognormal?.p_value ?? null,
    zm_s: fit.zipf_mandelbrot?.s ?? null,
    zm_b: fit.zipf_mandelbrot?.b ?? null,
    heaps_k: a.heaps?.K ?? null,
    heaps_beta: a.heaps?.beta ?? null,
    coverage: JSON.stringify(fit.coverage),
    hapax_share: fit.coverage.all.hapax_share,
    total_tokens: a.totalTokens,
    input_signature: signature,
  }
}
