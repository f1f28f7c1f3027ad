import {expect} from 'chai'

import {frequencyCsv} from '../../src/formats/frequency-csv.js'
import {countWords} from '../../src/stages/tokenize/frequency.js'
import type {Token} from '../../src/stages/tokenize/token.js'

const t = (surface: string, pos: string, base: string, reading: string): Token => ({surface, pos, pos_detail: '*', reading, base_form: base})

describe('word frequencies', () => {
  const tokens = [
    t('行っ', '動詞', '行く', 'イッ'),
    t('て', '助詞', 'て', 'テ'),
    t('、', '記号', '、', '、'),
    t('行く', '動詞', '行く', 'イク'),
    t('ABC', '名詞', '*', '*'),
    t('　', '記号', '*', '*'),
    t('て', '助詞', 'て', 'テ'),
    t('行っ', '動詞', '行く', 'イッ'),
    t('「', '記号', '「', '「'),
    t('?', '名詞', '*', '*'),
  ]

  it('counts words by base form and POS; token_count counts every token, word_count leaves out symbols', () => {
    const c = countWords(tokens, new Set(['記号']))
    expect(c.tokenCount).to.equal(10)
    expect(c.wordCount).to.equal(6)
    expect(c.rows).to.deep.equal([
      {word: '行く', count: 3, pos: '動詞', reading: 'イク'},
      {word: 'て', count: 2, pos: '助詞', reading: 'テ'},
      {word: 'ABC', count: 1, pos: '名詞', reading: '*'},
    ])
  })

  it('the exclusion list is configurable', () => {
    const c = countWords(tokens, new Set(['記号', '助詞']))
    expect(c.wordCount).to.equal(4)
    expect(c.rows.map((r) => r.word)).to.deep.equal(['行く', 'ABC'])
  })

  it('writes the CSV exactly: header, most frequent first, quoting where needed', () => {
    const rows = [
      {word: 'の', count: 245, pos: '助詞', reading: 'ノ'},
      {word: 'a,b', count: 3, pos: '名詞', reading: '*'},
      {word: '"q"', count: 1, pos: '名詞', reading: '*'},
    ]
    expect(frequencyCsv(rows)).to.equal('word,count,pos,reading\nの,245,助詞,ノ\n"a,b",3,名詞,*\n"""q""",1,名詞,*\n')
    expect(frequencyCsv([])).to.equal('word,count,pos,reading\n')
  })
})

describe('aggregated frequency CSV', () => {
  it('quotes exactly as the fast-csv episode files do', async () => {
    const {CountVector, Vocabulary} = await import('../../src/stages/analyze/freq-table.js')
    const rows = [
      {word: 'の', count: 245, pos: '助詞', reading: 'ノ'},
      {word: 'a,b', count: 3, pos: '名詞', reading: '*'},
      {word: '"q"', count: 1, pos: '名詞', reading: '*'},
    ]
    const t = new CountVector(new Vocabulary())
    for (const r of rows) t.add(t.vocabulary.id(r.word, r.pos, r.reading), r.count)
    expect(t.csv()).to.equal(frequencyCsv(rows))
  })
})
