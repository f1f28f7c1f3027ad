import {expect} from 'chai'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'

import {readTextFile} from '../../src/util/gzip-file.js'
import {runCli, tempDir} from '../helpers.js'

describe('word (CLI)', function () {
  this.timeout(180_000)
  let data: string

  before(() => {
    data = path.join(tempDir(), 'demo')
    const r = runCli(['demo', '--data-dir', data])
    expect(r.code, r.stderr).to.equal(0)
  })

  it('gives ranks and counts, and lines that contain the word at times inside their episode', () => {
    const r = runCli(['word', 'の', '--data-dir', data, '--json', '--lines', '8'])
    expect(r.code, r.stderr).to.equal(0)
    const out = JSON.parse(r.stdout)
    const overall = out.overall.find((o: {pos: string}) => o.pos === '助詞')
    expect(overall.rank).to.be.within(1, 20)
    // the count overall is the sum of the per-anime counts
    const perAnime = out.anime.filter((a: {pos: string}) => a.pos === '助詞').reduce((n: number, a: {count: number}) => n + a.count, 0)
    expect(perAnime).to.equal(overall.count)
    expect(out.genres.length).to.be.greaterThan(0)
    expect(out.lines).to.have.length(8)
    for (const l of out.lines as {mal_id: number; episode: number; start: number; end: number; text: string}[]) {
      expect(l.text).to.contain('の')
      const dir = path.join(data, 'transcripts', String(l.mal_id))
      const file = readdirSync(dir).find((f) => f.startsWith(`ep${String(l.episode).padStart(3, '0')}.json`))!
      const transcript = JSON.parse(readTextFile(path.join(dir, file))) as {segments: {start: number; end: number; text: string}[]}
      const last = Math.max(...transcript.segments.map((s) => s.end))
      expect(l.start).to.be.at.least(0)
      expect(l.end).to.be.at.least(l.start)
      expect(l.end).to.be.at.most(last)
      // the line is a segment's text said at exactly those times
      expect(transcript.segments.some((s) => s.start === l.start && s.end === l.end)).to.equal(true)
    }
  })

  it('finds a surface form under its base form; a word that is not there is said plainly; an unknown anime is exit 2', () => {
    const tokensDir = path.join(data, 'tokens')
    const anime = readdirSync(tokensDir)[0]!
    const file = readdirSync(path.join(tokensDir, anime)).find((f) => f.includes('_tokens.json'))!
    const doc = JSON.parse(readTextFile(path.join(tokensDir, anime, file))) as {tokens: {surface: string; base_form: string; pos: string}[]}
    const inflected = doc.tokens.find((t) => t.pos === '動詞' && t.base_form !== '*' && t.surface !== t.base_form)!
    const r = runCli(['word', inflected.surface, '--data-dir', data, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = JSON.parse(r.stdout)
    expect(out.base_forms).to.include(inflected.base_form)
    expect(out.overall.map((o: {word: string}) => o.word)).to.include(inflected.base_form)
    expect(out.lines.length).to.be.greaterThan(0)
    // the base form is found whatever --lines says
    const noLines = JSON.parse(runCli(['word', inflected.surface, '--lines', '0', '--data-dir', data, '--json']).stdout)
    expect(noLines.base_forms).to.include(inflected.base_form)
    expect(noLines.lines).to.deep.equal([])

    const none = runCli(['word', '存在しない単語', '--data-dir', data])
    expect(none.code).to.equal(0)
    expect(none.stdout).to.match(/not in the corpus/)
    const bad = runCli(['word', 'の', '--anime-id', '999999', '--data-dir', data])
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.match(/no anime with MyAnimeList id 999999/)
    expect(readFileSync(path.join(data, 'jobs.db')).length).to.be.greaterThan(0)
  })
})
