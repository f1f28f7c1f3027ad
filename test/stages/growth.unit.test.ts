// Vocabulary growth on the token stream: per anime from its tokens files, for the corpus exactly
// from where each anime first says each word.
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {DataPaths} from '../../src/paths.js'
import {corpusGrowth, streamGrowth, thin} from '../../src/stages/analyze/growth.js'
import {fitHeaps} from '../../src/stages/analyze/rank-fits.js'
import {tempDir} from '../helpers.js'

const tok = (word: string, pos = '名詞') => ({surface: word, pos, pos_detail: '*', reading: '*', base_form: word})

describe('vocabulary growth on the token stream', () => {
  it('counts words as the frequency tables do, across the episodes in order, with where each was first said', () => {
    const paths = new DataPaths(path.join(tempDir(), 'data'))
    const write = (ep: number, tokens: object[]) => {
      const file = paths.tokensFile(7, ep, false)
      mkdirSync(path.dirname(file), {recursive: true})
      writeFileSync(file, JSON.stringify({tokens}))
    }
    // 30 words in episode 1 (10 distinct), symbols and punctuation not counted; episode 2 adds 2
    write(1, [...Array.from({length: 30}, (_, i) => tok(`w${i % 10}`)), tok('。', '記号'), tok('…', '名詞')])
    write(2, [tok('w0'), tok('new1'), tok('w1'), tok('new2')])
    const g = streamGrowth(paths, 7, [{episode: 1}, {episode: 2}], new Set(['記号']))!
    expect(g.total).to.equal(34)
    expect(g.points).to.deep.equal([
      {tokens: 25, types: 10},
      {tokens: 34, types: 12},
    ])
    expect(g.first_seen.slice(0, 2)).to.deep.equal([
      ['w0\u0000名詞', 0],
      ['w1\u0000名詞', 1],
    ])
    expect(g.first_seen.at(-1)).to.deep.equal(['new2\u0000名詞', 33])
    // an episode without a tokens file: no stream (the per-episode points are used instead)
    expect(streamGrowth(paths, 7, [{episode: 1}, {episode: 3}], new Set())).to.equal(undefined)
  })

  it('the corpus curve counts a word once, where the first anime says it', () => {
    const a = {
      total: 5,
      points: [],
      first_seen: [
        ['x', 0],
        ['y', 2],
      ] as [string, number][],
    }
    const b = {
      total: 4,
      points: [],
      first_seen: [
        ['y', 0],
        ['z', 3],
      ] as [string, number][],
    }
    expect(corpusGrowth([a, b])).to.deep.equal([
      {tokens: 1, types: 1},
      {tokens: 3, types: 2},
      {tokens: 5, types: 2},
      {tokens: 9, types: 3},
    ])
  })

  it('keeps at most 300 points, spread on a log scale, the last one kept; Heaps recovers β from a sqrt-law stream', () => {
    const points = Array.from({length: 4000}, (_, i) => ({tokens: (i + 1) * 25, types: Math.round(7 * ((i + 1) * 25) ** 0.55)}))
    const t = thin(points)
    expect(t.length).to.be.at.most(301)
    expect(t.at(-1)).to.deep.equal(points.at(-1))
    expect(t[0]).to.deep.equal(points[0])
    const fit = fitHeaps(t)!
    expect(fit.beta).to.be.closeTo(0.55, 0.005)
    expect(fit.K).to.be.closeTo(7, 0.3)
  })
})
