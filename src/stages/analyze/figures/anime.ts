import type {WordCount} from '../../../formats/frequency-csv.js'
import {type FitReport, PARTICLE} from '../fit.js'
import {powerLawRankPoints} from '../powerlaw.js'
import {type GrowthPoint, thin} from '../growth.js'
import type {HeapsFit} from '../rank-fits.js'
import {hurwitzZeta} from '../zeta.js'
import {fmt} from '../html.js'
import {CONFIG, HEIGHT, WIDTH, logAxis, logScale, logSpaced} from './axes.js'
import {Figure, type Rows} from './figure.js'

/** The figures of one word list (an anime, or the corpus): what each needs is computed here, drawn by Vega. */

type WordRow = Pick<WordCount, 'word' | 'pos' | 'count'>

/** Legends show fixed series keys (fixed colours) named with their fitted parameters through a `labels` signal. */
const LEGEND_LABEL = 'labels[datum.label] || datum.label'

const FIT_COLORS = {domain: ['least squares', 'power-law MLE', 'Zipf–Mandelbrot'], range: ['#7f7f7f', '#d62728', '#2ca02c']}

const rankFrequency = new Figure('rank-frequency', {
  params: [{name: 'labels', value: {}}],
  width: WIDTH,
  height: HEIGHT,
  config: CONFIG,
  layer: [
    {
      data: {name: 'curves'},
      mark: {type: 'line', strokeWidth: 2, clip: true},
      encoding: {
        x: {field: 'rank', type: 'quantitative', scale: logScale(), axis: logAxis('rank', 'x')},
        y: {field: 'count', type: 'quantitative', scale: logScale(), axis: logAxis('count', 'y')},
        // the legend names each fit with its parameters (a signal set per anime)
        color: {field: 'fit', type: 'nominal', scale: FIT_COLORS, legend: {labelExpr: LEGEND_LABEL}},
        description: {field: 'label'},
      },
    },
    {
      data: {name: 'points'},
      mark: {type: 'circle', size: 16, opacity: 0.55, color: '#1f77b4'},
      encoding: {
        x: {field: 'rank', type: 'quantitative'},
        y: {field: 'count', type: 'quantitative'},
        description: {field: 'hover'},
      },
    },
  ],
})

const ccdf = new Figure('ccdf', {
  width: WIDTH,
  height: HEIGHT,
  config: CONFIG,
  layer: [
    {
      data: {name: 'points'},
      mark: {type: 'circle', size: 16, opacity: 0.6, color: '#1f77b4'},
      encoding: {
        x: {field: 'count', type: 'quantitative', scale: logScale(), axis: logAxis('count x (times a word is said)', 'x')},
        y: {field: 'p', type: 'quantitative', scale: logScale(), axis: logAxis('P(X ≥ x): share of distinct words said x times or more', 'y')},
        description: {field: 'hover'},
      },
    },
    {
      data: {name: 'fit'},
      mark: {type: 'line', strokeWidth: 2, color: '#d62728', clip: true},
      encoding: {
        x: {field: 'count', type: 'quantitative'},
        y: {field: 'p', type: 'quantitative'},
        color: {field: 'label', type: 'nominal', scale: {range: ['#d62728']}},
        description: {field: 'label'},
      },
    },
    {
      data: {name: 'xmin'},
      mark: {type: 'rule', strokeDash: [4, 4], color: '#555'},
      encoding: {x: {field: 'count', type: 'quantitative'}, description: {field: 'label'}},
    },
    {
      data: {name: 'xmin'},
      mark: {type: 'text', align: 'left', dx: 4, baseline: 'bottom', y: HEIGHT - 4, color: '#555'},
      encoding: {x: {field: 'count', type: 'quantitative'}, text: {field: 'label'}},
    },
  ],
})

const coverageCurve = new Figure('coverage', {
  width: WIDTH,
  height: HEIGHT,
  config: CONFIG,
  layer: [
    {
      data: {name: 'curves'},
      mark: {type: 'line', strokeWidth: 2},
      encoding: {
        x: {field: 'k', type: 'quantitative', scale: logScale(), axis: logAxis('top-k most frequent words', 'x')},
        y: {
          field: 'share',
          type: 'quantitative',
          scale: {domain: [0, 1]},
          axis: {title: 'share of all words covered', format: '.0%', grid: true, gridOpacity: 0.5},
        },
        color: {field: 'series', type: 'nominal', scale: {domain: ['all words', 'without particles'], range: ['#1f77b4', '#ff7f0e']}},
        description: {field: 'series'},
      },
    },
    {
      data: {name: 'curves'},
      mark: {type: 'circle', size: 14},
      encoding: {
        x: {field: 'k', type: 'quantitative'},
        y: {field: 'share', type: 'quantitative'},
        color: {field: 'series', type: 'nominal'},
        description: {field: 'hover'},
      },
    },
    {
      data: {values: [{level: 0.9}, {level: 0.95}, {level: 0.98}]},
      mark: {type: 'rule', strokeDash: [2, 3], color: '#999'},
      encoding: {y: {field: 'level', type: 'quantitative'}},
    },
  ],
})

const HEAPS_COLORS = {domain: ['observed', 'fit'], range: ['#1f77b4', '#d62728']}

const heapsCurve = new Figure('heaps', {
  params: [{name: 'labels', value: {}}],
  width: WIDTH,
  height: HEIGHT,
  config: CONFIG,
  layer: [
    {
      data: {name: 'growth'},
      mark: {type: 'circle', size: 14, opacity: 0.6},
      encoding: {
        x: {field: 'tokens', type: 'quantitative', scale: logScale(), axis: logAxis('words said so far (N)', 'x')},
        y: {field: 'types', type: 'quantitative', scale: logScale(), axis: logAxis('distinct words so far (V)', 'y')},
        color: {field: 'series', type: 'nominal', scale: HEAPS_COLORS, legend: {labelExpr: LEGEND_LABEL}},
        description: {field: 'hover'},
      },
    },
    {
      data: {name: 'fit'},
      mark: {type: 'line', strokeWidth: 2},
      encoding: {
        x: {field: 'tokens', type: 'quantitative'},
        y: {field: 'types', type: 'quantitative'},
        color: {field: 'series', type: 'nominal'},
        description: {field: 'label'},
      },
    },
  ],
})

/** The ranks (0-based) a plot shows: every one of the first 120, log-spaced ones after, at most `max`. */
export function sampleRanks(n: number, max = 500): number[] {
  if (n <= max) return Array.from({length: n}, (_, i) => i)
  const keep = new Set<number>()
  for (let i = 0; i < 120; i++) keep.add(i)
  const steps = max - keep.size
  for (let k = 0; k <= steps; k++) keep.add(Math.min(n - 1, Math.round(Math.exp((Math.log(n) * k) / steps)) - 1))
  return [...keep].sort((a, b) => a - b)
}

/** The three fitted rank-frequency curves at log-spaced ranks, kept within the points' range of counts. */
export function fittedCurves(fit: FitReport, maxRank: number, maxCount: number): {rows: Rows; labels: Record<string, string>} {
  const rows: Record<string, unknown>[] = []
  const labels: Record<string, string> = {}
  const add = (key: string, label: string, points: Iterable<{rank: number; count: number}>) => {
    labels[key] = label
    for (const {rank, count} of points) if (Number.isFinite(count) && count >= 0.5 && count <= maxCount * 3) rows.push({fit: key, label, rank, count})
  }
  const ranks = logSpaced(maxRank, 90)
  const ls = fit.zipf_fit
  if (ls)
    add(
      'least squares',
      `least squares: slope ${fmt(ls.rank_slope)}`,
      ranks.map((rank) => ({rank, count: ls.constant * rank ** -ls.rank_slope})),
    )
  const pl = fit.power_law
  if (pl) add('power-law MLE', `power-law MLE: s = ${fmt(pl.s)}, α = ${fmt(pl.alpha)} (xmin ${pl.xmin})`, powerLawRankPoints(pl, maxCount))
  const zm = fit.zipf_mandelbrot
  if (zm) {
    let z = 0
    for (let k = 1; k <= fit.unique_words; k++) z += (k + zm.b) ** -zm.s
    add(
      'Zipf–Mandelbrot',
      `Zipf–Mandelbrot: s = ${fmt(zm.s)}, b = ${fmt(zm.b, 2)}`,
      ranks.map((rank) => ({rank, count: (fit.total_words * (rank + zm.b) ** -zm.s) / z})),
    )
  }
  return {rows, labels}
}

/** The empirical CCDF of the counts at each distinct count, and the fitted power law's from xmin on. */
export function ccdfData(fit: FitReport, counts: ArrayLike<number>): {points: Rows; fit: Rows; xmin: Rows} {
  // counts come most frequent first: the last rank with count c has i + 1 words said c times or more
  const n = counts.length
  const all: {count: number; p: number; words: number}[] = []
  for (let i = n - 1; i >= 0; i--) {
    const c = counts[i]!
    if (c > 0 && (i === n - 1 || counts[i + 1] !== c)) all.push({count: c, p: (i + 1) / n, words: i + 1})
  }
  // every count up to 100, log-spaced ones above: the points stay readable and the file small
  const points = all
    .filter((pt, i) => pt.count <= 100 || i === all.length - 1 || Math.floor(40 * Math.log10(pt.count)) !== Math.floor(40 * Math.log10(all[i + 1]!.count)))
    .map((pt) => ({...pt, hover: `x = ${pt.count}: ${pt.words} words (${(100 * pt.p).toPrecision(3)}%) said ${pt.count} times or more`}))
  const pl = fit.power_law
  if (!pl || n === 0) return {points, fit: [], xmin: []}
  const z0 = hurwitzZeta(pl.alpha, pl.xmin)
  const tailShare = pl.n_tail / n
  const top = counts[0]!
  const fitted: Record<string, unknown>[] = []
  const label = `power law: α = ${fmt(pl.alpha)} ± ${fmt(pl.alpha_se)}, xmin = ${pl.xmin}`
  for (let k = 0; k <= 80; k++) {
    const x = pl.xmin * (top / pl.xmin) ** (k / 80)
    const p = (tailShare * hurwitzZeta(pl.alpha, x)) / z0
    if (Number.isFinite(p) && p > 0) fitted.push({count: x, p, label})
  }
  return {points, fit: fitted, xmin: [{count: pl.xmin, label: `xmin = ${pl.xmin}`}]}
}

/** Share of the words covered by the top-k words, at log-spaced k, for all words and without particles. */
export function coverageData(all: ArrayLike<number>, withoutParticles: ArrayLike<number>): Rows {
  const out: Record<string, unknown>[] = []
  const series: [string, ArrayLike<number>][] = [
    ['all words', all],
    ['without particles', withoutParticles],
  ]
  for (const [name, counts] of series) {
    let total = 0
    for (let i = 0; i < counts.length; i++) total += counts[i]!
    if (total === 0) continue
    const wanted = new Set(logSpaced(counts.length, 40))
    let cum = 0
    for (let i = 0; i < counts.length; i++) {
      cum += counts[i]!
      if (wanted.has(i + 1))
        out.push({series: name, k: i + 1, share: cum / total, hover: `${name}: the top ${i + 1} cover ${((100 * cum) / total).toFixed(1)}%`})
    }
  }
  return out
}

export function heapsData(points: readonly GrowthPoint[], heaps: HeapsFit | null): {growth: Rows; fit: Rows; labels: Record<string, string>} {
  const labels: Record<string, string> = {observed: heaps?.source === 'episodes' ? 'observed after each episode' : 'observed on the token stream'}
  const growth = thin(
    points.filter((p) => p.tokens > 0 && p.types > 0),
    120,
  ).map((p) => ({series: 'observed', tokens: p.tokens, types: p.types, hover: `after ${p.tokens} words: ${p.types} distinct`}))
  if (!heaps || growth.length < 2) return {growth, fit: [], labels}
  const label = (labels.fit = `Heaps' law V = K·N^β: K = ${fmt(heaps.K, 2)}, β = ${fmt(heaps.beta)}`)
  const first = growth[0]!.tokens
  const last = growth.at(-1)!.tokens
  const fit = Array.from({length: 40}, (_, k) => {
    const tokens = first * (last / first) ** (k / 39)
    return {series: 'fit', label, tokens, types: heaps.K * tokens ** heaps.beta}
  })
  return {growth, fit, labels}
}

export interface WordListFigures {
  rankFrequency: string | null
  ccdf: string | null
  coverage: string | null
  heaps: string | null
}

/** Every figure of one word list (most frequent first), as SVG; null where there is nothing to draw. */
/**
 * What the figures of one word list need, made small enough to hand to the figure thread: the points
 * drawn (a sample of the ranks), every count (CCDF, coverage) and the fits.
 */
export interface WordListInput {
  fit: FitReport
  points: {rank: number; count: number; word: string}[]
  counts: Float64Array
  withoutParticles: Float64Array
  growth: GrowthPoint[]
  heaps: HeapsFit | null
}

export function wordListInput(fit: FitReport, rows: readonly WordRow[], growth: readonly GrowthPoint[], heaps: HeapsFit | null): WordListInput {
  const counts = new Float64Array(rows.length)
  const withoutParticles = new Float64Array(rows.length)
  let kept = 0
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    counts[i] = r.count
    if (r.pos !== PARTICLE) withoutParticles[kept++] = r.count
  }
  return {
    fit,
    points: sampleRanks(rows.length).map((i) => ({rank: i + 1, count: rows[i]!.count, word: rows[i]!.word})),
    counts,
    withoutParticles: withoutParticles.subarray(0, kept),
    growth: [...growth],
    heaps,
  }
}

export async function wordListFigures(input: WordListInput): Promise<WordListFigures> {
  const {fit, counts, growth, heaps} = input
  if (counts.length === 0) return {rankFrequency: null, ccdf: null, coverage: null, heaps: null}
  const points = input.points.map((p) => ({...p, hover: `${p.word}: rank ${p.rank}, said ${p.count} times`}))
  const c = ccdfData(fit, counts)
  const h = heapsData(growth, heaps)
  const curves = fittedCurves(fit, counts.length, counts[0]!)
  return {
    rankFrequency: await rankFrequency.svg({points, curves: curves.rows}, {labels: curves.labels}),
    ccdf: await ccdf.svg(c),
    coverage: await coverageCurve.svg({curves: coverageData(counts, input.withoutParticles)}),
    heaps: h.growth.length >= 2 ? await heapsCurve.svg({growth: h.growth, fit: h.fit}, {labels: h.labels}) : null,
  }
}
