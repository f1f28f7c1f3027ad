import path from 'node:path'

import type {DataPaths} from '../../paths.js'
import type {AnalyzedAnime} from '../../queue/rows.js'
import {writeFileAtomic} from '../../util/atomic.js'
import type {AggregateResult, CorpusFit, GroupSummary} from './aggregate.js'
import {DIFFICULTY_SHARES} from './difficulty.js'
import {type ForestItem, forestSvg, growthCurvesSvg} from './figures/comparison.js'
import {figureBlock} from './figures/figure.js'
import {type FitReport, rankExponentSe} from './fit.js'
import type {AnimeGrowth} from './growth.js'
import {escapeHtml, fmt, page} from './html.js'

/** An anime's rank exponent outside these usually means a tokenizer or transcription problem. */
export const OUTLIER_LOW = 0.7
export const OUTLIER_HIGH = 1.5

/** At most this many anime on the report's forest plot (all of them on the comparison page). */
const REPORT_FOREST = 60

/** What comparison.html and the final report are drawn from: the corpus's counts, fits and group summaries. */
export interface CorpusPages extends CorpusFit {
  paths: DataPaths
  analyzed: AnalyzedAnime[]
  figureName: (a: AnalyzedAnime) => string
  rarefied: Map<number, number>
  commonN: number
  summaries: GroupSummary[]
  groupMin: number
  outliers: AggregateResult['outliers']
}

/** The forest plots of the anime, genres and studios, and the anime's items. */
interface Forests {
  anime: string | null
  genre: string | null
  studio: string | null
  animeItems: ForestItem[]
  reference: {s: number; label: string} | null
}

function interval(s: number | null, se: number | null): string {
  if (s === null) return '–'
  return se === null ? fmt(s) : `${fmt(s)} [${fmt(s - 1.96 * se)}, ${fmt(s + 1.96 * se)}]`
}

/** The corpus's rank exponent as the forest plots' reference line. */
function corpusReference(fit: FitReport): {s: number; label: string} | null {
  const pl = fit.power_law
  return pl ? {s: pl.s, label: `all anime: s = ${fmt(pl.s)}`} : null
}

/** At most `max` items for the report: all of them, or the highest and lowest halves. */
function extremes(items: readonly ForestItem[], max: number): ForestItem[] {
  if (items.length <= max) return [...items]
  const sorted = [...items].sort((x, y) => y.s - x.s)
  return [...sorted.slice(0, max / 2), ...sorted.slice(-max / 2)]
}

function animeRows(list: AnalyzedAnime[], paths: DataPaths, from: string, rarefied: Map<number, number>): string {
  return list
    .map((a) => {
      const se = a.mle_alpha !== null && a.mle_alpha_se !== null ? rankExponentSe({alpha: a.mle_alpha, alpha_se: a.mle_alpha_se}) : null
      const link = path.relative(from, paths.zipfPlot(a.mal_id))
      const flag = a.mle_s !== null && (a.mle_s < OUTLIER_LOW || a.mle_s > OUTLIER_HIGH) ? ' class="warn"' : ''
      return `<tr${flag}><td><a href="${escapeHtml(link)}">${escapeHtml(a.title)}</a>${a.partial ? ' <span class="muted">(partial)</span>' : ''}</td><td>${a.episodes_analyzed ?? ''}</td><td>${a.total_words ?? ''}</td><td>${a.unique_words ?? ''}</td><td>${fmt(rarefied.get(a.anime_id), 0)}</td><td>${interval(a.mle_s, se)}</td></tr>`
    })
    .join('')
}

function animeHeader(commonN: number): string {
  return `<tr><th>anime</th><th>episodes</th><th>words</th><th>distinct</th><th>distinct at ${commonN} words</th><th>s [95% interval]</th></tr>`
}

function groupTable(p: CorpusPages, kind: 'genre' | 'studio'): string {
  return `<table><tr><th>${kind}</th><th>anime</th><th>words</th><th>distinct</th><th>distinct at ${Math.min(p.groupMin, 50_000)} words</th><th>s [95% interval]</th></tr>${p.summaries
    .filter((s) => s.kind === kind)
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.name)}</td><td>${s.anime}</td><td>${s.total_words}</td><td>${s.unique_words}</td><td>${fmt(s.rarefied_vocabulary, 0)}</td><td>${interval(s.s, s.s_se)}</td></tr>`,
    )
    .join('')}</table>`
}

function forestCaption(what: string): string {
  return `Rank exponent s = 1/(α−1) of each ${what}'s discrete power-law fit with its 95% interval, largest first; the dashed red line is the corpus's s.`
}

/** Write comparison.html and the final report. */
export async function writeCorpusPages(p: CorpusPages): Promise<void> {
  const forests = await drawForests(p)
  writeFileAtomic(p.paths.comparisonHtml, await comparisonPage(p, forests))
  const reportAnimeForest =
    forests.animeItems.length <= REPORT_FOREST ? forests.anime : await forestSvg(extremes(forests.animeItems, REPORT_FOREST), forests.reference)
  writeFileAtomic(p.paths.finalReport, reportPage(p, forests, reportAnimeForest))
}

async function drawForests(p: CorpusPages): Promise<Forests> {
  const reference = corpusReference(p.globalFit)
  const animeItems: ForestItem[] = p.analyzed.flatMap((a) =>
    a.mle_s === null
      ? []
      : [
          {
            label: p.figureName(a),
            s: a.mle_s,
            se: a.mle_alpha !== null && a.mle_alpha_se !== null ? rankExponentSe({alpha: a.mle_alpha, alpha_se: a.mle_alpha_se}) : null,
            words: a.total_words ?? 0,
          },
        ],
  )
  const groupItems = (kind: 'genre' | 'studio'): ForestItem[] =>
    p.summaries.filter((g) => g.kind === kind && g.s !== null).map((g) => ({label: g.name, s: g.s!, se: g.s_se, words: g.total_words}))
  return {
    anime: await forestSvg(animeItems, reference),
    genre: await forestSvg(groupItems('genre'), reference),
    studio: await forestSvg(groupItems('studio'), reference),
    animeItems,
    reference,
  }
}

/** comparison.html: every anime's, genre's and studio's rank exponent, and vocabulary at equal size. */
async function comparisonPage(p: CorpusPages, forests: Forests): Promise<string> {
  const {analyzed, paths, streams} = p
  const lengths = streams
    .filter((g): g is AnimeGrowth => g !== undefined)
    .map((g) => g.total)
    .sort((x, y) => x - y)
  const equalLength = lengths[Math.floor(lengths.length * 0.1)] ?? 0
  const growthSvg = await growthCurvesSvg(
    analyzed.flatMap((a, i) => (streams[i] ? [{title: p.figureName(a), points: streams[i].points}] : [])),
    equalLength,
  )
  return page(
    'animezipf: comparison',
    `<h1>Comparison of Zipf exponents</h1>
<p>Rank exponent s = 1/(α−1) of the discrete power-law fit (maximum likelihood, xmin by KS distance), with 95% intervals.
Vocabulary is compared at equal size (expected distinct words in a random sample of the same number of words), since raw counts grow with length.</p>
<div class="figs">
${figureBlock('All anime by rank', p.normalizedSvg, "Each anime's share of its words at each rank (log–log), the corpus in red: the curves lie on top of each other where the anime share Zipf's law.")}
${figureBlock('Vocabulary growth at equal length', growthSvg, `Distinct words against words said over each anime's first ${equalLength.toLocaleString('en')} words (the length 90% of the anime reach; shorter ones end early).`, 'no anime has a token stream (tokens files missing)')}
</div>
<h2>Anime</h2>${figureBlock('Anime: rank exponents', forests.anime, forestCaption('anime'))}
<table>${animeHeader(p.commonN)}${animeRows(analyzed, paths, paths.aggregatedDir, p.rarefied)}</table>
<h2>Genres</h2>${figureBlock('Genres: rank exponents', forests.genre, forestCaption('genre'), 'no genre has a fit')}${groupTable(p, 'genre')}
<h2>Studios</h2>${figureBlock('Studios: rank exponents', forests.studio, forestCaption('studio'), 'no studio has a fit')}${groupTable(p, 'studio')}`,
  )
}

/** The final report: the corpus, its global fit and coverage, the rank exponents, top words, difficulty and outliers. */
function reportPage(p: CorpusPages, forests: Forests, reportAnimeForest: string | null): string {
  const {paths, corpus, globalFit, corpusHeaps, globalFigures, difficulty, outliers} = p
  const {animeItems} = forests
  const globalPlot = paths.globalPlot
  const gpl = globalFit.power_law
  const cov = globalFit.coverage
  return page(
    'animezipf: final report',
    `<h1>Zipf's law in anime dialogue</h1>
<div class="cols"><div>
<h2>Corpus</h2><table><tr><td>anime</td><td>${corpus.anime}</td></tr><tr><td>episodes</td><td>${corpus.episodes}</td></tr><tr><td>words</td><td>${corpus.total_words}</td></tr><tr><td>distinct words</td><td>${corpus.unique_words}</td></tr></table>
<h2>Global fit</h2><table>
<tr><td>power-law α (MLE)</td><td>${gpl ? `${fmt(gpl.alpha, 4)} ± ${fmt(gpl.alpha_se, 4)}` : '–'}</td></tr>
<tr><td>rank exponent s</td><td>${gpl ? interval(gpl.s, rankExponentSe(gpl)) : '–'}</td></tr>
<tr><td>xmin, words in tail, KS D</td><td>${gpl ? `${gpl.xmin}, ${gpl.n_tail}, ${fmt(gpl.ks_d, 4)}` : '–'}</td></tr>
<tr><td>bootstrap p</td><td>${gpl?.bootstrap ? fmt(gpl.bootstrap.p_value) : 'not run'}</td></tr>
<tr><td>vs lognormal</td><td>${gpl?.lognormal ? `R = ${fmt(gpl.lognormal.normalized_r)}, p = ${fmt(gpl.lognormal.p_value)} (${gpl.lognormal.favours})` : '–'}</td></tr>
<tr><td>least-squares slope</td><td>${globalFit.zipf_fit ? `${fmt(globalFit.zipf_fit.rank_slope)} (ranks ${globalFit.zipf_fit.rank_range.join('–')}, R² ${fmt(globalFit.zipf_fit.r_squared)})` : '–'}</td></tr>
<tr><td>Zipf–Mandelbrot s, b</td><td>${globalFit.zipf_mandelbrot ? `${fmt(globalFit.zipf_mandelbrot.s)}, ${fmt(globalFit.zipf_mandelbrot.b, 2)}` : '–'}</td></tr>
<tr><td>Heaps' law K, β (the anime's token streams end to end)</td><td>${corpusHeaps ? `${fmt(corpusHeaps.K, 2)}, ${fmt(corpusHeaps.beta)} (${corpusHeaps.points} points)` : '– (some anime have no token stream)'}</td></tr>
</table><p><a href="${escapeHtml(path.relative(paths.reportsDir, globalPlot))}">global rank-frequency plot</a> · <a href="${escapeHtml(path.relative(paths.reportsDir, paths.comparisonHtml))}">comparison across anime, genres and studios</a></p>
</div>
${figureBlock('Rank–frequency, all anime', globalFigures.rankFrequency, 'The words of the corpus by rank and count (every rank up to 120, log-spaced ones after, 500 at most), with the three fitted curves.')}
</div>
<div class="cols">
${figureBlock('CCDF, all anime', globalFigures.ccdf, 'Share of distinct words said at least x times, with the power law fitted above xmin.')}
<div>
<h2>Coverage</h2><p>How many of the most frequent words cover a share of all words.</p>
<table><tr><th></th><th>80%</th><th>90%</th><th>95%</th><th>98%</th><th>seen once</th></tr>
<tr><td>all words</td>${Object.values(cov.all.types_for)
      .map((v) => `<td>${v}</td>`)
      .join('')}<td>${fmt(cov.all.hapax_share)}</td></tr>
<tr><td>without particles</td>${Object.values(cov.without_particles.types_for)
      .map((v) => `<td>${v}</td>`)
      .join('')}<td>${fmt(cov.without_particles.hapax_share)}</td></tr></table>
${figureBlock('Coverage, all anime', globalFigures.coverage, 'Share of all words covered by the k most frequent ones, with and without particles.')}
</div>
</div>
<h2>Rank exponents</h2>
<div class="cols">
${figureBlock('Anime', reportAnimeForest, animeItems.length <= REPORT_FOREST ? forestCaption('anime') : `${forestCaption('anime')} The ${REPORT_FOREST / 2} highest and ${REPORT_FOREST / 2} lowest of ${animeItems.length}; all of them on the comparison page.`)}
<div>${figureBlock('Genres', forests.genre, forestCaption('genre'), 'no genre has a fit')}${figureBlock('Studios', forests.studio, forestCaption('studio'), 'no studio has a fit')}</div>
</div>
<h2>Top words</h2><table><tr><th>rank</th><th>word</th><th>POS</th><th>count</th><th>share</th></tr>${globalFit.top_words
      .map(
        (w) =>
          `<tr><td>${w.rank}</td><td class="t">${escapeHtml(w.word)}</td><td class="t">${escapeHtml(w.pos)}</td><td>${w.count}</td><td>${fmt(w.frequency * 100, 2)}%</td></tr>`,
      )
      .join('')}</table>
<h2>Difficulty for learners</h2><p>How many of the corpus's most frequent words a viewer must know to understand 90, 95 and 98% of the words of each anime, easiest first (<a href="${escapeHtml(path.relative(paths.reportsDir, paths.difficultyJson))}">difficulty.json</a>).</p>
<table><tr><th>anime</th><th>words</th>${DIFFICULTY_SHARES.map((p) => `<th>${p}%</th>`).join('')}</tr>${difficulty
      .map(
        (d) =>
          `<tr><td><a href="${escapeHtml(path.relative(paths.reportsDir, paths.zipfPlot(d.mal_id)))}">${escapeHtml(d.title)}</a></td><td>${d.words}</td>${DIFFICULTY_SHARES.map((p) => `<td>${d.words_to_know[p] ?? '–'}</td>`).join('')}</tr>`,
      )
      .join('')}</table>
<h2>Outliers</h2><p>An exponent outside ${OUTLIER_LOW}–${OUTLIER_HIGH} usually means a tokenizer or transcription problem.</p>
${outliers.length === 0 ? '<p>none</p>' : `<ul>${outliers.map((o) => `<li class="warn"><a href="${escapeHtml(path.relative(paths.reportsDir, paths.zipfPlot(o.mal_id)))}">${escapeHtml(o.title)}</a>: s = ${fmt(o.s)}</li>`).join('')}</ul>`}
<h2>Anime</h2><table>${animeHeader(p.commonN)}${animeRows(p.analyzed, paths, paths.reportsDir, p.rarefied)}</table>`,
    {wide: true},
  )
}
