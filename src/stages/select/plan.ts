import type {ServiceResult} from '../../app/result.js'
import {EXIT, errorMessage} from '../../errors.js'
import type {Queue} from '../../queue/index.js'
import type {AnimeRow} from '../../queue/rows.js'
import type {Candidate} from '../../queue/selections.js'
import {listCandidates} from './candidates.js'
import {ruleDecision} from './decide.js'
import type {SelectDeps, SelectOptions} from './stage.js'
import {animeIdLabel} from '../../queue/anime.js'

/** One anime of `select --dry-run --json`: what ani-cli lists now and what the run would do. */
export interface PlannedAnime {
  mal_id: number
  title: string
  /** The queries tried when none found anything. */
  queries?: string[]
  /** The query that found the candidates. */
  query?: string
  candidates: Candidate[]
  action: string
}

/** `select --dry-run --json`. */
export interface SelectPlan {
  dry_run: true
  anime: PlannedAnime[]
}

/** One anime planned: its entry and its lines. */
async function planAnime(anime: AnimeRow, deps: SelectDeps): Promise<{item: PlannedAnime; lines: string[]}> {
  const who = `${anime.title} (${animeIdLabel(anime.mal_id)})`
  const listed = await listCandidates(deps.ani, anime, deps.probe)
  if ('none' in listed) {
    return {
      item: {mal_id: anime.mal_id, title: anime.title, queries: listed.queries, candidates: [], action: 'no results: retry later'},
      lines: [`  ${who}: no results for ${listed.queries.map((q) => JSON.stringify(q)).join(', ')}`],
    }
  }
  const rule = ruleDecision(anime, listed.query, listed.candidates)
  const action = rule ? `select #${rule.selected_index} without a call` : deps.model ? 'ask the model' : 'needs the model (no ANTHROPIC_API_KEY)'
  const lines = [`  ${who}: ${action}`]
  for (const c of listed.candidates) lines.push(`     ${String(c.idx).padStart(2)}. ${c.text} (${c.episodes ?? '?'} episodes)`)
  return {item: {mal_id: anime.mal_id, title: anime.title, query: listed.query, candidates: listed.candidates, action}, lines}
}

/** --dry-run: the candidates ani-cli lists now and whether a call would be made; nothing is written, no API call. */
export async function planSelections(queue: Queue, deps: SelectDeps, options: SelectOptions): Promise<ServiceResult<SelectPlan>> {
  const pending = await queue.selections.pending({malId: options.malId, limit: options.limit ?? 1_000_000, force: options.force})
  const plan: PlannedAnime[] = []
  const text = [`dry run: ${pending.length} anime to select; nothing is written and no API call is made`]
  for (const anime of pending) {
    try {
      const {item, lines} = await planAnime(anime, deps)
      plan.push(item)
      text.push(...lines)
    } catch (error) {
      plan.push({mal_id: anime.mal_id, title: anime.title, candidates: [], action: `error: ${errorMessage(error)}`})
      text.push(`  ${anime.title} (${animeIdLabel(anime.mal_id)}): ${errorMessage(error)}`)
    }
  }
  return {code: EXIT.OK, result: {dry_run: true, anime: plan}, text}
}
