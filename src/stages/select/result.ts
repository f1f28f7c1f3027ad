import type {ServiceResult} from '../../app/result.js'
import {EXIT} from '../../errors.js'
import type {PoolSummary} from '../../runner/pool.js'
import type {SelectionBudget} from './budget.js'
import type {AnimeOutcome, Outcome} from './select-anime.js'
import {animeIdLabel} from '../../queue/anime.js'

/** `select --json`: what the run decided, what it left for later, and what the model cost. */
export interface SelectResult {
  selected: number
  without_call: number
  with_call: number
  no_candidates: number
  waiting_for_retry: number
  needs_api_key: number
  stopped_by_budget: boolean
  /** Why the API refused the run's requests; null when it did not. */
  api_refused: string | null
  failed: number
  interrupted: boolean
  api: {
    calls: number
    cost_usd: number
    calls_per_selected_anime: number
    usd_per_1000_anime: number
    /** Every call ever recorded in this queue. */
    total_spent_usd: number
  }
  anime: AnimeOutcome[]
  failures: PoolSummary['failures']
}

const NEEDS_KEY_HINT = 'set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a proxy) to let Claude choose among the ambiguous ones'

/** The run's figures from the pool's records, the budget's state and the queue's spending in all. */
export function selectResult(summary: PoolSummary<AnimeOutcome>, budget: SelectionBudget, totalSpentUsd: number): SelectResult {
  const outcomes = summary.records
  const count = (...o: Outcome[]) => outcomes.filter((x) => o.includes(x.outcome)).length
  const selected = count('rule', 'model', 'model_unusable')
  const calls = outcomes.reduce((n, o) => n + o.calls, 0)
  const cost = outcomes.reduce((n, o) => n + o.cost_usd, 0)
  return {
    selected,
    without_call: count('rule'),
    with_call: count('model', 'model_unusable'),
    no_candidates: count('no_candidates'),
    waiting_for_retry: count('no_results_retry') + summary.retried,
    needs_api_key: count('needs_key'),
    stopped_by_budget: budget.stoppedByBudget,
    api_refused: budget.refused ?? null,
    failed: summary.failed,
    interrupted: summary.interrupted,
    api: {
      calls,
      cost_usd: cost,
      calls_per_selected_anime: selected > 0 ? calls / selected : 0,
      usd_per_1000_anime: selected > 0 ? (cost / selected) * 1000 : 0,
      total_spent_usd: totalSpentUsd,
    },
    anime: outcomes,
    failures: summary.failures,
  }
}

/** The summary lines: the counts, the money, every anime left undecided, and what to do next. */
export function selectSummaryText(r: SelectResult, maxCost: number | undefined): string[] {
  const text = [
    `select: ${r.selected} selected (${r.without_call} without a call, ${r.with_call} with one), ${r.no_candidates} without candidates, ${r.waiting_for_retry} to retry later` +
      `${r.needs_api_key ? `, ${r.needs_api_key} need the model` : ''}${r.failed ? `, ${r.failed} failed` : ''}`,
    `  API: ${r.api.calls} call(s), $${r.api.cost_usd.toFixed(4)} this run (${r.api.calls_per_selected_anime.toFixed(2)} calls per selected anime, $${r.api.usd_per_1000_anime.toFixed(2)} per 1,000 anime); $${r.api.total_spent_usd.toFixed(4)} in all`,
  ]
  for (const o of r.anime.filter((x) => x.outcome !== 'rule' && x.outcome !== 'model'))
    text.push(`  ${o.title} (${animeIdLabel(o.mal_id)}): ${o.outcome.replaceAll('_', ' ')}`)
  for (const f of r.failures) text.push(`  failed: ${f.label}: ${f.error}`)
  if (r.needs_api_key) text.push(`  ${r.needs_api_key} anime are ambiguous and were left unselected: ${NEEDS_KEY_HINT}`)
  if (r.api_refused) text.push(`  ${r.api_refused}; nothing more was asked in this run`)
  if (r.stopped_by_budget) text.push(`  stopped before a call that could pass --max-cost $${maxCost}; run again with a higher budget to go on`)
  if (r.with_call + r.no_candidates > 0) text.push('  see `animezipf select --review` for the low-confidence ones')
  return text
}

/** 130 interrupted, 2 the API refused, 1 failures; 75 when nothing was decided and only waiting (a key, a retry, the budget) would help. */
export function selectExitCode(r: SelectResult): number {
  const code = r.interrupted ? EXIT.INTERRUPTED : r.api_refused ? EXIT.USAGE : r.failed > 0 ? EXIT.JOBS_FAILED : EXIT.OK
  const undecided = r.selected + r.no_candidates === 0
  if (code === EXIT.OK && undecided && (r.needs_api_key > 0 || r.waiting_for_retry > 0 || r.stopped_by_budget)) return EXIT.TRY_LATER
  return code
}

/** The typed result, its lines and its exit code. */
export function selectSummary(summary: PoolSummary<AnimeOutcome>, budget: SelectionBudget, totalSpentUsd: number): ServiceResult<SelectResult> {
  const result = selectResult(summary, budget, totalSpentUsd)
  return {code: selectExitCode(result), result, text: selectSummaryText(result, budget.maxCost)}
}
