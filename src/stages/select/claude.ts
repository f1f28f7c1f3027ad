import type Anthropic from '@anthropic-ai/sdk'

import type {AnimeRow} from '../../queue/rows.js'
import type {Candidate, Confidence, EpisodeMatch} from '../../queue/selections.js'
import {parseList} from '../../queue/anime.js'
import {cleanJson} from '../../util/text.js'
import {decodeEntities} from './match.js'

export const TOOL_NAME = 'record_selection'

const CONFIDENCES = ['high', 'medium', 'low'] as const
const MATCHES = ['exact', 'close', 'acceptable', 'mismatch', 'unknown'] as const

/** The answer is forced through this tool: the model cannot reply in free text. */
export const SELECTION_TOOL = {
  name: TOOL_NAME,
  description: 'Record which numbered candidate is the anime described by the MyAnimeList entry.',
  input_schema: {
    type: 'object' as const,
    properties: {
      index: {type: 'integer', description: 'the number of the chosen candidate, as listed'},
      confidence: {type: 'string', enum: [...CONFIDENCES]},
      reason: {type: 'string', description: 'one sentence: why this candidate (and not a special, recap, OVA, movie or sequel)'},
      selected_episodes: {type: ['integer', 'null'], description: "the chosen candidate's episode count, if listed"},
      episode_match: {
        type: 'string',
        enum: [...MATCHES],
        description: 'its episode count against MyAnimeList: exact, close (1-2 off), acceptable (within 20%), mismatch, unknown',
      },
    },
    required: ['index', 'confidence', 'reason', 'episode_match'],
  },
}

export interface ModelAnswer {
  index: number
  confidence: Exclude<Confidence, 'no_candidates'>
  reason: string
  selected_episodes: number | null
  episode_match: EpisodeMatch
}

export interface ModelCall {
  answer?: ModelAnswer
  /** Why the answer could not be used (out of range, malformed). */
  problem?: string
  inputTokens: number
  outputTokens: number
  costUsd: number
}

export interface ModelSettings {
  model: string
  maxTokens: number
  inputUsdPerMtok: number
  outputUsdPerMtok: number
}

/** What the model is shown: the MyAnimeList entry and the candidates, numbered as ani-cli numbered them. */
export function selectionPrompt(anime: AnimeRow, query: string, candidates: readonly Candidate[]): string {
  const synonyms = parseList(anime.title_synonyms)
  const entry = [
    `title: ${anime.title}`,
    anime.title_english ? `English title: ${anime.title_english}` : undefined,
    anime.title_japanese ? `Japanese title: ${anime.title_japanese}` : undefined,
    synonyms.length > 0 ? `synonyms: ${synonyms.join('; ')}` : undefined,
    `type: ${anime.type ?? 'unknown'}`,
    `episodes: ${anime.episodes_total ?? 'unknown'}`,
    `aired: ${[anime.season, anime.year].filter(Boolean).join(' ') || 'unknown'}`,
  ].filter(Boolean)
  const list = candidates.map((c) => `${c.idx}. ${decodeEntities(c.text)} (${c.episodes === null ? 'episodes unknown' : `${c.episodes} episodes`})`)
  return [
    'A MyAnimeList entry:',
    ...entry.map((l) => `  ${l}`),
    '',
    `The anime site lists these results for the search "${query}":`,
    ...list.map((l) => `  ${l}`),
    '',
    'Which result is this entry itself: the same series and season, not a special, recap, OVA, movie, sequel or another',
    `show with a similar name (unless the entry is one)? Use the episode counts. Answer with the ${TOOL_NAME} tool.`,
  ].join('\n')
}

/** Check a tool answer against the candidates; a problem in words, or the answer. */
export function validateAnswer(input: unknown, candidates: readonly Candidate[]): {answer?: ModelAnswer; problem?: string} {
  if (typeof input !== 'object' || input === null) return {problem: 'the answer is not an object'}
  const a = input as Record<string, unknown>
  if (typeof a.index !== 'number' || !Number.isInteger(a.index)) return {problem: `index ${JSON.stringify(a.index)} is not a whole number`}
  if (!candidates.some((c) => c.idx === a.index)) return {problem: `index ${a.index} is not one of the ${candidates.length} candidates`}
  if (!CONFIDENCES.includes(a.confidence as never)) return {problem: `confidence ${JSON.stringify(a.confidence)} is not high, medium or low`}
  if (typeof a.reason !== 'string' || a.reason.trim() === '') return {problem: 'the answer has no reason'}
  const match = MATCHES.includes(a.episode_match as never) ? (a.episode_match as EpisodeMatch) : 'unknown'
  const episodes = typeof a.selected_episodes === 'number' && Number.isInteger(a.selected_episodes) ? a.selected_episodes : null
  return {
    answer: {
      index: a.index,
      confidence: a.confidence as ModelAnswer['confidence'],
      reason: a.reason.trim().slice(0, 500),
      selected_episodes: episodes,
      episode_match: match,
    },
  }
}

/** Claude (Haiku by default) choosing among candidates, through @anthropic-ai/sdk. */
export class SelectionModel {
  constructor(
    private readonly client: Anthropic,
    readonly settings: ModelSettings,
  ) {}

  cost(inputTokens: number, outputTokens: number): number {
    return (inputTokens * this.settings.inputUsdPerMtok + outputTokens * this.settings.outputUsdPerMtok) / 1e6
  }

  /**
   * The most a call can cost: its prompt (at no fewer than one token per two bytes, a bound for
   * Japanese and English alike, plus the tool definition) and a full answer of max_tokens.
   */
  worstCaseCost(prompt: string): number {
    const inputBound = Math.ceil(Buffer.byteLength(prompt) / 2) + Math.ceil(JSON.stringify(SELECTION_TOOL).length / 2) + 600
    return this.cost(inputBound, this.settings.maxTokens)
  }

  async choose(prompt: string, candidates: readonly Candidate[], signal?: AbortSignal): Promise<ModelCall> {
    const response = await this.client.messages.create(
      {
        model: this.settings.model,
        max_tokens: this.settings.maxTokens,
        tools: [SELECTION_TOOL],
        tool_choice: {type: 'tool', name: TOOL_NAME},
        messages: [{role: 'user', content: prompt}],
      },
      {signal},
    )
    const inputTokens = response.usage?.input_tokens ?? 0
    const outputTokens = response.usage?.output_tokens ?? 0
    const call = {inputTokens, outputTokens, costUsd: this.cost(inputTokens, outputTokens)}
    const block = response.content?.find((b) => b.type === 'tool_use' && b.name === TOOL_NAME)
    if (!block || block.type !== 'tool_use') return {...call, problem: `the reply used no ${TOOL_NAME} tool (stop reason ${response.stop_reason})`}
    // the model's words are text from outside: cleaned before they are stored or shown
    return {...call, ...validateAnswer(cleanJson(block.input), candidates)}
  }
}
