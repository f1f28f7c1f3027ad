import {errorMessage} from '../../errors.js'
import type {Queue} from '../../queue/index.js'
import type {AnimeRow} from '../../queue/rows.js'
import type {Decision} from '../../queue/selections.js'
import type {Lease, UnitOutcome} from '../../runner/pool.js'
import type {CallWithheld, SelectionBudget} from './budget.js'
import {type Listed, type Unlisted, listCandidates} from './candidates.js'
import {type ModelCall, type SelectionModel, selectionPrompt} from './claude.js'
import {describeDecision, failedModelDecision, modelDecision, noCandidatesDecision, ruleDecision} from './decide.js'
import type {SelectDeps} from './stage.js'

/** How one anime went: decided (rule, model, model_unusable, no_candidates), left for later, or lost to another selector. */
export type Outcome = 'rule' | 'model' | 'model_unusable' | 'no_candidates' | 'no_results_retry' | 'needs_key' | 'budget' | 'api_refused' | 'lost'

/** One anime in `select --json`'s `anime` list. */
export interface AnimeOutcome {
  mal_id: number
  title: string
  outcome: Outcome
  index?: number | undefined
  selected?: string | undefined
  confidence?: string | undefined
  episode_match?: string | null | undefined
  calls: number
  cost_usd: number
}

/** What the model calls for one anime came to. */
interface CallTally {
  calls: number
  cost: number
}

type AnimeResult = UnitOutcome<AnimeOutcome>

/** The queue the run opened (the stage's start hands it over). */
export function runQueue(deps: SelectDeps): Queue {
  if (!deps.queue) throw new Error('select: the queue is not open (the stage was not started)')
  return deps.queue
}

/** The record of one anime for the summary, with the decision (or the outcome) as the log line. */
function animeResult(anime: AnimeRow, outcome: Outcome, d?: Decision, tally: CallTally = {calls: 0, cost: 0}): AnimeResult {
  return {
    message: d ? describeDecision(d) : outcome.replaceAll('_', ' '),
    record: {
      mal_id: anime.mal_id,
      title: anime.title,
      outcome,
      index: d?.selected_index,
      selected: d?.selected_title,
      confidence: d?.confidence,
      episode_match: d?.episode_match,
      calls: tally.calls,
      cost_usd: tally.cost,
    },
  }
}

/** Store a decision fenced by the anime's lease: a selector that lost it stores nothing ('lost'). */
async function storeDecision(queue: Queue, owner: string, anime: AnimeRow, outcome: Outcome, d: Decision, tally?: CallTally): Promise<AnimeResult> {
  const kept = await queue.selections.record(d, owner)
  return animeResult(anime, kept ? outcome : 'lost', d, tally)
}

/**
 * `select`'s handler, one anime: the candidates ani-cli lists for its titles, then the rule where
 * title and episode count settle it, else Claude's choice within the run's budget; the decision stored.
 */
export async function selectAnime(anime: AnimeRow, lease: Lease, deps: SelectDeps): Promise<AnimeResult> {
  const queue = runQueue(deps)
  const listed = await listCandidates(deps.ani, anime, deps.probe, lease.signal)
  if ('none' in listed) return nothingListed(queue, anime, listed, lease.owner, deps)
  await queue.selections.saveCandidates(anime.mal_id, listed.query, listed.candidates)
  const rule = ruleDecision(anime, listed.query, listed.candidates)
  if (rule) return storeDecision(queue, lease.owner, anime, 'rule', rule)
  if (!deps.model) return animeResult(anime, 'needs_key')
  return askModel(queue, anime, listed, lease, deps.model, deps.budget)
}

/** "No results found!" is also what an outage looks like: only repeated runs make it final. */
async function nothingListed(queue: Queue, anime: AnimeRow, listed: Unlisted, owner: string, deps: SelectDeps): Promise<AnimeResult> {
  const a = await queue.selections.recordAttempt(anime.mal_id, `ani-cli: ${listed.none}`, true, deps.backoff)
  if (a.noResults < deps.noResultsConfirmations) return animeResult(anime, 'no_results_retry')
  return storeDecision(queue, owner, anime, 'no_candidates', noCandidatesDecision(anime, listed.queries, listed.none))
}

/** Claude chooses: an unusable answer is asked once more, then the best guess is kept as low confidence. */
async function askModel(queue: Queue, anime: AnimeRow, listed: Listed, lease: Lease, model: SelectionModel, budget: SelectionBudget): Promise<AnimeResult> {
  const {query, candidates} = listed
  const prompt = selectionPrompt(anime, query, candidates)
  const tally: CallTally = {calls: 0, cost: 0}
  let problem = ''
  for (let attempt = 1; attempt <= 2; attempt++) {
    lease.signal.throwIfAborted()
    const call = await budgetedCall(model, prompt, listed, budget, lease.signal)
    if (typeof call === 'string') return animeResult(anime, call, undefined, tally)
    tally.calls++
    tally.cost += call.costUsd
    // money spent is recorded as soon as it is spent, whatever happens next
    await queue.selections.recordUsage(anime.mal_id, model.settings.model, call.inputTokens, call.outputTokens, call.costUsd)
    if (call.answer) {
      const d = modelDecision(anime, query, candidates, call.answer, model.settings.model, tally.calls, tally.cost)
      return storeDecision(queue, lease.owner, anime, 'model', d, tally)
    }
    problem = call.problem ?? 'unusable answer'
    await lease.note(`model answer unusable: ${problem}`)
  }
  const guess = failedModelDecision(anime, query, candidates, problem, model.settings.model, tally.calls, tally.cost)
  return storeDecision(queue, lease.owner, anime, 'model_unusable', guess, tally)
}

/** One call with its worst case held in the budget; why none was made when the budget or a refusal stops it. */
async function budgetedCall(
  model: SelectionModel,
  prompt: string,
  listed: Listed,
  budget: SelectionBudget,
  signal: AbortSignal,
): Promise<ModelCall | CallWithheld> {
  const reserved = model.worstCaseCost(prompt)
  const held = budget.reserve(reserved)
  if (held !== 'reserved') return held
  try {
    const call = await model.choose(prompt, listed.candidates, signal)
    budget.settle(reserved, call.costUsd)
    return call
  } catch (error) {
    budget.cancel(reserved)
    // a refused key, a forbidden or unknown model, a refused request: every call fails the same way, stop asking
    const status = (error as {status?: number}).status
    if (status === 400 || status === 401 || status === 403 || status === 404) {
      budget.refuse(`the Anthropic API refused the request (${status} ${apiErrorType(error)}): check ANTHROPIC_API_KEY, the account and [select] model`)
      return 'api_refused'
    }
    throw new Error(redact(`Anthropic API: ${status ?? ''} ${apiErrorType(error)}: ${errorMessage(error).slice(0, 200)}`))
  }
}

/** The error type the API gave (authentication_error, overloaded_error...), or the SDK's class name. */
function apiErrorType(error: unknown): string {
  const e = error as {error?: {error?: {type?: string}}; name?: string}
  return e.error?.error?.type ?? e.name ?? 'error'
}

/** Whatever an error says, the key is never repeated (a proxy may echo request headers in its body). */
function redact(text: string): string {
  const key = process.env.ANTHROPIC_API_KEY?.trim()
  return key && key.length >= 8 ? text.replaceAll(key, '[key]') : text
}
