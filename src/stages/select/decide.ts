import {parseList} from '../../queue/anime.js'
import type {AnimeRow} from '../../queue/rows.js'
import type {Candidate, Decision} from '../../queue/selections.js'
import type {ModelAnswer} from './claude.js'
import {episodeMatch, normalizeTitle} from './match.js'

/** Every title the anime goes by, in the order to search them: main, English, synonyms. */
export function searchQueries(anime: AnimeRow): string[] {
  const all = [anime.title, anime.title_english, ...parseList(anime.title_synonyms)].map((t) => (t ?? '').trim()).filter((t) => t !== '')
  return [...new Set(all)]
}

/** Candidates whose title is one of the anime's titles, compared loosely. */
export function titleMatches(anime: AnimeRow, candidates: readonly Candidate[]): Candidate[] {
  const names = new Set(
    [anime.title, anime.title_english, anime.title_japanese, ...parseList(anime.title_synonyms)].filter((t): t is string => Boolean(t)).map(normalizeTitle),
  )
  return candidates.filter((c) => names.has(normalizeTitle(c.text)))
}

function base(anime: AnimeRow, query: string): Pick<Decision, 'mal_id' | 'anime_title' | 'search_query' | 'mal_episodes'> {
  return {mal_id: anime.mal_id, anime_title: anime.title, search_query: query, mal_episodes: anime.episodes_total ?? null}
}

/**
 * The selection that needs no model: exactly one candidate with one of the anime's titles and
 * MyAnimeList's episode count. Undefined when it is not that clear.
 */
export function ruleDecision(anime: AnimeRow, query: string, candidates: readonly Candidate[]): Decision | undefined {
  const matches = titleMatches(anime, candidates)
  if (matches.length !== 1) return undefined
  const c = matches[0]!
  if (episodeMatch(anime.episodes_total, c.episodes) !== 'exact') return undefined
  const others = candidates.length - 1
  return {
    ...base(anime, query),
    selected_index: c.idx,
    selected_title: c.text,
    confidence: 'high',
    reason: `the only result titled "${c.text}" and it has MyAnimeList's ${c.episodes} episodes${others > 0 ? ` (${others} other result${others === 1 ? '' : 's'} differ in title)` : ''}`,
    selected_episodes: c.episodes,
    episode_match: 'exact',
    method: 'rule',
    model: null,
    api_calls: 0,
    cost_usd: 0,
  }
}

export function modelDecision(
  anime: AnimeRow,
  query: string,
  candidates: readonly Candidate[],
  answer: ModelAnswer,
  model: string,
  calls: number,
  cost: number,
): Decision {
  const c = candidates.find((x) => x.idx === answer.index)!
  // the counts ani-cli printed outrank the model's reading of them
  const match = c.episodes !== null && anime.episodes_total ? episodeMatch(anime.episodes_total, c.episodes) : answer.episode_match
  return {
    ...base(anime, query),
    selected_index: c.idx,
    selected_title: c.text,
    confidence: answer.confidence,
    reason: answer.reason,
    selected_episodes: c.episodes ?? answer.selected_episodes,
    episode_match: match,
    method: 'model',
    model,
    api_calls: calls,
    cost_usd: cost,
  }
}

/** The model's answers could not be used twice: keep the best guess, marked low, with the problem. */
export function failedModelDecision(
  anime: AnimeRow,
  query: string,
  candidates: readonly Candidate[],
  problem: string,
  model: string,
  calls: number,
  cost: number,
): Decision {
  const guess = titleMatches(anime, candidates)[0] ?? candidates[0]!
  return {
    ...base(anime, query),
    selected_index: guess.idx,
    selected_title: guess.text,
    confidence: 'low',
    reason: `model answer unusable twice (${problem}); result ${guess.idx} is only a guess: review it with select --review`,
    selected_episodes: guess.episodes,
    episode_match: episodeMatch(anime.episodes_total, guess.episodes),
    method: 'model',
    model,
    api_calls: calls,
    cost_usd: cost,
  }
}

export function noCandidatesDecision(anime: AnimeRow, queries: readonly string[], message: string): Decision {
  return {
    ...base(anime, queries[0] ?? anime.title),
    selected_index: 0,
    selected_title: '',
    confidence: 'no_candidates',
    reason: `ani-cli found nothing for ${queries.map((q) => JSON.stringify(q)).join(', ')} on several runs (${message})`,
    selected_episodes: null,
    episode_match: 'unknown',
    method: 'none',
    model: null,
    api_calls: 0,
    cost_usd: 0,
  }
}

export function manualDecision(anime: AnimeRow, query: string, c: Candidate): Decision {
  return {
    ...base(anime, query),
    selected_index: c.idx,
    selected_title: c.text,
    confidence: 'high',
    reason: 'manual',
    selected_episodes: c.episodes,
    episode_match: episodeMatch(anime.episodes_total, c.episodes),
    method: 'manual',
    model: null,
    api_calls: 0,
    cost_usd: 0,
  }
}

/** A decision in one line, for the log and `select --set`: `#2 "Title" (high, rule, 64 episodes, exact)`. */
export function describeDecision(d: Decision): string {
  if (d.confidence === 'no_candidates') return 'no candidates'
  return `#${d.selected_index} "${d.selected_title}" (${d.confidence}, ${d.method}${d.selected_episodes !== null ? `, ${d.selected_episodes} episodes, ${d.episode_match}` : ''})`
}
