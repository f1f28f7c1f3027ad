import {expect} from 'chai'

import {type CleaningRules, cleanSegments, cleanText} from '../../src/stages/tokenize/clean.js'

const ALL: CleaningRules = {normalize_width: true, ruby: true, speaker_labels: true, sound_notes: true, music_marks: true, drop_hallucinated: true}
const NONE: CleaningRules = {normalize_width: false, ruby: false, speaker_labels: false, sound_notes: false, music_marks: false, drop_hallucinated: false}
const only = (rule: keyof CleaningRules): CleaningRules => ({...NONE, [rule]: true})

describe('cleaning rules', () => {
  it('normalize_width: full-width letters and digits to ASCII, half-width katakana to full-width', () => {
    expect(cleanText('ＡＢＣ１２３！ ｱﾆﾒｶﾞｽｷ', only('normalize_width'))).to.equal('ABC123！ アニメガスキ')
    expect(cleanText('ＡＢＣ ｱﾆﾒ', NONE)).to.equal('ＡＢＣ ｱﾆﾒ')
  })

  it('ruby: drops a kana reading in brackets after kanji, keeps other brackets', () => {
    expect(cleanText('弱(よえ)え', only('ruby'))).to.equal('弱え')
    expect(cleanText('幸田(こうだ)香子(きょうこ)です', only('ruby'))).to.equal('幸田香子です')
    expect(cleanText('（笑）それで', only('ruby'))).to.equal('（笑）それで')
    expect(cleanText('弱(よえ)え', NONE)).to.equal('弱(よえ)え')
  })

  it('speaker_labels: a bracketed name at the start of a line before speech', () => {
    expect(cleanText('（シン）行くぞ', only('speaker_labels'))).to.equal('行くぞ')
    expect(cleanText('(ｼﾝ) 行くぞ\n（記者Ａ）お？', only('speaker_labels'))).to.equal('行くぞ\nお？')
    expect(cleanText('どうして？　それは', NONE)).to.equal('どうして？ それは')
    // a note standing alone is not a label
    expect(cleanText('（風の音）', only('speaker_labels'))).to.equal('（風の音）')
    expect(cleanText('（シン）行くぞ', NONE)).to.equal('（シン）行くぞ')
  })

  it('sound_notes: bracketed notes anywhere, full- or half-width', () => {
    expect(cleanText('（ドアの閉まる音）', only('sound_notes'))).to.equal('')
    expect(cleanText('それは(笑)何だ［拍手］', only('sound_notes'))).to.equal('それは 何だ')
    expect(cleanText('（ドアの閉まる音）', NONE)).to.equal('（ドアの閉まる音）')
  })

  it('music_marks: ♪ and wave-dash music marks', () => {
    expect(cleanText('♪～', only('music_marks'))).to.equal('')
    expect(cleanText('～♪ 空へ ♪', only('music_marks'))).to.equal('空へ')
    expect(cleanText('♪～', NONE)).to.equal('♪～')
  })

  it('ruby inside a speaker label is handled before the label', () => {
    expect(cleanText('（桐山(きりやま) 零(れい)）あっ ああ…', ALL)).to.equal('あっ ああ…')
  })

  it('drop_hallucinated: skips segments the transcriber flagged', () => {
    const segs = [{text: 'こんにちは'}, {text: 'ご視聴ありがとうございました', hallucinated: true}, {text: '（雨の音）'}]
    expect(cleanSegments(segs, ALL)).to.deep.equal(['こんにちは'])
    expect(cleanSegments(segs, {...ALL, drop_hallucinated: false})).to.deep.equal(['こんにちは', 'ご視聴ありがとうございました'])
  })
})
