// transcribe's stock-phrase rule: a closing whisper invents is flagged wherever it sits in a segment.
import {expect} from 'chai'

import type {Segment} from '../../src/formats/transcript.js'
import {flagHallucinations} from '../../src/stages/transcribe/hallucination.js'

const rules = {maxRepeats: 3, lowConfidence: 0.2, stockPhrases: ['ご視聴ありがとうございました', 'チャンネル登録よろしくお願いします']}
const seg = (text: string, i: number): Segment => ({id: i, start: i, end: i + 1, text, confidence: 0.9})

describe('transcribe: stock phrases', () => {
  it('flags a stock closing inside a longer segment, with punctuation and spaces around it', () => {
    const segments = [
      seg('今日も、ご視聴 ありがとうございました！また来週', 0),
      seg('えっと、チャンネル登録よろしくお願いします。', 1),
      seg('ありがとうございました', 2),
      seg('普通の台詞だ', 3),
    ]
    const summary = flagHallucinations(segments, rules)
    expect(segments.map((s) => s.hallucination ?? '-')).to.deep.equal(['stock_phrase', 'stock_phrase', '-', '-'])
    expect(summary).to.include({segments: 2, stock_phrase: 2})
  })
})
