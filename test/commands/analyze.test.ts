import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {parse} from 'parse5'

import {openDatabase, runCli, tempDir, writeShowSubtitles} from '../helpers.js'

type Node = {nodeName: string; tagName?: string; value?: string; childNodes?: Node[]; attrs?: {name: string; value: string}[]}

function elements(root: Node, tag: string): Node[] {
  const out: Node[] = []
  const walk = (n: Node) => {
    if (n.tagName === tag) out.push(n)
    for (const c of n.childNodes ?? []) walk(c)
  }
  walk(root)
  return out
}

function textOf(n: Node): string {
  if (n.nodeName === '#text') return n.value ?? ''
  return (n.childNodes ?? []).map(textOf).join('')
}

function html(file: string): Node {
  const text = readFileSync(file, 'utf8')
  expect(text.startsWith('<!DOCTYPE html>')).to.equal(true)
  // no resource from the network: it must open offline
  expect(text).to.not.match(/(src|href)="https?:/)
  return parse(text)
}

const EVIL = '<script>alert("x")</script> & Friends'

describe('analyze (CLI)', function () {
  this.timeout(180_000)
  let data: string
  let malA: number
  let malB: number

  before(() => {
    const work = tempDir()
    data = path.join(work, 'data')
    const a = writeShowSubtitles(path.join(work, 'a'), 3, 11)
    const b = writeShowSubtitles(path.join(work, 'b'), 2, 12)
    const ia = runCli(['import', ...a, '--title', EVIL, '--genre', 'Drama', '--genre', 'Comedy', '--studio', 'Studio Q', '--data-dir', data, '--json'])
    expect(ia.code, ia.stderr).to.equal(0)
    malA = JSON.parse(ia.stdout).anime.mal_id
    const ib = runCli(['import', ...b, '--title', 'Quiet Show', '--genre', 'Drama', '--studio', 'Studio R', '--data-dir', data, '--json'])
    malB = JSON.parse(ib.stdout).anime.mal_id
    expect(runCli(['tokenize', '--workers', '2', '--data-dir', data]).code).to.equal(0)
  })

  it('writes per-anime CSV/JSON/HTML, aggregates by genre and studio, and the report', () => {
    const r = runCli(['analyze', '--data-dir', data, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = JSON.parse(r.stdout)
    expect(out.analyzed).to.equal(2)
    expect(out.global.corpus).to.include({anime: 2, episodes: 5})

    const dir = path.join(data, 'analysis', 'per_anime', String(malA))
    const params = JSON.parse(readFileSync(path.join(dir, 'zipf_params.json'), 'utf8'))
    expect(params).to.include({anime_id: malA, anime_title: EVIL, episodes_analyzed: 3, partial: false})
    expect(params.zipf_fit).to.have.all.keys('rank_slope', 'constant', 'r_squared', 'method', 'rank_range')
    expect(params.power_law).to.include.keys('alpha', 's', 'xmin', 'n_tail', 'alpha_se', 'ks_d', 'lognormal', 'bootstrap')
    expect(params.zipf_mandelbrot).to.have.keys('s', 'b', 's_se', 'b_se', 'log_likelihood', 'converged', 'iterations', 'at_bound')
    // Heaps' law on the token stream (a point every 25 words), not on three per-episode points
    expect(params.heaps).to.have.keys('K', 'beta', 'points', 'source')
    expect(params.heaps.source).to.equal('token stream')
    expect(params.heaps.points).to.be.greaterThan(10)
    expect(params.heaps.beta).to.be.within(0.2, 1)
    expect(existsSync(path.join(dir, 'vocabulary_growth.json.gz'))).to.equal(true)
    const global = JSON.parse(readFileSync(path.join(data, 'analysis', 'aggregated', 'global_zipf.json'), 'utf8'))
    expect(global.heaps.source).to.equal('token stream')
    expect(global.heaps.beta).to.be.within(0.2, 1)
    expect(params.coverage.all.types_for).to.have.keys('80', '90', '95', '98')
    expect(params.top_words[0]).to.have.all.keys('word', 'pos', 'count', 'rank', 'frequency')

    // word_freq.csv: header, most frequent first, totals add up from episodes
    const csv = readFileSync(path.join(dir, 'word_freq.csv'), 'utf8').trim().split('\n')
    expect(csv[0]).to.equal('word,count,pos,reading')
    const counts = csv.slice(1).map((l) => Number(l.split(',')[1]))
    expect(counts).to.deep.equal([...counts].sort((x, y) => y - x))
    const total = counts.reduce((s, c) => s + c, 0)
    expect(total).to.equal(params.total_words)
    const db = openDatabase(path.join(data, 'jobs.db'))
    const words = db.prepare(`SELECT SUM(word_count) AS w FROM jobs WHERE mal_id = ?`).get(malA) as {w: number}
    expect(words.w).to.equal(total)
    const row = db.prepare(`SELECT * FROM analysis_results r JOIN anime a ON a.id = r.anime_id WHERE a.mal_id = ?`).get(malA) as Record<string, unknown>
    expect(row.total_words).to.equal(total)
    expect(row.mle_alpha).to.equal(params.power_law.alpha)
    const stages = db.prepare(`SELECT DISTINCT stage FROM jobs`).all()
    expect(stages).to.deep.equal([{stage: 'complete'}])
    db.close()

    // the plot parses, shows the data, and escapes the title
    const plotText = readFileSync(path.join(dir, 'zipf_plot.html'), 'utf8')
    expect(plotText).to.not.contain('<script>')
    expect(plotText).to.contain('&lt;script&gt;')
    const plot = html(path.join(dir, 'zipf_plot.html'))
    expect(textOf(elements(plot, 'title')[0]!)).to.contain(EVIL)
    // the rank-frequency figure: one point per word (under 500 words), each naming its word on hover
    const figures = elements(plot, 'figure')
    expect(figures.map((f) => f.attrs!.find((a) => a.name === 'data-figure')!.value)).to.deep.equal(['Rank–frequency', 'CCDF', 'Coverage', "Heaps' law"])
    const marks = (figure: Node) => elements(figure, 'path').filter((p) => p.attrs!.some((a) => a.name === 'role' && a.value === 'graphics-symbol'))
    const points = marks(figures[0]!).filter((p) => /: rank \d+, said \d+ times$/.test(textOf(p)))
    expect(points.length).to.equal(params.unique_words)
    expect(textOf(points[0]!)).to.equal(`${params.top_words[0].word}: rank 1, said ${params.top_words[0].count} times`)
    // the three fitted curves, each named with its parameters in the legend
    const legend = textOf(figures[0]!)
    expect(legend).to.contain(`power-law MLE: s = ${params.power_law.s.toFixed(3)}`)
    expect(legend).to.contain(`Zipf–Mandelbrot: s = ${params.zipf_mandelbrot.s.toFixed(3)}`)
    expect(legend).to.contain(`least squares: slope ${params.zipf_fit.rank_slope.toFixed(3)}`)
    expect(marks(figures[0]!).filter((p) => /^(least squares|power-law MLE|Zipf–Mandelbrot)/.test(textOf(p)))).to.have.length(3)

    // groups: Drama holds both shows, Comedy only A
    const agg = path.join(data, 'analysis', 'aggregated')
    const sum = (file: string) =>
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .reduce((s, l) => s + Number(l.split(',')[1]), 0)
    const totalB = JSON.parse(readFileSync(path.join(data, 'analysis', 'per_anime', String(malB), 'zipf_params.json'), 'utf8')).total_words
    expect(sum(path.join(agg, 'by_genre', 'drama_freq.csv'))).to.equal(total + totalB)
    expect(sum(path.join(agg, 'by_genre', 'comedy_freq.csv'))).to.equal(total)
    expect(sum(path.join(agg, 'by_studio', 'studio_q_freq.csv'))).to.equal(total)
    expect(sum(path.join(agg, 'all_anime_freq.csv'))).to.equal(total + totalB)
    expect(JSON.parse(readFileSync(path.join(agg, 'by_genre', 'drama_zipf.json'), 'utf8'))).to.include({kind: 'genre', name: 'Drama', anime: 2})

    const report = html(path.join(data, 'analysis', 'reports', 'final_report.html'))
    const links = elements(report, 'a').map((a) => a.attrs!.find((x) => x.name === 'href')!.value)
    expect(links).to.include(path.join('..', 'per_anime', String(malA), 'zipf_plot.html'))
    expect(textOf(report)).to.contain(EVIL)
    const comparison = html(path.join(agg, 'comparison.html'))
    expect(textOf(comparison)).to.contain('Studio R')
    // the title reaches the figures (forest labels, hover titles) as text, never as markup
    for (const file of [path.join(agg, 'comparison.html'), path.join(data, 'analysis', 'reports', 'final_report.html')]) {
      const text = readFileSync(file, 'utf8')
      expect(text).to.not.contain('<script>')
      expect(text).to.contain('&lt;script&gt;')
    }
    const hovers = elements(comparison, 'title').map(textOf)
    expect(
      hovers.some((t) => t.startsWith(`${EVIL}: s = `)),
      hovers.join(' | '),
    ).to.equal(true)

    // the learners' table: words to know per anime, easiest first, agreeing with the word counts
    const difficulty = JSON.parse(readFileSync(path.join(agg, 'difficulty.json'), 'utf8')) as {
      anime: {mal_id: number; words: number; words_to_know: Record<string, number>}[]
    }
    expect(difficulty.anime.map((d) => d.mal_id).sort()).to.deep.equal([malA, malB].sort())
    expect(difficulty.anime.find((d) => d.mal_id === malB)!.words).to.equal(totalB)
    for (const d of difficulty.anime) {
      expect(d.words_to_know['90']).to.be.at.most(d.words_to_know['95']!)
      expect(d.words_to_know['95']).to.be.at.most(d.words_to_know['98']!)
      expect(d.words_to_know['98']).to.be.at.most(out.global.corpus.unique_words)
    }
    expect(difficulty.anime[0]!.words_to_know['95']).to.be.at.most(difficulty.anime[1]!.words_to_know['95']!)
    expect(textOf(report)).to.contain('Difficulty for learners')
  })

  it('re-running does nothing; a changed anime is the only one recomputed', () => {
    const again = JSON.parse(runCli(['analyze', '--data-dir', data, '--json']).stdout)
    expect(again.anime).to.deep.equal([])
    expect(again.files).to.equal(null)

    expect(runCli(['tokenize', '--force', '--anime-id', String(malB), '--data-dir', data]).code).to.equal(0)
    const dry = JSON.parse(runCli(['analyze', '--dry-run', '--data-dir', data, '--json']).stdout)
    expect(dry.would_analyze.map((a: {mal_id: number}) => a.mal_id)).to.deep.equal([malB])
    const third = JSON.parse(runCli(['analyze', '--data-dir', data, '--json']).stdout)
    expect(third.anime.map((a: {mal_id: number; status: string}) => [a.mal_id, a.status])).to.deep.equal([[malB, 'analyzed']])
  })

  it('after an upgrade that changed the analysis, the anime analyzed before it are analyzed again, once', () => {
    // what an older animezipf left: a signature without this version's prefix
    const db = openDatabase(path.join(data, 'jobs.db'))
    db.prepare(`UPDATE analysis_results SET input_signature = 'f00dfeedf00dfeedf00dfeedf00dfeed' WHERE anime_id = (SELECT id FROM anime WHERE mal_id = ?)`).run(
      malA,
    )
    db.close()
    const dry = runCli(['analyze', '--dry-run', '--data-dir', data])
    expect(dry.stdout).to.contain('1 anime analyzed by an older animezipf would be analyzed again')
    const upgraded = JSON.parse(runCli(['analyze', '--data-dir', data, '--json']).stdout)
    expect(upgraded.anime.map((a: {mal_id: number; status: string}) => [a.mal_id, a.status])).to.deep.equal([[malA, 'analyzed']])
    expect(JSON.parse(runCli(['analyze', '--data-dir', data, '--json']).stdout).anime).to.deep.equal([])
  })

  it('--partial analyzes an anime with episodes still pending and says so', () => {
    const work = tempDir()
    const d = path.join(work, 'data')
    const files = writeShowSubtitles(path.join(work, 'c'), 3, 5)
    runCli(['import', ...files, '--title', 'Partial Show', '--data-dir', d])
    expect(runCli(['tokenize', '--limit', '2', '--workers', '1', '--data-dir', d]).code).to.equal(0)
    const none = JSON.parse(runCli(['analyze', '--data-dir', d, '--json']).stdout)
    expect(none.anime).to.deep.equal([])
    const partial = JSON.parse(runCli(['analyze', '--partial', '--bootstrap', '5', '--data-dir', d, '--json']).stdout)
    expect(partial.anime[0]).to.include({status: 'analyzed', episodes: 2, partial: true})
    const params = JSON.parse(readFileSync(path.join(d, 'analysis', 'per_anime', String(partial.anime[0].mal_id), 'zipf_params.json'), 'utf8'))
    expect(params).to.include({partial: true, episodes_pending: 1})
    expect(params.power_law.bootstrap).to.include({replicates: 5, seed: 1})
  })
})
