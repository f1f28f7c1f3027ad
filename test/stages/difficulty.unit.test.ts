import {expect} from 'chai'

import {corpusRanks, wordsToKnow} from '../../src/stages/analyze/difficulty.js'
import {CountVector, Vocabulary} from '../../src/stages/analyze/freq-table.js'

describe('difficulty for learners', () => {
  it('counts the corpus-top words a viewer must know for 90/95/98% of an anime, ties ranked as the frequency list', () => {
    const vocab = new Vocabulary()
    const global = new CountVector(vocab)
    // corpus ranks: の 1, は 2, 猫 3, 犬 4 (犬 and 鳥 tie at 5: 犬 sorts first), 鳥 5, 竜 6
    const words: [string, number][] = [
      ['の', 100],
      ['は', 60],
      ['猫', 20],
      ['鳥', 5],
      ['犬', 5],
      ['竜', 1],
    ]
    for (const [w, c] of words) global.add(vocab.id(w, '名詞', '*'), c)
    const rank = corpusRanks(global)
    expect([...['の', 'は', '猫', '犬', '鳥', '竜'].map((w) => rank[vocab.id(w, '名詞', '*')])]).to.deep.equal([1, 2, 3, 4, 5, 6])

    // an anime of 100 words: の 50, は 40, 竜 8, 猫 2 -> 90% needs は (rank 2), 95% and 98% need 竜 (rank 6)
    const anime = [
      ['の', 50],
      ['は', 40],
      ['竜', 8],
      ['猫', 2],
    ] as const
    const ids = Int32Array.from(anime.map(([w]) => vocab.id(w, '名詞', '*')))
    const counts = Float64Array.from(anime.map(([, c]) => c))
    expect(wordsToKnow({ids, counts, total: 100}, rank)).to.deep.equal({'90': 2, '95': 6, '98': 6})
    // the same anime without its rare word: everything is within the top three
    expect(wordsToKnow({ids: ids.slice(0, 2), counts: Float64Array.from([50, 40]), total: 90}, rank)).to.deep.equal({'90': 2, '95': 2, '98': 2})
    // an anime without words has no answer
    expect(wordsToKnow({ids: new Int32Array(0), counts: new Float64Array(0), total: 0}, rank)).to.deep.equal({'90': null, '95': null, '98': null})
  })
})
