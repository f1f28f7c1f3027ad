// select's decisions without the CLI: when the rule may choose alone, and whose episode counts are kept.
import {expect} from 'chai'

import type {AnimeRow} from '../../src/queue/rows.js'
import type {Candidate} from '../../src/queue/selections.js'
import type {ModelAnswer} from '../../src/stages/select/claude.js'
import {modelDecision, ruleDecision} from '../../src/stages/select/decide.js'

function anime(title: string, episodes: number | null): AnimeRow {
  return {
    id: 1,
    mal_id: 9253,
    title,
    episodes_total: episodes,
    title_english: null,
    title_japanese: null,
    title_synonyms: null,
    genres: null,
    explicit_genres: null,
    themes: null,
    demographics: null,
    studios: null,
    fetched_at: '2026-01-01 00:00:00',
    updated_at: '2026-01-01 00:00:00',
  }
}
const candidate = (idx: number, text: string, episodes: number | null): Candidate => ({idx, text, episodes, single: false})

describe('select: the rule that needs no model', () => {
  it("takes the one title with exactly MyAnimeList's episode count, with high confidence", () => {
    const d = ruleDecision(anime('Steins;Gate', 24), 'Steins;Gate', [candidate(1, 'Steins;Gate', 24), candidate(2, 'Steins;Gate 0', 23)])
    expect(d).to.include({selected_index: 1, confidence: 'high', method: 'rule', episode_match: 'exact', selected_episodes: 24})
  })

  it('leaves a unique title whose count is only close (26 for 24) to the model', () => {
    expect(ruleDecision(anime('Steins;Gate', 24), 'Steins;Gate', [candidate(1, 'Steins;Gate', 26), candidate(2, 'Steins;Gate 0', 23)])).to.equal(undefined)
    // close the other way, and a count ani-cli did not show, likewise
    expect(ruleDecision(anime('Steins;Gate', 24), 'Steins;Gate', [candidate(1, 'Steins;Gate', 23)])).to.equal(undefined)
    expect(ruleDecision(anime('Steins;Gate', 24), 'Steins;Gate', [candidate(1, 'Steins;Gate', null)])).to.equal(undefined)
  })
})

describe("select: the model's decision", () => {
  const answer = (over: Partial<ModelAnswer>): ModelAnswer => ({
    index: 1,
    confidence: 'high',
    reason: 'the TV series',
    selected_episodes: 24,
    episode_match: 'exact',
    ...over,
  })

  it("records the episode match from the counts ani-cli printed, not the model's claim", () => {
    const candidates = [candidate(1, 'Steins;Gate', 12), candidate(2, 'Steins;Gate 0', 23)]
    const d = modelDecision(
      anime('Steins;Gate', 24),
      'Steins;Gate',
      candidates,
      answer({index: 1, selected_episodes: 24, episode_match: 'exact'}),
      'claude-haiku-4-5',
      1,
      0.001,
    )
    expect(d).to.include({selected_index: 1, selected_episodes: 12, episode_match: 'mismatch', method: 'model', confidence: 'high'})
    const close = modelDecision(
      anime('Steins;Gate', 24),
      'Steins;Gate',
      [candidate(1, 'Steins;Gate', 26)],
      answer({episode_match: 'exact'}),
      'claude-haiku-4-5',
      1,
      0.001,
    )
    expect(close.episode_match).to.equal('close')
  })

  it("keeps the model's reading only where ani-cli showed no count", () => {
    const d = modelDecision(
      anime('Steins;Gate', 24),
      'Steins;Gate',
      [candidate(1, 'Steins;Gate', null)],
      answer({selected_episodes: 24, episode_match: 'exact'}),
      'claude-haiku-4-5',
      1,
      0.001,
    )
    expect(d).to.include({selected_episodes: 24, episode_match: 'exact'})
  })
})
