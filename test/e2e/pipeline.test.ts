import {expect} from 'chai'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'

import {openDatabase, runCli, tempDir, tree, writeShowSubtitles} from '../helpers.js'

function csvTotal(file: string): number {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .reduce((s, l) => s + Number(l.split(',').at(-3)), 0)
}

describe('end to end: import -> tokenize -> analyze -> status, as separate processes', function () {
  this.timeout(300_000)

  it('runs the offline half of the pipeline on one data folder', () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const one = writeShowSubtitles(path.join(work, 'one'), 3, 21)
    const two = writeShowSubtitles(path.join(work, 'two'), 1, 22)
    const cli = (args: string[]) => {
      const r = runCli([...args, '--data-dir', data])
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0)
      return r
    }
    const idOne = JSON.parse(cli(['import', ...one, '--title', 'Show One', '--genre', 'Drama', '--studio', 'Studio E', '--json']).stdout).anime.mal_id
    const idTwo = JSON.parse(cli(['import', ...two, '--title', 'Show Two', '--genre', 'Drama', '--json']).stdout).anime.mal_id
    cli(['tokenize', '--workers', '2'])
    cli(['analyze'])
    const status = JSON.parse(cli(['status', '--json']).stdout)
    expect(status.jobs.total).to.equal(4)
    expect(status.jobs.by_stage.complete).to.equal(4)

    // every output exists
    for (const [id, eps] of [
      [idOne, 3],
      [idTwo, 1],
    ] as const) {
      for (let e = 1; e <= eps; e++) {
        const ep = `ep${String(e).padStart(3, '0')}`
        for (const f of [
          `transcripts/${id}/${ep}.json.gz`,
          `transcripts/${id}/${ep}.txt.gz`,
          `tokens/${id}/${ep}_tokens.json.gz`,
          `tokens/${id}/${ep}_freq.csv`,
        ]) {
          expect(existsSync(path.join(data, f)), f).to.equal(true)
        }
      }
      for (const f of ['word_freq.csv', 'zipf_params.json', 'statistics.json', 'zipf_plot.html'])
        expect(existsSync(path.join(data, 'analysis', 'per_anime', String(id), f))).to.equal(true)
    }
    for (const f of ['aggregated/all_anime_freq.csv', 'aggregated/comparison.html', 'aggregated/by_genre/drama_freq.csv', 'reports/final_report.html']) {
      expect(existsSync(path.join(data, 'analysis', f)), f).to.equal(true)
    }

    // totals add up: episodes -> anime -> corpus
    const db = openDatabase(path.join(data, 'jobs.db'))
    const perAnime = db.prepare(`SELECT mal_id, SUM(word_count) AS words, SUM(token_count) AS tokens FROM jobs GROUP BY mal_id`).all() as {
      mal_id: number
      words: number
      tokens: number
    }[]
    db.close()
    let corpus = 0
    for (const a of perAnime) {
      const params = JSON.parse(readFileSync(path.join(data, 'analysis', 'per_anime', String(a.mal_id), 'zipf_params.json'), 'utf8'))
      const stats = JSON.parse(readFileSync(path.join(data, 'analysis', 'per_anime', String(a.mal_id), 'statistics.json'), 'utf8'))
      expect(params.total_words).to.equal(a.words)
      expect(stats.total_tokens).to.equal(a.tokens)
      const episodeCsvs = readdirSync(path.join(data, 'tokens', String(a.mal_id))).filter((f) => f.endsWith('_freq.csv'))
      expect(episodeCsvs.reduce((s, f) => s + csvTotal(path.join(data, 'tokens', String(a.mal_id), f)), 0)).to.equal(a.words)
      expect(csvTotal(path.join(data, 'analysis', 'per_anime', String(a.mal_id), 'word_freq.csv'))).to.equal(a.words)
      corpus += a.words
    }
    expect(csvTotal(path.join(data, 'analysis', 'aggregated', 'all_anime_freq.csv'))).to.equal(corpus)
    const global = JSON.parse(readFileSync(path.join(data, 'analysis', 'aggregated', 'global_zipf.json'), 'utf8'))
    expect(global.corpus.total_words).to.equal(corpus)

    // running again does nothing, and --dry-run changes nothing: database and files byte-identical
    const before = tree(data)
    expect(JSON.parse(cli(['tokenize', '--json']).stdout).claimed).to.equal(0)
    expect(JSON.parse(cli(['analyze', '--json']).stdout).anime).to.deep.equal([])
    expect(tree(data)).to.deep.equal(before)
    for (const args of [
      ['import', ...one, '--title', 'Show One', '--dry-run'],
      ['tokenize', '--dry-run'],
      ['tokenize', '--dry-run', '--force'],
      ['analyze', '--dry-run'],
      ['analyze', '--dry-run', '--force'],
      ['status'],
    ]) {
      cli(args)
      expect(tree(data), args.join(' ')).to.deep.equal(before)
    }
  })

  it('--dry-run of each command leaves the database and files byte-identical', () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const files = writeShowSubtitles(path.join(work, 's'), 2, 3)
    expect(runCli(['import', files[0]!, '--title', 'S', '--data-dir', data]).code).to.equal(0)
    const before = tree(data)
    for (const args of [['import', files[1]!, '--title', 'S', '--dry-run'], ['tokenize', '--dry-run'], ['analyze', '--dry-run', '--partial'], ['status']]) {
      const r = runCli([...args, '--data-dir', data])
      expect(r.code, r.stderr).to.equal(0)
    }
    expect(tree(data)).to.deep.equal(before)
  })
})
