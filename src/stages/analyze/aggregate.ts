import {existsSync} from 'node:fs'

import type {DataPaths} from '../../paths.js'
import type {Queue} from '../../queue/index.js'
import type {AnalyzedAnime} from '../../queue/rows.js'
import {writeFileAtomic} from '../../util/atomic.js'
import {type FitOptions, type FitReport, fitFrequencies, rankExponentSe} from './fit.js'
import {readFrequencyCsv} from '../../formats/frequency-csv.js'
import {CountVector, Vocabulary} from './freq-table.js'
import {plotPage} from './anime.js'
import {OUTLIER_HIGH, OUTLIER_LOW, writeCorpusPages} from './aggregate-pages.js'
import {type WordListFigures, wordListFigures, wordListInput} from './figures/anime.js'
import {normalizedCurvesSvg} from './figures/comparison.js'
import {type AnimeGrowth, corpusGrowth, readGrowth} from './growth.js'
import {type HeapsFit, fitHeaps, rarefiedVocabulary} from './rank-fits.js'
import {type AnimeWords, DIFFICULTY_SHARES, type DifficultyShare, corpusRanks, wordsToKnow} from './difficulty.js'
import {animeIdLabel} from '../../queue/anime.js'

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

/** A genre's or studio's words, counted over its anime. */
interface GroupCounts {
  table: CountVector
  anime: number
}

/** Each analyzed anime's words, counted into the corpus's table and into its genres' and studios'. */
interface CorpusCounts {
  analyzed: AnalyzedAnime[]
  membership: {anime_id: number; kind: 'genre' | 'studio'; name: string}[]
  /** The figures key rows and curves by name: two anime of one title get their MyAnimeList id beside it. */
  figureName: (a: AnalyzedAnime) => string
  vocabulary: Vocabulary
  global: CountVector
  /** By `kind\0name`. */
  groups: Map<string, GroupCounts>
  /** Vocabulary is compared at this many words: the shortest anime's, at most 10,000. */
  commonN: number
  rarefied: Map<number, number>
  /** Each anime's words as ids and counts (8-12 bytes a word): the difficulty table needs corpus ranks first. */
  animeWords: Map<number, AnimeWords>
}

/** What the global fit wrote and what the pages draw from it. */
export interface CorpusFit {
  corpus: AggregateResult['corpus']
  globalFit: FitReport
  corpusHeaps: HeapsFit | null
  globalFigures: WordListFigures
  streams: (AnimeGrowth | undefined)[]
  normalizedSvg: string | null
  difficulty: DifficultyRow[]
}

/**
 * Rebuild the corpus-wide outputs from each analyzed anime's word_freq.csv: the global list, one list
 * per genre and studio with its fits, comparison.html and the final report. Memory grows with the
 * number of distinct words (per group), not with the number of episodes.
 */
export async function aggregate(queue: Queue, paths: DataPaths, options: FitOptions): Promise<AggregateResult> {
  const counts = await countCorpus(queue, paths)
  const fit = await writeGlobalFit(paths, counts, options)
  const {summaries, groupMin} = writeGroupFits(paths, counts, options)
  const outliers = counts.analyzed
    .filter((a) => a.mle_s !== null && (a.mle_s < OUTLIER_LOW || a.mle_s > OUTLIER_HIGH))
    .map((a) => ({mal_id: a.mal_id, title: a.title, s: a.mle_s!}))
  await writeCorpusPages({paths, ...counts, ...fit, summaries, groupMin, outliers})
  return {
    corpus: fit.corpus,
    global: fit.globalFit,
    groups: summaries,
    outliers,
    difficulty: fit.difficulty,
    files: {
      all_anime_freq: paths.allAnimeFreq,
      global_fit: paths.globalFit,
      comparison: paths.comparisonHtml,
      report: paths.finalReport,
      global_plot: paths.globalPlot,
      difficulty: paths.difficultyJson,
    },
  }
}

/** Read every analyzed anime's word list (those whose file is there) into the corpus's and its groups' tables. */
async function countCorpus(queue: Queue, paths: DataPaths): Promise<CorpusCounts> {
  const analyzed = (await queue.analysis.analyzedAnime()).filter((a) => existsSync(paths.animeWordFreq(a.mal_id)))
  const membership = await queue.analysis.groupMembership()
  const titleCount = new Map<string, number>()
  for (const a of analyzed) titleCount.set(a.title, (titleCount.get(a.title) ?? 0) + 1)
  const groupsOf = new Map<number, string[]>()
  for (const m of membership) groupsOf.set(m.anime_id, [...(groupsOf.get(m.anime_id) ?? []), `${m.kind}\u0000${m.name}`])
  const vocabulary = new Vocabulary()
  const minWords = Math.max(1, Math.min(...analyzed.map((a) => a.total_words ?? 0).filter((n) => n > 0), Number.MAX_SAFE_INTEGER))
  const counts: CorpusCounts = {
    analyzed,
    membership,
    figureName: (a) => (titleCount.get(a.title)! > 1 ? `${a.title} (${animeIdLabel(a.mal_id)})` : a.title),
    vocabulary,
    global: new CountVector(vocabulary),
    groups: new Map(),
    commonN: Math.min(minWords, 10_000),
    rarefied: new Map(),
    animeWords: new Map(),
  }
  for (const a of analyzed) await countAnime(paths, a, groupsOf.get(a.anime_id) ?? [], counts)
  return counts
}

/** One anime's word list, kept as ids and counts and added to the corpus's table and to each of its groups'. */
async function countAnime(paths: DataPaths, a: AnalyzedAnime, groupKeys: readonly string[], into: CorpusCounts): Promise<void> {
  const ids: number[] = []
  const counts: number[] = []
  await readFrequencyCsv(paths.animeWordFreq(a.mal_id), (word, pos, reading, count) => {
    ids.push(into.vocabulary.id(word, pos, reading))
    counts.push(count)
  })
  into.animeWords.set(a.anime_id, {ids: Int32Array.from(ids), counts: Float64Array.from(counts), total: counts.reduce((x, c) => x + c, 0)})
  into.rarefied.set(a.anime_id, rarefiedVocabulary(counts, into.commonN))
  const targets = [into.global]
  for (const key of groupKeys) {
    let g = into.groups.get(key)
    if (!g) into.groups.set(key, (g = {table: new CountVector(into.vocabulary), anime: 0}))
    g.anime++
    targets.push(g.table)
  }
  for (const t of targets) for (let i = 0; i < ids.length; i++) t.add(ids[i]!, counts[i]!)
}

/** The corpus's word list, its fit, the difficulty table and the global plot; the anime's word lists are let go after. */
async function writeGlobalFit(paths: DataPaths, counts: CorpusCounts, options: FitOptions): Promise<CorpusFit> {
  const {analyzed, global, animeWords} = counts
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
    analyzed.map((a) => ({title: counts.figureName(a), counts: animeWords.get(a.anime_id)!.counts})),
    globalRows.map((r) => r.count),
  )
  const difficulty = writeDifficulty(paths, counts)
  const globalFigures = await wordListFigures(wordListInput(globalFit, globalRows, corpusPoints, corpusHeaps))
  writeFileAtomic(paths.globalPlot, plotPage('All anime', `${corpus.anime} anime, ${corpus.episodes} episodes`, globalFit, corpusHeaps, globalFigures))
  return {corpus, globalFit, corpusHeaps, globalFigures, streams, normalizedSvg, difficulty}
}

/** How many of the corpus's most frequent words each anime needs, to difficulty.json; the anime's word lists are let go. */
function writeDifficulty(paths: DataPaths, counts: CorpusCounts): DifficultyRow[] {
  const {analyzed, animeWords} = counts
  const ranks = corpusRanks(counts.global)
  const difficulty: DifficultyRow[] = analyzed
    .map((a) => ({mal_id: a.mal_id, title: a.title, words: animeWords.get(a.anime_id)!.total, words_to_know: wordsToKnow(animeWords.get(a.anime_id)!, ranks)}))
    .sort(byDifficulty)
  animeWords.clear()
  writeFileAtomic(paths.difficultyJson, `${JSON.stringify({shares: DIFFICULTY_SHARES, anime: difficulty}, null, 2)}\n`)
  return difficulty
}

/** One word list and fit per genre and studio (no bootstrap), and their summaries for the pages. */
function writeGroupFits(paths: DataPaths, counts: CorpusCounts, options: FitOptions): {summaries: GroupSummary[]; groupMin: number} {
  const {groups, membership} = counts
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
  return {summaries, groupMin}
}
