import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {TokenizerThreads} from '../../src/stages/tokenize/threads.js'
import {ROOT} from '../helpers.js'

const lines = readFileSync(path.join(ROOT, 'test', 'fixtures', 'text', 'dialogue.txt'), 'utf8')
  .trim()
  .split('\n')

/** Token end offsets, counted in non-space characters, for each line. */
function boundaries(tokensPerLine: string[][]): Set<string> {
  const out = new Set<string>()
  tokensPerLine.forEach((tokens, line) => {
    let at = 0
    for (const t of tokens) {
      const n = t.replaceAll(/\s/g, '').length
      if (n === 0) continue
      at += n
      out.add(`${line}:${at}`)
    }
  })
  return out
}

describe('kuromoji segmentation', function () {
  this.timeout(120_000)
  const threads = new TokenizerThreads()
  before(() => threads.start(1))
  after(() => threads.close())

  it('segments test lines as IPADIC does', async () => {
    const tokens = await threads.tokenize(1, ['今日は学校に行かない。', '俺はもう逃げないって決めたんだ。'])
    expect(tokens.map((t) => t.surface)).to.deep.equal([
      '今日',
      'は',
      '学校',
      'に',
      '行か',
      'ない',
      '。',
      '俺',
      'は',
      'もう',
      '逃げ',
      'ない',
      'って',
      '決め',
      'た',
      'ん',
      'だ',
      '。',
    ])
    const iku = tokens[4]!
    expect(iku).to.deep.equal({surface: '行か', pos: '動詞', pos_detail: '自立', reading: 'イカ', base_form: '行く'})
    expect(tokens[6]!.pos).to.equal('記号')
  })

  it('agrees with MeCab (same IPADIC) on at least 99.5% of token boundaries', async function () {
    const probe = spawnSync('mecab', ['--version'], {encoding: 'utf8'})
    if (probe.status !== 0) {
      // .ci/run installs mecab and mecab-ipadic-utf8; a developer machine may lack them
      this.skip()
    }
    const mecab = spawnSync('mecab', ['-Owakati'], {input: lines.join('\n') + '\n', encoding: 'utf8'})
    expect(mecab.status).to.equal(0)
    const mecabLines = mecab.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
    expect(mecabLines).to.have.length(lines.length)
    const kuro: string[][] = []
    for (const line of lines) kuro.push((await threads.tokenize(1, [line])).map((t) => t.surface))
    const a = boundaries(kuro)
    const b = boundaries(mecabLines)
    const shared = [...a].filter((x) => b.has(x)).length
    const agreement = shared / new Set([...a, ...b]).size
    expect(a.size).to.be.greaterThan(150)
    expect(agreement).to.be.at.least(0.995)
  })
})

describe('the faster lattice builder', function () {
  this.timeout(120_000)
  it('gives exactly the tokens kuromoji gives with its own builder', async () => {
    const {createRequire} = await import('node:module')
    const {installFastLattice} = await import('../../src/stages/tokenize/lattice.js')
    const require = createRequire(import.meta.url)
    const kuromoji = require('kuromoji') as {builder(o: {dicPath: string}): {build(cb: (e: Error | null, t: {tokenize(s: string): unknown[]}) => void): void}}
    const dicPath = path.join(path.dirname(require.resolve('kuromoji/package.json')), 'dict')
    const tokenizer = await new Promise<{tokenize(s: string): unknown[]}>((resolve, reject) =>
      kuromoji.builder({dicPath}).build((e, t) => (e ? reject(e) : resolve(t))),
    )
    const texts = [
      ...lines,
      lines.join(''),
      'ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ漢字かな',
      '𠮷野家で牛丼を食べた😀😀！ｱｲｳｴｵ１２３',
      'ーーーー……！？　　東京特許許可局長今日急遽休暇許可拒否',
      '',
    ]
    const before = texts.map((t) => tokenizer.tokenize(t))
    installFastLattice(tokenizer as unknown as Parameters<typeof installFastLattice>[0])
    const after = texts.map((t) => tokenizer.tokenize(t))
    expect(after.flat().length).to.be.greaterThan(300)
    expect(after).to.deep.equal(before)
  })
})
