import type {GrowthPoint} from '../growth.js'
import {CONFIG, HEIGHT, WIDTH, logAxis, logScale, logSpaced} from './axes.js'
import {Figure, type Rows} from './figure.js'

/** The figures that compare anime, genres and studios with each other and with the corpus. */

export interface ForestItem {
  label: string
  s: number
  se: number | null
  /** words counted, told on hover */
  words: number
}

const forest = new Figure('forest', {
  width: WIDTH,
  height: {step: 16},
  config: {...CONFIG, axisY: {labelLimit: 260, labelFontSize: 11}},
  layer: [
    {
      data: {name: 'items'},
      mark: {type: 'rule', strokeWidth: 1.5, color: '#1f77b4'},
      encoding: {
        y: {field: 'label', type: 'nominal', sort: {field: 's', order: 'descending'}, axis: {title: null}},
        x: {field: 'lo', type: 'quantitative', scale: {zero: false}, axis: {title: 'rank exponent s with its 95% interval', grid: true, gridOpacity: 0.5}},
        x2: {field: 'hi'},
      },
    },
    {
      data: {name: 'items'},
      mark: {type: 'point', filled: true, size: 36, color: '#1f77b4'},
      encoding: {
        y: {field: 'label', type: 'nominal', sort: {field: 's', order: 'descending'}},
        x: {field: 's', type: 'quantitative'},
        description: {field: 'hover'},
      },
    },
    {
      data: {name: 'reference'},
      mark: {type: 'rule', strokeDash: [5, 4], color: '#d62728', strokeWidth: 1.5},
      encoding: {x: {field: 's', type: 'quantitative'}, description: {field: 'label'}},
    },
    {
      data: {name: 'reference'},
      mark: {type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'bottom', color: '#d62728', y: 0},
      encoding: {x: {field: 's', type: 'quantitative'}, text: {field: 'label'}},
    },
  ],
})

const normalized = new Figure('normalized-rank-frequency', {
  width: WIDTH,
  height: HEIGHT + 60,
  config: CONFIG,
  layer: [
    {
      data: {name: 'curves'},
      mark: {type: 'line', strokeWidth: 1, opacity: 0.35, color: '#1f77b4'},
      encoding: {
        x: {field: 'rank', type: 'quantitative', scale: logScale(), axis: logAxis('rank', 'x')},
        y: {field: 'share', type: 'quantitative', scale: logScale(), axis: logAxis('share of the anime’s words', 'y')},
        detail: {field: 'title'},
        description: {field: 'title'},
      },
    },
    {
      data: {name: 'corpus'},
      mark: {type: 'line', strokeWidth: 2.5, color: '#d62728'},
      encoding: {
        x: {field: 'rank', type: 'quantitative'},
        y: {field: 'share', type: 'quantitative'},
        color: {field: 'series', type: 'nominal', scale: {range: ['#d62728']}},
        description: {field: 'series'},
      },
    },
  ],
})

const growthCurves = new Figure('vocabulary-growth', {
  width: WIDTH,
  height: HEIGHT + 60,
  config: CONFIG,
  layer: [
    {
      data: {name: 'curves'},
      mark: {type: 'line', strokeWidth: 1, opacity: 0.45, color: '#1f77b4'},
      encoding: {
        x: {field: 'tokens', type: 'quantitative', axis: {title: 'words said (N)', grid: true, gridOpacity: 0.5, format: ',d'}},
        y: {field: 'types', type: 'quantitative', axis: {title: 'distinct words (V)', grid: true, gridOpacity: 0.5, format: ',d'}},
        detail: {field: 'title'},
        description: {field: 'title'},
      },
    },
  ],
})

/** A forest plot of rank exponents, largest first, with a dashed reference line (the corpus's s). */
export async function forestSvg(items: readonly ForestItem[], reference: {s: number; label: string} | null): Promise<string | null> {
  if (items.length === 0) return null
  const rows = items.map((i) => {
    const half = i.se === null ? 0 : 1.96 * i.se
    const interval = i.se === null ? 'no standard error' : `95% interval ${(i.s - half).toFixed(3)} to ${(i.s + half).toFixed(3)}`
    return {label: i.label, s: i.s, lo: i.s - half, hi: i.s + half, hover: `${i.label}: s = ${i.s.toFixed(3)}, ${interval}, ${i.words} words`}
  })
  return forest.svg({items: rows, reference: reference ? [reference] : []})
}

/** Each anime's frequency share by rank (log-spaced ranks), and the corpus's in red. */
export async function normalizedCurvesSvg(anime: readonly {title: string; counts: ArrayLike<number>}[], corpus: ArrayLike<number>): Promise<string | null> {
  if (anime.length === 0 || corpus.length === 0) return null
  // a few hundred anime make a readable bundle; more only thicken it, so every anime gets fewer points
  const perCurve = anime.length > 500 ? 24 : anime.length > 100 ? 40 : 60
  const curve = (counts: ArrayLike<number>, n: number) => {
    let total = 0
    for (let i = 0; i < counts.length; i++) total += counts[i]!
    return logSpaced(counts.length, n).map((rank) => ({rank, share: counts[rank - 1]! / total}))
  }
  const curves: Rows = anime.flatMap((a) => (a.counts.length === 0 ? [] : curve(a.counts, perCurve).map((p) => ({title: a.title, ...p}))))
  return normalized.svg({curves, corpus: curve(corpus, 90).map((p) => ({series: 'all anime together', ...p}))})
}

/** Each anime's vocabulary growth over the first `length` words, so every curve covers the same span. */
export async function growthCurvesSvg(anime: readonly {title: string; points: readonly GrowthPoint[]}[], length: number): Promise<string | null> {
  const curves: Record<string, unknown>[] = []
  for (const a of anime) {
    const pts = a.points.filter((p) => p.tokens <= length)
    if (pts.length < 2) continue
    const step = Math.max(1, Math.ceil(pts.length / (anime.length > 500 ? 20 : 60)))
    pts.forEach((p, i) => {
      if (i % step === 0 || i === pts.length - 1) curves.push({title: a.title, tokens: p.tokens, types: p.types})
    })
  }
  return curves.length === 0 ? null : growthCurves.svg({curves})
}
