import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {decodeSubtitle} from '../../src/stages/import/decode.js'
import {episodeFromName} from '../../src/stages/import/episodes.js'
import {mergeDuplicateCues, parseAss, parseSrt, parseVtt} from '../../src/stages/import/subtitles.js'
import {ROOT} from '../helpers.js'

const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', 'subs', name)
const text = (name: string) => decodeSubtitle(readFileSync(fixture(name))).text

describe('subtitle parsing', () => {
  it('SRT: times, markup removed, overlapping duplicates merged', () => {
    const cues = mergeDuplicateCues(parseSrt(text('show-a-ep01.srt')))
    expect(cues.map((c) => c.text)).to.deep.equal(['（雨の音）', '（ハルカ）今日は学校に行かない。', 'どうして？　弱(よえ)えな、お前は。', '♪～', '明日は晴れるといいね'])
    expect(cues[1]).to.deep.include({start: 3.5, end: 6})
  })

  it('ASS: dialogue text with commas, override tags and drawings removed, comments skipped, layers merged', () => {
    const cues = mergeDuplicateCues(parseAss(text('show-a-ep02.ass')))
    expect(cues.map((c) => c.text)).to.deep.equal(['猫が好きです。', '本当に？\nうん、とても。', 'じゃあ、一緒に行こう, ね'])
    expect(cues[0]).to.deep.include({start: 1, end: 3})
  })

  it('WebVTT: cue settings, voice tags and NOTE blocks', () => {
    const cues = parseVtt(text('show-a-ep03.vtt'))
    expect(cues).to.deep.equal([
      {start: 1, end: 3, text: '駅で待っているよ。'},
      {start: 3.5, end: 5, text: '（電車の音）\nありがとう。'},
    ])
  })

  it('decodes Shift-JIS and UTF-16 files', () => {
    expect(decodeSubtitle(readFileSync(fixture('show-b-ep1.srt')))).to.deep.include({encoding: 'shift_jis'})
    expect(text('show-b-ep1.srt')).to.contain('空は青いです。')
    expect(decodeSubtitle(readFileSync(fixture('show-b-ep2.srt')))).to.deep.include({encoding: 'utf-16le'})
    expect(parseSrt(text('show-b-ep2.srt')).map((c) => c.text)).to.deep.equal(['海へ行きましょう。', '魚がたくさんいます。'])
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('日本語', 'utf16le').swap16()])
    expect(decodeSubtitle(be)).to.deep.equal({text: '日本語', encoding: 'utf-16be'})
  })

  it('keeps the same line said twice at different times', () => {
    const cues = mergeDuplicateCues([
      {start: 1, end: 2, text: 'はい'},
      {start: 10, end: 11, text: 'はい'},
    ])
    expect(cues).to.have.length(2)
  })

  it('finds episode numbers in file names', () => {
    const cases: [string, number | undefined][] = [
      ['ep01.srt', 1],
      ['Show - 07 (1080p).srt', 7],
      ['[Group] Show - 12v2 [x264].ass', 12],
      ['Show 第3話.vtt', 3],
      ['Show E05.srt', 5],
      ['Show [13].srt', 13],
      ['Show.1080p.x264.srt', undefined],
    ]
    for (const [name, ep] of cases) expect(episodeFromName(name), name).to.equal(ep)
  })
})
