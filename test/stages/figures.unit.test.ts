import {expect} from 'chai'

import type {FitReport} from '../../src/stages/analyze/fit.js'
import {ccdfData, coverageData, fittedCurves, heapsData, sampleRanks} from '../../src/stages/analyze/figures/anime.js'
import {forestSvg} from '../../src/stages/analyze/figures/comparison.js'
import {FigureThread} from '../../src/stages/analyze/figures/figure-thread.js'
import {useRenderer} from '../../src/stages/analyze/figures/figure.js'
import {hurwitzZeta} from '../../src/stages/analyze/zeta.js'

type Row = Record<string, number | string>

const fitWith = (power_law: Partial<NonNullable<FitReport['power_law']>> | null): FitReport =>
  ({total_words: 0, unique_words: 0, zipf_fit: null, zipf_mandelbrot: null, power_law}) as unknown as FitReport

describe('figure data', () => {
  it('the CCDF: the share of words said at least x times, at every distinct count', () => {
    // counts most frequent first: 10, 4, 4, 2, 1, 1, 1, 1
    const counts = [10, 4, 4, 2, 1, 1, 1, 1]
    const {points, fit, xmin} = ccdfData(fitWith({alpha: 2.5, alpha_se: 0.1, xmin: 2, n_tail: 4}), counts)
    expect((points as Row[]).map((p) => [p.count, p.words, p.p])).to.deep.equal([
      [1, 8, 1],
      [2, 4, 0.5],
      [4, 3, 0.375],
      [10, 1, 0.125],
    ])
    // the fitted tail starts at xmin with the tail's share of the words and falls as ζ(α, x)/ζ(α, xmin)
    const first = (fit as Row[])[0]!
    expect(first.count).to.equal(2)
    expect(first.p).to.be.closeTo(4 / 8, 1e-12)
    const last = (fit as Row[]).at(-1)!
    expect(last.count).to.be.closeTo(10, 1e-9)
    expect(last.p).to.be.closeTo((0.5 * hurwitzZeta(2.5, 10)) / hurwitzZeta(2.5, 2), 1e-9)
    expect(xmin).to.deep.equal([{count: 2, label: 'xmin = 2'}])
  })

  it('coverage climbs to 100% at the last word, separately without particles', () => {
    const rows = coverageData([6, 3, 1], [3, 1]) as Row[]
    const all = rows.filter((r) => r.series === 'all words')
    expect(all.map((r) => [r.k, r.share])).to.deep.equal([
      [1, 0.6],
      [2, 0.9],
      [3, 1],
    ])
    expect(rows.filter((r) => r.series === 'without particles').map((r) => [r.k, r.share])).to.deep.equal([
      [1, 0.75],
      [2, 1],
    ])
  })

  it('the fitted curves stay within the plotted counts and name their parameters', () => {
    const fit = {
      ...fitWith({alpha: 2, s: 1, alpha_se: 0.01, xmin: 3, n_tail: 1000}),
      zipf_fit: {rank_slope: 1, constant: 500, r_squared: 0.99, method: 'log-log linear regression', rank_range: [1, 5000]},
    } as unknown as FitReport
    const {rows, labels} = fittedCurves(fit, 5000, 500)
    expect(Object.keys(labels)).to.deep.equal(['least squares', 'power-law MLE'])
    expect(labels['power-law MLE']).to.equal('power-law MLE: s = 1.000, α = 2.000 (xmin 3)')
    for (const r of rows as Row[]) expect(r.count).to.be.within(0.5, 1500)
    const ls = (rows as Row[]).filter((r) => r.fit === 'least squares')
    for (const r of ls) expect(r.count).to.be.closeTo(500 / (r.rank as number), 1e-9)
    // the power law's curve starts at the tail's last rank with xmin
    expect((rows as Row[]).find((r) => r.fit === 'power-law MLE')).to.include({rank: 1000, count: 3})
  })

  it("Heaps' points and fit, and the ranks a rank plot keeps", () => {
    const growth = Array.from({length: 10}, (_, i) => ({tokens: (i + 1) * 100, types: Math.round(10 * ((i + 1) * 100) ** 0.5)}))
    const h = heapsData(growth, {K: 10, beta: 0.5, points: 10, source: 'token stream'})
    expect(h.growth).to.have.length(10)
    for (const f of h.fit as Row[]) expect(f.types).to.be.closeTo(10 * (f.tokens as number) ** 0.5, 1e-6)
    expect(h.labels).to.deep.equal({observed: 'observed on the token stream', fit: "Heaps' law V = K·N^β: K = 10.00, β = 0.500"})
    const kept = sampleRanks(10_000)
    expect(kept.length).to.be.at.most(500)
    expect(kept.slice(0, 120)).to.deep.equal(Array.from({length: 120}, (_, i) => i))
    expect(kept.at(-1)).to.equal(9999)
    expect(sampleRanks(7)).to.deep.equal([0, 1, 2, 3, 4, 5, 6])
  })
})

describe('the figure thread', function () {
  this.timeout(60_000)

  afterEach(() => useRenderer(undefined))

  it('draws in its thread, answers a bad request with an error, and starts again after the thread died', async () => {
    const thread = new FigureThread()
    useRenderer(thread)
    const items = [
      {label: 'Show A', s: 1.1, se: 0.05, words: 1000},
      {label: 'Show <B> & "C"', s: 0.9, se: null, words: 500},
    ]
    try {
      const svg = (await forestSvg(items, {s: 1, label: 'all anime: s = 1.000'}))!
      expect(svg).to.match(/^<svg/)
      expect(svg).to.contain('<title>Show A: s = 1.100, 95% interval 1.002 to 1.198, 1000 words</title>')
      expect(svg).to.contain('Show &lt;B&gt; &amp; &quot;C&quot;: s = 0.900, no standard error')
      let refused: unknown
      await thread.render('no such figure', {}, {}).catch((e: unknown) => (refused = e))
      expect(String(refused)).to.contain('no figure named no such figure')
      // the thread dies (out of memory, a crash): what it held fails, the next figure starts a new one
      const channel = (thread as unknown as {channel: {terminate(): Promise<number>}}).channel
      await channel.terminate()
      const again = await forestSvg(items, null)
      expect(again).to.contain('<title>Show A: s = 1.100')
    } finally {
      await thread.close()
    }
  })
})
