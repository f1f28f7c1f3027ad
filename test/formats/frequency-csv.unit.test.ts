import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {FREQUENCY_CSV_HEADER, FrequencyCsvError, type WordCount, frequencyCsv, readFrequencyCsv} from '../../src/formats/frequency-csv.js'

describe('frequency CSV', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'animezipf-freqcsv-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  let n = 0
  const file = (text: string): string => {
    const f = path.join(dir, `f${n++}.csv`)
    writeFileSync(f, text)
    return f
  }
  const read = async (f: string) => {
    const rows: WordCount[] = []
    const totals = await readFrequencyCsv(f, (word, pos, reading, count) => rows.push({word, count, pos, reading}))
    return {rows, ...totals}
  }
  const failure = async (f: string): Promise<Error> => {
    try {
      await read(f)
    } catch (error) {
      return error as Error
    }
    throw new Error(`${f} was read without an error`)
  }

  it('writes the same bytes as before: fast-csv quoting, "\\n" after every row', () => {
    const rows: WordCount[] = [
      {word: 'の', count: 245, pos: '助詞', reading: 'ノ'},
      {word: 'a,b', count: 12, pos: '名詞', reading: '*'},
      {word: 'say "hi"', count: 7, pos: '名詞', reading: ''},
      {word: 'two\nlines', count: 3, pos: '名詞', reading: 'cr\r'},
      {word: 'a|b', count: 2, pos: '記号', reading: '*'},
      {word: '=SUM(A1)', count: 1, pos: '名詞', reading: ' スペース '},
      {word: 'nul\u0000', count: 1, pos: '名詞', reading: '*'},
    ]
    // '|' is quoted and NUL dropped: fast-csv has always done both; leading '=' and spaces are left alone
    const expected = [
      'word,count,pos,reading',
      'の,245,助詞,ノ',
      '"a,b",12,名詞,*',
      '"say ""hi""",7,名詞,',
      '"two\nlines",3,名詞,"cr\r"',
      '"a|b",2,記号,*',
      '=SUM(A1),1,名詞, スペース ',
      'nul,1,名詞,*',
      '',
    ].join('\n')
    expect(frequencyCsv(rows)).to.equal(expected)
    expect(frequencyCsv([])).to.equal('word,count,pos,reading\n')
    expect(FREQUENCY_CSV_HEADER.join(',')).to.equal('word,count,pos,reading')
  })

  it('reads back what it writes, tricky words included', async () => {
    const rows: WordCount[] = [
      {word: '行く', count: 1000, pos: '動詞', reading: 'イク'},
      {word: 'a,b', count: 40, pos: '名詞', reading: '*'},
      {word: '"quoted"', count: 30, pos: '名詞', reading: '*'},
      {word: 'he said "x, y"', count: 20, pos: '名詞', reading: ''},
      {word: 'line\nbreak', count: 10, pos: '名詞', reading: 'crlf\r\ninside'},
      {word: '=1+1', count: 9, pos: '名詞', reading: '=イチ'},
      {word: '@cmd', count: 8, pos: '名詞', reading: '-1'},
      {word: ' padded ', count: 7, pos: ' ', reading: '\t'},
      {word: 'ｶﾀｶﾅ・ひらがな・漢字', count: 6, pos: '名詞', reading: 'カタカナ'},
      {word: '🎌 emoji', count: 5, pos: '名詞', reading: '*'},
      {word: 'pipe|word', count: 4, pos: '名詞', reading: '*'},
      {word: '', count: 3, pos: '', reading: ''},
    ]
    const back = await read(file(frequencyCsv(rows)))
    expect(back.rows).to.deep.equal(rows)
    expect(back.tokens).to.equal(rows.reduce((s, r) => s + r.count, 0))
    expect(back.types).to.equal(rows.length)
  })

  it('reads a large file in several chunks', async () => {
    const rows = Array.from({length: 20_000}, (_, i): WordCount => ({word: `語${i},"x"`, count: 20_000 - i, pos: '名詞', reading: `ゴ${i}`}))
    const back = await read(file(frequencyCsv(rows)))
    expect(back.rows).to.deep.equal(rows)
  })

  it('skips blank lines and reads CRLF files', async () => {
    const back = await read(file('word,count,pos,reading\r\nの,5,助詞,ノ\r\n\r\n"a,b",2,名詞,*\r\n'))
    expect(back.rows).to.deep.equal([
      {word: 'の', count: 5, pos: '助詞', reading: 'ノ'},
      {word: 'a,b', count: 2, pos: '名詞', reading: '*'},
    ])
  })

  it('checks the header', async () => {
    const wrong = file('word,count,reading,pos\nの,5,ノ,助詞\n')
    const error = await failure(wrong)
    expect(error).to.be.instanceOf(FrequencyCsvError)
    expect(error.message).to.equal(`${wrong}:1: not a frequency CSV: the header is "word,count,reading,pos", expected "word,count,pos,reading"`)
    const empty = file('')
    expect((await failure(empty)).message).to.equal(`${empty}: empty: no word,count,pos,reading header`)
  })

  it('names the file and line of a malformed row', async () => {
    const fields = file('word,count,pos,reading\nの,5,助詞,ノ\n"two\nlines",3,名詞,*\nが,4,助詞\n')
    expect((await failure(fields)).message).to.equal(`${fields}:5: expected 4 fields (word,count,pos,reading), found 3: "が,4,助詞"`)
    const count = file('word,count,pos,reading\nの,5,助詞,ノ\nが,many,助詞,ガ\n')
    expect((await failure(count)).message).to.equal(`${count}:3: the count "many" is not a whole number: "が,many,助詞,ガ"`)
    const empty = file('word,count,pos,reading\nの,,助詞,ノ\n')
    expect((await failure(empty)).message).to.match(/:2: the count "" is not a whole number/)
  })

  it('names the line of a quoting error, even deep in a large file', async () => {
    const good = frequencyCsv(Array.from({length: 5000}, (_, i): WordCount => ({word: `w${i}`, count: 1, pos: 'p', reading: 'r'})))
    const stray = file(`${good}ok,1,p,r\n"quoted"tail,1,p,r\nafter,1,p,r\n`)
    const error = await failure(stray)
    expect(error.message).to.match(new RegExp(`^${escape(stray)}:5003: Parse Error: expected: ','`))
    const unclosed = file(`${good}"never closed,1,p,r\nafter,1,p,r\n`)
    expect((await failure(unclosed)).message).to.match(new RegExp(`^${escape(unclosed)}:5002: Parse Error: missing closing`))
  })

  it('passes on an error from the row callback', async () => {
    const f = file('word,count,pos,reading\nの,5,助詞,ノ\n')
    let caught: unknown
    await readFrequencyCsv(f, () => {
      throw new Error('stop here')
    }).catch((error: unknown) => (caught = error))
    expect((caught as Error).message).to.equal('stop here')
  })
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
