// tokenize's width rule on the letters the older test left out: full-width lower case.
import {expect} from 'chai'

import {type CleaningRules, cleanText, normalizeWidth} from '../../src/stages/tokenize/clean.js'

const WIDTH_ONLY: CleaningRules = {normalize_width: true, ruby: false, speaker_labels: false, sound_notes: false, music_marks: false, drop_hallucinated: false}

describe('cleaning rules: width', () => {
  it('folds full-width lower-case letters to ASCII (ａｂｃ -> abc), the whole alphabet', () => {
    expect(cleanText('ａｂｃ', WIDTH_ONLY)).to.equal('abc')
    expect(normalizeWidth('ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ')).to.equal('abcdefghijklmnopqrstuvwxyz')
    expect(cleanText('ＯＫだよ、ｏｋ', WIDTH_ONLY)).to.equal('OKだよ、ok')
  })
})
