import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {DataPaths} from '../../src/paths.js'
import {openDatabase} from '../../src/queue/sqlite/open.js'
import {readFrequencyCsv} from '../../src/formats/frequency-csv.js'
import {fitFrequencies} from '../../src/stages/analyze/fit.js'
import {wordListFigures, wordListInput} from '../../src/stages/analyze/figures/anime.js'
import {type GrowthPoint, readGrowth} from '../../src/stages/analyze/growth.js'
import {seededRandom} from '../../src/stages/analyze/optimize.js'
import {fitHeaps, zipfMandelbrotSampler} from '../../src/stages/analyze/rank-fits.js'
import type {WordCount} from '../../src/stages/tokenize/frequency.js'
import type {BenchResult} from './measure.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Synthetic tokenized anime: per-episode frequency CSVs drawn from a Zipf vocabulary, jobs in 'tokenized'. */
export function buildCorpus(paths: DataPaths, anime: number, episodes: number, tokensPerEpisode: number): {rows: number; bytes: number} {
  const V = 60_000
  const words = Array.from({length: V}, (_, i) => `語${i.toString(36)}`)
  const pos = ['名詞', '助詞', '動詞', '助動詞', '形容詞', '副詞']
  const draw = zipfMandelbrotSampler(1.08, 1.7, V, seededRandom(7))
  const db = openDatabase(paths.jobsDb)
  let rows = 0
  let bytes = 0
  db.transaction(() => {
    const insAnime = db.prepare(`INSERT INTO anime (mal_id, title, genres, studios) VALUES (?, ?, ?, ?) RETURNING id`)
    const insJob = db.prepare(
      `INSERT INTO jobs (anime_id, mal_id, anime_title, episode, stage, tokens_path, word_count, token_count) VALUES (?, ?, ?, ?, 'tokenized', ?, ?, ?)`,
    )
    for (let a = 0; a < anime; a++) {
      const malId = 100_000 + a
      const {id} = insAnime.get(malId, `Synthetic ${a}`, JSON.stringify([`Genre ${a % 20}`]), JSON.stringify([`Studio ${a % 60}`])) as {id: number}
      for (let e = 1; e <= episodes; e++) {
        const counts = new Map<number, number>()
        for (let t = 0; t < tokensPerEpisode; t++) {
          const r = draw()
          counts.set(r, (counts.get(r) ?? 0) + 1)
        }
        const sorted = [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])
        const csv = `word,count,pos,reading\n${sorted.map(([w, c]) => `${words[w]},${c},${pos[w % pos.length]},*`).join('\n')}\n`
        const file = paths.freqCsv(malId, e)
        mkdirSync(path.dirname(file), {recursive: true})
        writeFileSync(file, csv)
        rows += sorted.length
        bytes += csv.length
        insJob.run(id, malId, `Synthetic ${a}`, e, paths.relative(paths.tokensFile(malId, e, true)), tokensPerEpisode, tokensPerEpisode)
      }
    }
  }).immediate()
  db.close()
  return {rows, bytes}
}

/** Draw the figures of up to 100 analyzed anime again in this process (after one to warm up Vega). */
async function figureCost(paths: DataPaths, analyzed: number): Promise<{ms: number; pageKb: number}> {
  const ids = Array.from({length: Math.min(100, analyzed)}, (_, i) => 100_000 + i)
  const inputs = await Promise.all(
    ids.map(async (malId) => {
      const rows: WordCount[] = []
      await readFrequencyCsv(paths.animeWordFreq(malId), (word, pos, reading, count) => void rows.push({word, pos, reading, count}))
      // the token stream's growth where tokens files exist, else the per-episode points analyze used
      const growth =
        readGrowth(paths.vocabularyGrowth(malId))?.points ??
        (JSON.parse(readFileSync(paths.statistics(malId), 'utf8')) as {vocabulary_growth: GrowthPoint[]}).vocabulary_growth
      const fit = fitFrequencies(rows, {bootstrap: 0, seed: 1, minCount: 1})
      return {rows, growth, fit, heaps: fitHeaps(growth) ?? null}
    }),
  )
  await wordListFigures(wordListInput(inputs[0]!.fit, inputs[0]!.rows, inputs[0]!.growth, inputs[0]!.heaps))
  const t = process.hrtime.bigint()
  for (const i of inputs) await wordListFigures(wordListInput(i.fit, i.rows, i.growth, i.heaps))
  const ms = Number(process.hrtime.bigint() - t) / 1e6 / inputs.length
  const pageKb = ids.reduce((a, id) => a + statSync(paths.zipfPlot(id)).size, 0) / ids.length / 1024
  return {ms, pageKb}
}

export async function benchAnalyze(): Promise<BenchResult[]> {
  const anime = Number(process.env.BENCH_ANIME ?? 2000)
  const work = mkdtempSync(path.join(tmpdir(), 'animezipf-bench-analyze-'))
  const results: BenchResult[] = []
  try {
    const paths = new DataPaths(path.join(work, 'data'))
    const t0 = process.hrtime.bigint()
    const built = buildCorpus(paths, anime, 12, 6500)
    results.push({name: `corpus: ${anime} anime x 12 episodes, distinct words per episode (mean)`, value: built.rows / (anime * 12), unit: 'words'})
    results.push({name: 'corpus: build time (not part of the stage)', value: Number(process.hrtime.bigint() - t0) / 1e9, unit: 's'})
    const t1 = process.hrtime.bigint()
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(root, 'bin', 'run.js'), 'analyze', '--data-dir', paths.root, '--json'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      env: {...process.env, NO_COLOR: '1'},
    })
    const wall = Number(process.hrtime.bigint() - t1) / 1e9
    if (r.status !== 0) throw new Error(`analyze failed: ${r.stderr.slice(-2000)}`)
    const peakMb = Number(r.stderr.trim().split('\n').at(-1)) / 1024
    // the log line of the aggregation and the last per-anime line give its share of the wall time
    const stamps = r.stderr.split('\n').filter((l) => /^\d{4}-/.test(l))
    const lastAnime = stamps.filter((l) => l.includes(' analyzer ')).at(-1)
    const aggLine = stamps.find((l) => l.includes(' aggregated '))
    const ts = (l: string | undefined) => (l ? Date.parse(l.slice(0, 20)) : Number.NaN)
    const out = JSON.parse(r.stdout)
    results.push({name: `analyze: ${out.analyzed} anime, whole command wall time`, value: wall, unit: 's'})
    results.push({name: 'analyze: per anime (mean)', value: (wall * 1000) / Math.max(1, out.analyzed), unit: 'ms'})
    results.push({name: 'analyze: peak memory', value: peakMb, unit: 'MB'})
    const aggSeconds = (ts(aggLine) - ts(lastAnime)) / 1000
    if (Number.isFinite(aggSeconds))
      results.push({name: 'analyze: global aggregation share of wall time (±1 s log resolution)', value: (100 * aggSeconds) / wall, unit: '%'})
    // the figures alone, drawn again here for 100 of the analyzed anime: their share of the per-anime time
    const figures = await figureCost(paths, out.analyzed)
    results.push({name: 'figures: four per anime (rank-frequency, CCDF, coverage, Heaps), drawn alone', value: figures.ms, unit: 'ms'})
    results.push({name: 'figures: ratio to the whole per-anime time above', value: (100 * figures.ms) / ((wall * 1000) / Math.max(1, out.analyzed)), unit: '%'})
    results.push({name: 'figures: per-anime page size (mean)', value: figures.pageKb, unit: 'KB'})
    const t2 = process.hrtime.bigint()
    spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'analyze', '--data-dir', paths.root], {encoding: 'utf8'})
    results.push({name: 'reference: re-run with nothing changed', value: Number(process.hrtime.bigint() - t2) / 1e9, unit: 's'})
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
  return results
}
