import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {openDatabase, runCli, tempDir} from '../helpers.js'

describe('demo', function () {
  this.timeout(300_000)

  it('runs the pipeline on the bundled sample, then has nothing new to do', () => {
    const cwd = tempDir()
    const first = runCli(['demo', '--json'], {cwd})
    expect(first.code, first.stderr).to.equal(0)
    const r = JSON.parse(first.stdout)
    expect(r.data_dir).to.equal(path.join(cwd, 'demo-data'))
    expect(r).to.include({nothing_new: false, analyzed: 3})
    expect(r.corpus.anime).to.equal(3)
    expect(r.global_fit.alpha).to.be.within(1.5, 3)
    expect(existsSync(r.report)).to.equal(true)
    expect(r.plots).to.have.length(3)
    for (const p of r.plots) expect(existsSync(p)).to.equal(true)

    const db = openDatabase(path.join(cwd, 'demo-data', 'jobs.db'))
    const totals = db
      .prepare(`SELECT COUNT(*) AS jobs, SUM(token_count) AS tokens, COUNT(DISTINCT anime_id) AS anime FROM jobs WHERE stage = 'complete'`)
      .get() as {jobs: number; tokens: number; anime: number}
    const genres = db.prepare(`SELECT COUNT(*) AS n FROM anime_categories WHERE kind = 'genre'`).get() as {n: number}
    const studios = db.prepare(`SELECT COUNT(DISTINCT name) AS n FROM anime_categories WHERE kind = 'studio'`).get() as {n: number}
    db.close()
    expect(totals.anime).to.equal(3)
    expect(totals.tokens).to.be.at.least(5000)
    expect(genres.n).to.be.greaterThan(0)
    expect(studios.n).to.be.greaterThan(0)
    // the human output went to stderr under --json; the report names the shows
    expect(first.stderr).to.contain('== tokenize')
    expect(readFileSync(r.report, 'utf8')).to.contain('Hagane no Hane')

    const second = runCli(['demo'], {cwd})
    expect(second.code, second.stderr).to.equal(0)
    expect(second.stdout).to.contain('nothing new to do')
    // what to run next names the demo's folder: a bare `word` would read ./data
    expect(second.stdout).to.match(/^ {2}animezipf word の --data-dir demo-data +a word's rank/m)
    expect(second.stdout).to.match(/^ {2}animezipf status --data-dir demo-data /m)
    const next = runCli(['word', 'の', '--data-dir', 'demo-data'], {cwd})
    expect(next.code, next.stderr).to.equal(0)
    expect(next.stdout).to.match(/rank \d+ overall/)
    // and in the folder where the demo ran, ./data is no corpus: said so, and none created; word
    // is refused (exit 2), analyze has nothing to do (exit 0: a cron chain's first runs pass)
    const word = runCli(['word', 'の'], {cwd})
    expect(word.code).to.equal(2)
    expect(word.stderr).to.match(/^animezipf: no corpus at .*\/data: no queue there .*demo.*--data-dir/m)
    const analyze = runCli(['analyze'], {cwd})
    expect(analyze.code, analyze.stderr).to.equal(0)
    expect(analyze.stdout).to.match(/^analyze: nothing to analyze: no corpus at .*\/data yet .*--data-dir/m)
    expect(existsSync(path.join(cwd, 'data')), 'word or analyze created ./data').to.equal(false)
    expect(second.stdout).to.contain('global fit: α =')
  })
})
