// transcribe's readings of whisper.cpp: its JSON as it really writes it, its complaints, and which
// segments are its inventions.
import {expect} from 'chai'

import type {Segment} from '../../src/formats/transcript.js'
import {flagHallucinations} from '../../src/stages/transcribe/hallucination.js'
import {parseWhisperJson, whisperComplaint} from '../../src/stages/transcribe/whisper.js'

const rules = {maxRepeats: 3, lowConfidence: 0.2, stockPhrases: ['ご視聴ありがとうございました']}
const seg = (text: string, i = 0, confidence: number | null = 0.9): Segment => ({id: i, start: i, end: i + 1, text, confidence})

describe('transcribe: whisper.cpp output', () => {
  it('reads raw control characters, nan probabilities and a character split across tokens and segments', () => {
    const kan = Buffer.from('漢')
    const json = Buffer.concat([
      Buffer.from('{"result": {"language": "ja"}, "transcription": [{"offsets": {"from": 0, "to": 1500}, "text": "x", "tokens": ['),
      Buffer.from('{"text": "[_BEG_]", "p": 0.9}, {"text": "'),
      kan.subarray(0, 2),
      Buffer.from('", "p": nan}, {"text": "'),
      kan.subarray(2),
      Buffer.from(
        '\tです", "p": 0.5}]}, {"offsets": {"from": 1500, "to": 3000}, "text": "y", "tokens": [{"text": "了\n解", "p": -inf}, {"text": "[_TT_75]", "p": 0.4}]}]}',
      ),
    ])
    const parsed = parseWhisperJson(json)
    expect(parsed.language).to.equal('ja')
    expect(parsed.segments.map((s) => s.text)).to.deep.equal(['漢 です', '了 解'])
    expect(parsed.segments[0]).to.include({start: 0, end: 1.5, confidence: 0.5})
    expect(parsed.segments[1]!.confidence, 'no finite probability').to.equal(null)
  })

  it("says the loader's reason for a model that did not load, not just that it failed", () => {
    const stderr = [
      "whisper_init_from_file_with_params_no_state: loading model from 'm.bin'",
      'whisper_model_load: ERROR not all tensors loaded from model file - expected 245, got 3',
      'whisper_init_with_params_no_state: failed to load model',
      'error: failed to initialize whisper context',
    ].join('\n')
    expect(whisperComplaint(stderr)).to.equal('whisper_model_load: ERROR not all tensors loaded from model file - expected 245, got 3')
    expect(whisperComplaint('whisper_print_timings: total time = 1 ms\nmain: failed to process audio\n')).to.equal('main: failed to process audio')
  })
})

describe('transcribe: hallucinations', () => {
  it('flags a unit said over and over, not laughter, screams or ordinary doubling', () => {
    const speech = ['はははははははははははは', 'あああああああああああ！', 'ドキドキドキドキ', 'ねえねえねえねえ、聞いてよ']
    const segments = [...speech.map((t, i) => seg(t, i)), seg('ありがとうありがとうありがとうありがとうありがとうありがとう', 9)]
    const summary = flagHallucinations(segments, rules)
    expect(segments.filter((s) => s.hallucinated).map((s) => s.text)).to.deep.equal(['ありがとうありがとうありがとうありがとうありがとうありがとう'])
    expect(summary).to.include({segments: 1, repeated: 1})
  })

  it('flags all but the first of a line repeated past max_repeats, stock closings and very unsure segments', () => {
    const segments = [
      seg('行くぞ。', 0),
      ...Array.from({length: 5}, (_, i) => seg('うん。', i + 1)),
      seg('ご視聴ありがとうございました', 6),
      seg('何か', 7, 0.05),
      seg('普通の台詞だ', 8),
    ]
    const summary = flagHallucinations(segments, rules)
    expect(segments.map((s) => s.hallucination ?? '-')).to.deep.equal([
      '-',
      '-',
      'repeated',
      'repeated',
      'repeated',
      'repeated',
      'stock_phrase',
      'low_confidence',
      '-',
    ])
    expect(summary).to.include({segments: 6, repeated: 4, stock_phrase: 1, low_confidence: 1})
    expect(summary.share).to.be.closeTo(6 / 9, 1e-4)
    // three in a row is not more than max_repeats
    const three = [seg('うん。', 0), seg('うん。', 1), seg('うん。', 2)]
    expect(flagHallucinations(three, rules).segments).to.equal(0)
  })
})
