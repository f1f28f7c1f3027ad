import {existsSync} from 'node:fs'
import path from 'node:path'

import type {DataPaths} from '../../paths.js'
import type {Queue} from '../../queue/index.js'
import type {AnalyzedAnime} from '../../queue/rows.js'
import {writeFileAtomic} from '../../util/atomic.js'
import {type FitOptions, type FitReport, fitFrequencies, rankExponentSe} from './fit.js'
import {readFrequencyCsv} from '../../formats/frequency-csv.js'
import {CountVector, Vocabulary} from './freq-table.js'
import {escapeHtml, fmt, page} from './html.js'
import {plotPage} from './anime.js'
import {wordListFigures, wordListInput} from './figures/anime.js'
import {type ForestItem, forestSvg, growthCurvesSvg, normalizedCurvesSvg} from './figures/comparison.js'
import {figureBlock} from './figures/figure.js'
import {type AnimeGrowth, corpusGrowth, readGrowth} from './growth.js'
import {fitHeaps, rarefiedVocabulary} from './rank-fits.js'
import {type AnimeWords, DIFFICULTY_SHARES, type DifficultyShare, corpusRanks, wordsToKnow} from './difficulty.js'

/** How many of the corpus's most frequent words a viewer must know for a share of an anime's words. */
export interface DifficultyRow {
  mal_id: number
  title: string
  words: number
  words_to_know: Record<DifficultyShare, number | null>
}

/** Easiest first; anime without an answer last. */
function byDifficulty(x: DifficultyRow, y: DifficultyRow): number {
  const key = (d: DifficultyRow, p: DifficultyShare) => d.words_to_know[p] ?? Number.POSITIVE_INFINITY
  return key(x, '95') - key(y, '95') || key(x, '98') - key(y, '98') || x.mal_id - y.mal_id
}

export interface GroupSummary {
  kind: 'genre' | 'studio'
  name: string
  anime: number
  total_words: number
  unique_words: number
  s: number | null
  s_se: number | null
  alpha: number | null
  rarefied_vocabulary: number
  freq_csv: string
}

export interface AggregateResult {
  corpus: {anime: number; episodes: number; total_words: number; unique_words: number}
  global: FitReport
  groups: GroupSummary[]
  outliers: {mal_id: number; title: string; s: number}[]
  difficulty: DifficultyRow[]
  files: {all_anime_freq: string; global_fit: string; comparison: string; report: string; global_plot: string; difficulty: string}
}

const OUTLIER_LOW = 0.7
const OUTLIER_HIGH = 1.5

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

/**
 * Rebuild the corpus-wide outputs from each analyzed anime's word_freq.csv: the global list, one list
 * per genre and studio with its fits, comparison.html and the final report. Memory grows with the
 * number of distinct words (per group), not with the number of episodes.
 */
export async function aggregate(queue: Queue, paths: DataPaths, options: FitOptions): Promise<AggregateResult> {
  const analyzed = (await queue.analysis.analyzedAnime()).filter((a) => existsSync(paths.animeWordFreq(a.mal_id)))
  const membership = await queue.analysis.groupMembership()
  // the figures key rows and curves by name: two anime of one title get their MyAnimeList id beside it
  const titleCount = new Map<string, number>()
  for (const a of analyzed) titleCount.set(a.title, (titleCount.get(a.title) ?? 0) + 1)
  const figureName = (a: AnalyzedAnime) => (titleCount.get(a.title)! > 1 ? `${a.title} (MAL ${a.mal_id})` : a.title)
  const groupsOf = new Map<number, string[]>()
  for (const m of membership) groupsOf.set(m.anime_id, [...(groupsOf.get(m.anime_id) ?? []), `${m.kind}\u0000${m.name}`])
  const vocabulary = new Vocabulary()
  const global = new CountVector(vocabulary)
  const groups = new Map<string, {table: CountVector; anime: number}>()
  const minWords = Math.max(1, Math.min(...analyzed.map((a) => a.total_words ?? 0).filter((n) => n > 0), Number.MAX_SAFE_INTEGER))
  const commonN = Math.min(minWords, 10_000)
  const rarefied = new Map<number, number>()
  // each anime's words as ids and counts (8-12 bytes a word): the difficulty table needs corpus ranks first
  const animeWords = new Map<number, AnimeWords>()
  for (const a of analyzed) {
    const ids: number[] = []
    const counts: number[] = []
    await readFrequencyCsv(paths.animeWordFreq(a.mal_id), (word, pos, reading, count) => {
      ids.push(vocabulary.id(word, pos, reading))
      counts.push(count)
    })
    animeWords.set(a.anime_id, {ids: Int32Array.from(ids), counts: Float64Array.from(counts), total: counts.reduce((x, c) => x + c, 0)})
    rarefied.set(a.anime_id, rarefiedVocabulary(counts, commonN))
    const targets = [global]
    for (const key of groupsOf.get(a.anime_id) ?? []) {
      let g = groups.get(key)
      if (!g) groups.set(key, (g = {table: new CountVector(vocabulary), anime: 0}))
      g.anime++
      targets.push(g.table)
    }
    for (const t of targets) for (let i = 0; i < ids.length; i++) t.add(ids[i]!, counts[i]!)
  }

  const globalRows = global.rows()
  const globalFit = fitFrequencies(globalRows, options)
  // Heaps' law for the corpus: the anime's token streams end to end (when every anime has one)
  const streams = analyzed.map((a) => readGrowth(paths.vocabularyGrowth(a.mal_id)))
  const complete = streams.length > 0 && streams.every((g) => g !== undefined)
  const corpusPoints = complete ? corpusGrowth(streams) : []
  const corpusHeapsFit = complete ? fitHeaps(corpusPoints) : undefined
  const corpusHeaps = corpusHeapsFit ? {...corpusHeapsFit, source: 'token stream' as const} : null
  writeFileAtomic(paths.allAnimeFreq, global.csv(globalRows))
  const episodes = analyzed.reduce((n, a) => n + (a.episodes_analyzed ?? 0), 0)
  const corpus = {anime: analyzed.length, episodes, total_words: global.total, unique_words: global.size}
  writeFileAtomic(paths.globalFit, `${JSON.stringify({corpus, ...globalFit, heaps: corpusHeaps, analyzed_at: new Date().toISOString()}, null, 2)}\n`)
  // every anime's frequency share by rank on one plot (before the word lists are let go)
  const normalizedSvg = await normalizedCurvesSvg(
    analyzed.map((a) => ({title: figureName(a), counts: animeWords.get(a.anime_id)!.counts})),
    globalRows.map((r) => r.count),
  )
  const ranks = corpusRanks(global)
  const difficulty: DifficultyRow[] = analyzed
    .map((a) => ({mal_id: a.mal_id, title: a.title, words: animeWords.get(a.anime_id)!.total, words_to_know: wordsToKnow(animeWords.get(a.anime_id)!, ranks)}))
    .sort(byDifficulty)
  animeWords.clear()
  writeFileAtomic(paths.difficultyJson, `${JSON.stringify({shares: DIFFICULTY_SHARES, anime: difficulty}, null, 2)}\n`)
  const globalPlot = paths.globalPlot
  const globalFigures = await wordListFigures(wordListInput(globalFit, globalRows, corpusPoints, corpusHeaps))
  writeFileAtomic(globalPlot, plotPage('All anime', `${corpus.anime} anime, ${corpus.episodes} episodes`, globalFit, corpusHeaps, globalFigures))

  const groupMin = Math.min(...[...groups.values()].map((g) => g.table.total), Number.MAX_SAFE_INTEGER)
  const summaries: GroupSummary[] = []
  // the same sibling names as \`animezipf word\` sees: every group of the queue, analyzed or not
  const namesOf = (kind: string) => [...new Set(membership.filter((m) => m.kind === kind).map((m) => m.name))]
  for (const [key, g] of [...groups.entries()].sort()) {
    const [kind, name] = key.split('\u0000') as ['genre' | 'studio', string]
    const rows = g.table.rows()
    const fit = fitFrequencies(rows, {...options, bootstrap: 0})
    const csvFile = paths.groupFreq(kind, name, namesOf(kind))
    writeFileAtomic(csvFile, g.table.csv(rows))
    writeFileAtomic(paths.groupFit(kind, name, namesOf(kind)), `${JSON.stringify({kind, name, anime: g.anime, ...fit}, null, 2)}\n`)
    const pl = fit.power_law
    summaries.push({
      kind,
      name,
      anime: g.anime,
      total_words: fit.total_words,
      unique_words: fit.unique_words,
      s: pl?.s ?? null,
      s_se: pl ? rankExponentSe(pl) : null,
      alpha: pl?.alpha ?? null,
      rarefied_vocabulary: rarefiedVocabulary(g.table.values(), Math.min(groupMin, 50_000)),
      freq_csv: paths.relative(csvFile),
    })
  }

  const outliers = analyzed
    .filter((a) => a.mle_s !== null && (a.mle_s < OUTLIER_LOW || a.mle_s > OUTLIER_HIGH))
    .map((a) => ({mal_id: a.mal_id, title: a.title, s: a.mle_s!}))

  const groupTable = (kind: 'genre' | 'studio') =>
    `<table><tr><th>${kind}</th><th>anime</th><th>words</th><th>distinct</th><th>distinct at ${Math.min(groupMin, 50_000)} words</th><th>s [95% interval]</th></tr>${summaries
      .filter((s) => s.kind === kind)
      .map(
        (s) =>
          `<tr><td>${escapeHtml(s.name)}</td><td>${s.anime}</td><td>${s.total_words}</td><td>${s.unique_words}</td><td>${fmt(s.rarefied_vocabulary, 0)}</td><td>${interval(s.s, s.s_se)}</td></tr>`,
      )
      .join('')}</table>`
  const animeHeader = `<tr><th>anime</th><th>episodes</th><th>words</th><th>distinct</th><th>distinct at ${commonN} words</th><th>s [95% interval]</th></tr>`
  const reference = corpusReference(globalFit)
  const animeItems: ForestItem[] = analyzed.flatMap((a) =>
    a.mle_s === null
      ? []
      : [
          {
            label: figureName(a),
            s: a.mle_s,
            se: a.mle_alpha !== null && a.mle_alpha_se !== null ? rankExponentSe({alpha: a.mle_alpha, alpha_se: a.mle_alpha_se}) : null,
            words: a.total_words ?? 0,
          },
        ],
  )
  const groupItems = (kind: 'genre' | 'studio'): ForestItem[] =>
    summaries.filter((g) => g.kind === kind && g.s !== null).map((g) => ({label: g.name, s: g.s!, se: g.s_se, words: g.total_words}))
  const forests = {
    anime: await forestSvg(animeItems, reference),
    genre: await forestSvg(groupItems('genre'), reference),
    studio: await forestSvg(groupItems('studio'), reference),
  }
  const lengths = streams
    .filter((g): g is AnimeGrowth => g !== undefined)
    .map((g) => g.total)
    .sort((x, y) => x - y)
  const equalLength = lengths[Math.floor(lengths.length * 0.1)] ?? 0
  const growthSvg = await growthCurvesSvg(
    analyzed.flatMap((a, i) => (streams[i] ? [{title: figureName(a), points: streams[i].points}] : [])),
    equalLength,
  )
  const forestCaption = (what: string) =>
    `Rank exponent s = 1/(α−1) of each ${what}'s discrete power-law fit with its 95% interval, largest first; the dashed red line is the corpus's s.`
  const comparison = page(
    'animezipf: comparison',
    `<h1>Comparison of Zipf exponents</h1>
<p>Rank exponent s = 1/(α−1) of the discrete power-law fit (maximum likelihood, xmin by KS distance), with 95% intervals.
Vocabulary is compared at equal size (expected distinct words in a random sample of the same number of words), since raw counts grow with length.</p>
<div class="figs">
${figureBlock('All anime by rank', normalizedSvg, "Each anime's share of its words at each rank (log–log), the corpus in red: the curves lie on top of each other where the anime share Zipf's law.")}
${figureBlock('Vocabulary growth at equal length', growthSvg, `Distinct words against words said over each anime's first ${equalLength.toLocaleString('en')} words (the length 90% of the anime reach; shorter ones end early).`, 'no anime has a token stream (tokens files missing)')}
</div>
<h2>Anime</h2>${figureBlock('Anime: rank exponents', forests.anime, forestCaption('anime'))}
<table>${animeHeader}${animeRows(analyzed, paths, paths.aggregatedDir, rarefied)}</table>
<h2>Genres</h2>${figureBlock('Genres: rank exponents', forests.genre, forestCaption('genre'), 'no genre has a fit')}${groupTable('genre')}
<h2>Studios</h2>${figureBlock('Studios: rank exponents', forests.studio, forestCaption('studio'), 'no studio has a fit')}${groupTable('studio')}`,
  )
  writeFileAtomic(paths.comparisonHtml, comparison)

  const gpl = globalFit.power_law
  const cov = globalFit.coverage
  const REPORT_FOREST = 60
  const reportAnimeForest = animeItems.length <= REPORT_FOREST ? forests.anime : await forestSvg(extremes(animeItems, REPORT_FOREST), reference)
  const report = page(
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
<h2>Anime</h2><table>${animeHeader}${animeRows(analyzed, paths, paths.reportsDir, rarefied)}</table>`,
    {wide: true},
  )
  writeFileAtomic(paths.finalReport, report)
  return {
    corpus,
    global: globalFit,
    groups: summaries,
    outliers,
    difficulty,
    files: {
      all_anime_freq: paths.allAnimeFreq,
      global_fit: paths.globalFit,
      comparison: paths.comparisonHtml,
      report: paths.finalReport,
      global_plot: globalPlot,
      difficulty: paths.difficultyJson,
    },
  }
}
