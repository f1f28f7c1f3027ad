import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, UserError, errorMessage} from '../../errors.js'
import {sqlTime} from '../../queue/clock.js'
import type {AnimeRow} from '../../queue/rows.js'
import type {Candidate, Decision} from '../../queue/selections.js'
import {SELECT_STAGE} from '../../queue/stages.js'
import {runPool} from '../../runner/pool.js'
import {recoverExpired} from '../../runner/stage.js'
import {AniCli, SINGLE_RESULT_TEXT, checkMenuHook, resolveAniCli} from './ani-cli.js'
import {type SelectionModel, selectionPrompt} from './claude.js'
import {failedModelDecision, manualDecision, modelDecision, noCandidatesDecision, ruleDecision, searchQueries} from './decide.js'
import {type AnimeToSelect, selectUnits} from './units.js'

export interface SelectOptions {
  workers?: number | undefined
  limit?: number | undefined
  malId?: number | undefined
  force: boolean
  dryRun: boolean
  maxCost?: number | undefined
  /** Makes the model client when a key is there; undefined without ANTHROPIC_API_KEY. */
  model?: SelectionModel | undefined
}

type Outcome = 'rule' | 'model' | 'model_unusable' | 'no_candidates' | 'no_results_retry' | 'needs_key' | 'budget' | 'api_refused' | 'lost'

interface AnimeOutcome {
  mal_id: number
  title: string
  outcome: Outcome
  index?: number
  selected?: string
  confidence?: string
  episode_match?: string | null
  calls: number
  cost_usd: number
}

export {SINGLE_RESULT_TEXT}

const NEEDS_KEY_HINT = 'set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a proxy) to let Claude choose among the ambiguous ones'

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

/** Candidates for an anime: the first of its titles that finds anything, with episode counts read for the first few. */
async function listCandidates(
  ani: AniCli,
  anime: AnimeRow,
  probe: number,
  signal?: AbortSignal,
): Promise<{query: string; candidates: Candidate[]} | {none: string; queries: string[]}> {
  const queries = searchQueries(anime)
  let message = 'No results found!'
  for (const query of queries) {
    const r = await ani.search(query, signal)
    if (r.kind === 'none') {
      message = r.message
      continue
    }
    // ani-cli shows no title for a lone result: it is never taken for a title match
    const candidates: Candidate[] =
      r.kind === 'single' ? [{idx: 1, text: SINGLE_RESULT_TEXT, episodes: r.episodes, single: true}] : r.titles.map((t) => ({...t, single: false}))
    for (const c of candidates.slice(0, probe)) {
      signal?.throwIfAborted()
      if (c.episodes === null) c.episodes = await ani.episodeCount(query, c.idx, signal)
    }
    return {query, candidates}
  }
  return {none: message, queries}
}

function describe(d: Decision): string {
  if (d.confidence === 'no_candidates') return 'no candidates'
  return `#${d.selected_index} "${d.selected_title}" (${d.confidence}, ${d.method}${d.selected_episodes !== null ? `, ${d.selected_episodes} episodes, ${d.episode_match}` : ''})`
}

/** `animezipf select`: one decision per anime, stored for download. */
export async function select(ctx: AppContext, options: SelectOptions): Promise<ServiceResult> {
  const {config, output} = ctx
  const ani = new AniCli({path: resolveAniCli(ctx), timeoutMs: config.ani_cli.search_timeout_seconds * 1000, workRoot: ctx.paths.workRoot})
  checkMenuHook()
  const probe = config.select.max_candidates_probed
  const workers = options.workers ?? config.select.workers
  if (options.dryRun) return dryRun(ctx, ani, options, probe)

  const queue = await ctx.queue()
  await recoverExpired(ctx, queue)
  const runStart = sqlTime(ctx.clock.now())
  // spending of this run, with the worst case of calls in flight reserved (workers run at once)
  let spent = 0
  let budgetHit = false
  let refused: string | undefined
  const backoff = ctx.backoff
  const onAttempt = async (anime: AnimeRow, error: string) => {
    await queue.selections.recordAttempt(anime.mal_id, error, false, backoff)
  }

  const summary = await runPool<AnimeOutcome, AnimeToSelect>({
    queue,
    stage: SELECT_STAGE,
    unit: selectUnits(queue, {malId: options.malId, redoBefore: options.force ? runStart : undefined}, onAttempt),
    workers,
    limit: options.limit,
    leaseMs: ctx.leaseMs,
    graceMs: config.queue.shutdown_grace_seconds * 1000,
    backoff,
    output,
    gate: async () => (budgetHit || refused ? 'stop' : 'claim'),
    handler: async (lease) => {
      const anime = lease.unit.anime
      const result = (outcome: Outcome, d?: Decision, calls = 0, cost = 0): {message: string; record: AnimeOutcome} => ({
        message: d ? describe(d) : outcome.replaceAll('_', ' '),
        record: {
          mal_id: anime.mal_id,
          title: anime.title,
          outcome,
          index: d?.selected_index,
          selected: d?.selected_title,
          confidence: d?.confidence,
          episode_match: d?.episode_match,
          calls,
          cost_usd: cost,
        },
      })
      const store = async (outcome: Outcome, d: Decision, calls = 0, cost = 0) =>
        (await queue.selections.record(d, lease.owner)) ? result(outcome, d, calls, cost) : result('lost', d, calls, cost)

      const listed = await listCandidates(ani, anime, probe, lease.signal)
      if ('none' in listed) {
        // "No results found!" is also what an outage looks like: only repeated runs make it final
        const a = await queue.selections.recordAttempt(anime.mal_id, `ani-cli: ${listed.none}`, true, backoff)
        if (a.noResults < config.select.no_results_confirmations) return result('no_results_retry')
        return store('no_candidates', noCandidatesDecision(anime, listed.queries, listed.none))
      }
      const {query, candidates} = listed
      await queue.selections.saveCandidates(anime.mal_id, query, candidates)
      const rule = ruleDecision(anime, query, candidates)
      if (rule) return store('rule', rule)

      const model = options.model
      if (!model) return result('needs_key')
      const prompt = selectionPrompt(anime, query, candidates)
      let calls = 0
      let cost = 0
      let problem = ''
      for (let attempt = 1; attempt <= 2; attempt++) {
        lease.signal.throwIfAborted()
        const reserve = model.worstCaseCost(prompt)
        if (budgetHit || (options.maxCost !== undefined && spent + reserve > options.maxCost)) {
          budgetHit = true
          return result('budget', undefined, calls, cost)
        }
        if (refused) return result('api_refused', undefined, calls, cost)
        spent += reserve
        let call
        try {
          call = await model.choose(prompt, candidates, lease.signal)
        } catch (error) {
          spent -= reserve
          // a refused key, a forbidden or unknown model, a refused request: every call fails the same way, stop asking
          const status = (error as {status?: number}).status
          if (status === 400 || status === 401 || status === 403 || status === 404) {
            refused = `the Anthropic API refused the request (${status} ${apiErrorType(error)}): check ANTHROPIC_API_KEY, the account and [select] model`
            return result('api_refused', undefined, calls, cost)
          }
          throw new Error(redact(`Anthropic API: ${status ?? ''} ${apiErrorType(error)}: ${errorMessage(error).slice(0, 200)}`))
        }
        spent += call.costUsd - reserve
        calls++
        cost += call.costUsd
        await queue.selections.recordUsage(anime.mal_id, model.settings.model, call.inputTokens, call.outputTokens, call.costUsd)
        if (call.answer) return store('model', modelDecision(anime, query, candidates, call.answer, model.settings.model, calls, cost), calls, cost)
        problem = call.problem ?? 'unusable answer'
        await lease.note(`model answer unusable: ${problem}`)
      }
      return store('model_unusable', failedModelDecision(anime, query, candidates, problem, model.settings.model, calls, cost), calls, cost)
    },
  })

  const outcomes = summary.records
  const count = (...o: Outcome[]) => outcomes.filter((x) => o.includes(x.outcome)).length
  const selected = count('rule', 'model', 'model_unusable')
  const calls = outcomes.reduce((n, o) => n + o.calls, 0)
  const cost = outcomes.reduce((n, o) => n + o.cost_usd, 0)
  const spending = await queue.selections.spending()
  const result = {
    selected,
    without_call: count('rule'),
    with_call: count('model', 'model_unusable'),
    no_candidates: count('no_candidates'),
    waiting_for_retry: count('no_results_retry') + summary.retried,
    needs_api_key: count('needs_key'),
    stopped_by_budget: budgetHit,
    api_refused: refused ?? null,
    failed: summary.failed,
    interrupted: summary.interrupted,
    api: {
      calls,
      cost_usd: cost,
      calls_per_selected_anime: selected > 0 ? calls / selected : 0,
      usd_per_1000_anime: selected > 0 ? (cost / selected) * 1000 : 0,
      total_spent_usd: spending.cost_usd,
    },
    anime: outcomes,
    failures: summary.failures,
  }
  const text = [
    `select: ${selected} selected (${result.without_call} without a call, ${result.with_call} with one), ${result.no_candidates} without candidates, ${result.waiting_for_retry} to retry later` +
      `${result.needs_api_key ? `, ${result.needs_api_key} need the model` : ''}${summary.failed ? `, ${summary.failed} failed` : ''}`,
    `  API: ${calls} call(s), $${cost.toFixed(4)} this run (${result.api.calls_per_selected_anime.toFixed(2)} calls per selected anime, $${result.api.usd_per_1000_anime.toFixed(2)} per 1,000 anime); $${spending.cost_usd.toFixed(4)} in all`,
  ]
  for (const o of outcomes.filter((x) => x.outcome !== 'rule' && x.outcome !== 'model'))
    text.push(`  ${o.title} (MAL ${o.mal_id}): ${o.outcome.replaceAll('_', ' ')}`)
  for (const f of summary.failures) text.push(`  failed: ${f.label}: ${f.error}`)
  if (result.needs_api_key) text.push(`  ${result.needs_api_key} anime are ambiguous and were left unselected: ${NEEDS_KEY_HINT}`)
  if (refused) text.push(`  ${refused}; nothing more was asked in this run`)
  if (budgetHit) text.push(`  stopped before a call that could pass --max-cost $${options.maxCost}; run again with a higher budget to go on`)
  if (result.with_call + result.no_candidates > 0) text.push('  see `animezipf select --review` for the low-confidence ones')
  let code: number = summary.interrupted ? EXIT.INTERRUPTED : refused ? EXIT.USAGE : summary.failed > 0 ? EXIT.JOBS_FAILED : EXIT.OK
  if (code === EXIT.OK && selected + result.no_candidates === 0 && (result.needs_api_key > 0 || result.waiting_for_retry > 0 || budgetHit))
    code = EXIT.TRY_LATER
  return {code, result, text}
}

/** --dry-run: the candidates ani-cli lists now and whether a call would be made; nothing is written, no API call. */
async function dryRun(ctx: AppContext, ani: AniCli, options: SelectOptions, probe: number): Promise<ServiceResult> {
  const queue = await ctx.queue({readonly: true})
  const pending = await queue.selections.pending({malId: options.malId, limit: options.limit ?? 1_000_000, force: options.force})
  const plan = []
  const text = [`dry run: ${pending.length} anime to select; nothing is written and no API call is made`]
  for (const anime of pending) {
    try {
      const listed = await listCandidates(ani, anime, probe)
      if ('none' in listed) {
        plan.push({mal_id: anime.mal_id, title: anime.title, queries: listed.queries, candidates: [], action: 'no results: retry later'})
        text.push(`  ${anime.title} (MAL ${anime.mal_id}): no results for ${listed.queries.map((q) => JSON.stringify(q)).join(', ')}`)
        continue
      }
      const rule = ruleDecision(anime, listed.query, listed.candidates)
      const action = rule ? `select #${rule.selected_index} without a call` : options.model ? 'ask the model' : 'needs the model (no ANTHROPIC_API_KEY)'
      plan.push({mal_id: anime.mal_id, title: anime.title, query: listed.query, candidates: listed.candidates, action})
      text.push(`  ${anime.title} (MAL ${anime.mal_id}): ${action}`)
      for (const c of listed.candidates) text.push(`     ${String(c.idx).padStart(2)}. ${c.text} (${c.episodes ?? '?'} episodes)`)
    } catch (error) {
      plan.push({mal_id: anime.mal_id, title: anime.title, candidates: [], action: `error: ${errorMessage(error)}`})
      text.push(`  ${anime.title} (MAL ${anime.mal_id}): ${errorMessage(error)}`)
    }
  }
  return {code: EXIT.OK, result: {dry_run: true, anime: plan}, text}
}

/** `select --review`: what a person should look at, with the candidates it was chosen from. Changes nothing. */
export async function reviewSelections(ctx: AppContext, malId?: number): Promise<ServiceResult> {
  const queue = await ctx.queue({readonly: true})
  const rows = await queue.selections.forReview(malId)
  const items = []
  const text = [
    rows.length === 0
      ? 'select --review: nothing to review (every selection is high confidence with a matching episode count)'
      : `select --review: ${rows.length} selection(s) to look at`,
  ]
  for (const r of rows) {
    // the list the decision was made from (a later run may have listed another query)
    const candidates = await queue.selections.candidates(r.mal_id, r.search_query)
    items.push({...r, candidates})
    text.push(
      `  ${r.anime_title} (MAL ${r.mal_id}, ${r.mal_episodes ?? '?'} episodes): ${r.confidence}${r.episode_match ? `, episodes ${r.episode_match}` : ''}: ${r.reason ?? ''}`,
    )
    for (const c of candidates)
      text.push(`    ${c.idx === r.selected_index ? '*' : ' '} ${String(c.idx).padStart(2)}. ${c.text} (${c.episodes ?? '?'} episodes)`)
  }
  if (rows.length > 0) text.push('  choose another with `animezipf select --set MAL_ID INDEX`')
  return {code: EXIT.OK, result: {review: items}, text}
}

/** `select --set MAL_ID INDEX`: a person's choice among the stored candidates. */
export async function setSelection(ctx: AppContext, malId: number, index: number): Promise<ServiceResult> {
  const queue = await ctx.queue()
  const anime = await queue.anime.byMalId(malId)
  if (!anime) throw new UserError(`no anime with MyAnimeList id ${malId} in the queue`, 'see `animezipf status` for the anime there are')
  const query = await queue.selections.lastQuery(malId)
  const candidates = query ? await queue.selections.candidates(malId, query) : []
  if (candidates.length === 0) throw new UserError(`anime ${malId} has no stored candidates`, `run \`animezipf select --anime-id ${malId}\` first to list them`)
  const c = candidates.find((x) => x.idx === index)
  if (!c)
    throw new UserError(
      `anime ${malId} has no candidate ${index}`,
      `choose one of ${candidates.map((x) => x.idx).join(', ')} (see \`animezipf select --review --anime-id ${malId}\`)`,
    )
  const d = manualDecision(anime, query!, c)
  await queue.selections.record(d)
  return {code: EXIT.OK, result: {selection: d}, text: [`select: ${anime.title} (MAL ${malId}) -> ${describe(d)}`]}
}
