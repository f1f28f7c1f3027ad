import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {decodeSubtitle} from '../../src/stages/import/decode.js'
import {episodeFromName} from '../../src/stages/import/episodes.js'
import {readSubtitleBytes} from '../../src/stages/import/file.js'
import {RefusedSubtitles, mergeDuplicateCues, parseAss, parseSrt, parseTime, parseVtt} from '../../src/stages/import/subtitles.js'
import {ROOT} from '../helpers.js'

const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', 'subs', name)
const text = (name: string) => decodeSubtitle(readFileSync(fixture(name))).text

describe('subtitle parsing', () => {
  it('SRT: times, markup removed, overlapping duplicates merged', () => {
    const cues = mergeDuplicateCues(parseSrt(text('show-a-ep01.srt')).cues)
    expect(cues.map((c) => c.text)).to.deep.equal([
      '（雨の音）',
      '（ハルカ）今日は学校に行かない。',
      'どうして？　弱(よえ)えな、お前は。',
      '♪～',
      '明日は晴れるといいね',
    ])
    expect(cues[1]).to.deep.include({start: 3.5, end: 6})
  })

  it('ASS: dialogue text with commas, override tags and drawings removed, comments skipped, layers merged', () => {
    const cues = mergeDuplicateCues(parseAss(text('show-a-ep02.ass')).cues)
    expect(cues.map((c) => c.text)).to.deep.equal(['猫が好きです。', '本当に？\nうん、とても。', 'じゃあ、一緒に行こう, ね'])
    expect(cues[0]).to.deep.include({start: 1, end: 3})
  })

  it('WebVTT: cue settings, voice tags and NOTE blocks', () => {
    const cues = parseVtt(text('show-a-ep03.vtt')).cues
    expect(cues).to.deep.equal([
      {start: 1, end: 3, text: '駅で待っているよ。'},
      {start: 3.5, end: 5, text: '（電車の音）\nありがとう。'},
    ])
  })

  it('decodes Shift-JIS and UTF-16 files', () => {
    expect(decodeSubtitle(readFileSync(fixture('show-b-ep1.srt')))).to.deep.include({encoding: 'shift_jis'})
    expect(text('show-b-ep1.srt')).to.contain('空は青いです。')
    expect(decodeSubtitle(readFileSync(fixture('show-b-ep2.srt')))).to.deep.include({encoding: 'utf-16le'})
    expect(parseSrt(text('show-b-ep2.srt')).cues.map((c) => c.text)).to.deep.equal(['海へ行きましょう。', '魚がたくさんいます。'])
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('日本語', 'utf16le').swap16()])
    expect(decodeSubtitle(be)).to.deep.equal({text: '日本語', encoding: 'utf-16be'})
  })

  it('decodes EUC-JP, and UTF-16 without a byte-order mark in either order (made with iconv from the same text)', () => {
    const original =
      '1\n00:00:01,000 --> 00:00:03,000\nおはようございます、先輩。今日はいい天気ですね。\n\n2\n00:00:04,000 --> 00:00:06,000\n東京タワーに行きましょう！ｶﾀｶﾅではない。\n'
    const as = (encoding: string) => execFileSync('iconv', ['-f', 'UTF-8', '-t', encoding], {input: original})
    for (const [encoding, name] of [
      ['EUC-JP', 'euc-jp'],
      ['UTF-16LE', 'utf-16le'],
      ['UTF-16BE', 'utf-16be'],
      ['SHIFT_JIS', 'shift_jis'],
    ] as const) {
      const bytes = as(encoding)
      expect(
        bytes.subarray(0, 2).equals(Buffer.from([0xff, 0xfe])) || bytes.subarray(0, 2).equals(Buffer.from([0xfe, 0xff])),
        `${encoding} has no BOM`,
      ).to.equal(false)
      expect(decodeSubtitle(bytes), encoding).to.deep.equal({text: original, encoding: name})
    }
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

  it('refuses impossible cue times, each with its line: negative, end before start, a 400-digit hour, 61 minutes', () => {
    const srt = [
      '1',
      '00:00:01,000 --> 00:00:02,000',
      '猫が好きです。',
      '',
      '2',
      '-00:00:03,000 --> 00:00:04,000',
      '負の時間',
      '',
      '3',
      '00:00:09,000 --> 00:00:05,000',
      '逆の時間',
      '',
      '4',
      `${'9'.repeat(400)}:00:00,000 --> ${'9'.repeat(400)}:00:01,000`,
      '長すぎる時間',
      '',
      '5',
      '00:61:00,000 --> 00:62:00,000',
      '六十一分',
      '',
      '6',
      '00:00:10,000 --> 00:00:10,000',
      '一瞬',
      '',
    ].join('\n')
    const {cues, problems} = parseSrt(srt)
    expect(cues).to.deep.equal([
      {start: 1, end: 2, text: '猫が好きです。'},
      {start: 10, end: 10, text: '一瞬'},
    ])
    expect(problems.map((p) => p.line)).to.deep.equal([6, 10, 14, 18])
    expect(problems[0]!.message).to.equal('start: negative time -00:00:03,000')
    expect(problems[1]!.message).to.equal('end 00:00:05,000 before start 00:00:09,000')
    expect(problems[2]!.message).to.match(/^start: impossible time 9{24}… \(over 99 hours\)$/)
    expect(problems[3]!.message).to.equal('start: impossible time 00:61:00,000')
    const vtt = parseVtt('WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nだめ\n\n00:01.000 --> 00:02.000\nいい\n')
    expect(vtt).to.deep.equal({cues: [{start: 1, end: 2, text: 'いい'}], problems: [{line: 3, message: 'end 00:00:01.000 before start 00:00:05.000'}]})
    const ass = parseAss(
      '[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,-0:00:01.00,0:00:02.00,Default,,0,0,0,,だめ\nDialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,いい\n',
    )
    expect(ass).to.deep.equal({cues: [{start: 3, end: 4, text: 'いい'}], problems: [{line: 3, message: 'start: negative time -0:00:01.00'}]})
    expect(parseTime('1:02:03.5')).to.deep.equal({seconds: 3723.5})
  })

  it('refuses a file whose every cue has an impossible time, naming the first line', () => {
    const bytes = Buffer.from('1\n00:00:09,000 --> 00:00:05,000\n逆の時間\n\n2\n-00:00:01,000 --> 00:00:02,000\n負の時間\n')
    const limits = {max_file_mb: 20, max_cues: 20_000, max_line_chars: 2000, min_japanese_percent: 30}
    expect(() => readSubtitleBytes('ep01.srt', bytes, limits)).to.throw(
      RefusedSubtitles,
      /^no usable cue: line 2: end 00:00:05,000 before start 00:00:09,000 \(and 1 more\)$/,
    )
  })

  it('strips markup whose halves meet once a tag between them is gone, and drawings up to \\p0', () => {
    expect(parseSrt('1\n00:00:01,000 --> 00:00:02,000\n{{\\b1}\\an8}猫<<i>b>です</<i>i>。{\\an8\n').cues).to.deep.equal([{start: 1, end: 2, text: '猫です。'}])
    const ass = parseAss('[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,猫{\\p1}m 0 0 l 10 10{\\c&H0&}l 5 5{\\p0}が\\{}N好き\\hです{\\b1\n')
    expect(ass.cues).to.deep.equal([{start: 1, end: 2, text: '猫が\n好き です'}])
  })
})
