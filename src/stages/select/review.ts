import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, UserError} from '../../errors.js'
import type {Candidate, Decision, SelectionRow} from '../../queue/selections.js'
import {describeDecision, manualDecision} from './decide.js'
import {animeIdLabel} from '../../queue/anime.js'

/** One selection to look at, with the candidates it was chosen from. */
export type SelectionToReview = SelectionRow & {candidates: Candidate[]}

/** `select --review --json`. */
export interface ReviewResult {
  review: SelectionToReview[]
}

/** `select --set MAL_ID INDEX --json`: the decision stored. */
export interface SetSelectionResult {
  selection: Decision
}

/** `select --review`: what a person should look at, with the candidates it was chosen from. Changes nothing. */
export async function reviewSelections(ctx: AppContext, malId?: number): Promise<ServiceResult<ReviewResult>> {
  const queue = await ctx.queue({readonly: true})
  const rows = await queue.selections.forReview(malId)
  const items: SelectionToReview[] = []
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
      `  ${r.anime_title} (${animeIdLabel(r.mal_id)}, ${r.mal_episodes ?? '?'} episodes): ${r.confidence}${r.episode_match ? `, episodes ${r.episode_match}` : ''}: ${r.reason ?? ''}`,
    )
    for (const c of candidates)
      text.push(`    ${c.idx === r.selected_index ? '*' : ' '} ${String(c.idx).padStart(2)}. ${c.text} (${c.episodes ?? '?'} episodes)`)
  }
  if (rows.length > 0) text.push('  choose another with `animezipf select --set MAL_ID INDEX`')
  return {code: EXIT.OK, result: {review: items}, text}
}

/** `select --set MAL_ID INDEX`: a person's choice among the stored candidates. */
export async function setSelection(ctx: AppContext, malId: number, index: number): Promise<ServiceResult<SetSelectionResult>> {
  const queue = await ctx.queue()
  const anime = await queue.anime.byMalId(malId)
  if (!anime) throw new UserError(`no anime with MyAnimeList id ${malId} in the queue`, 'see `animezipf status` for the anime there are')
  const query = await queue.selections.lastQuery(malId)
  const candidates = query ? await queue.selections.candidates(malId, query) : []
  if (!query || candidates.length === 0)
    throw new UserError(`anime ${malId} has no stored candidates`, `run \`animezipf select --anime-id ${malId}\` first to list them`)
  const c = candidates.find((x) => x.idx === index)
  if (!c)
    throw new UserError(
      `anime ${malId} has no candidate ${index}`,
      `choose one of ${candidates.map((x) => x.idx).join(', ')} (see \`animezipf select --review --anime-id ${malId}\`)`,
    )
  const d = manualDecision(anime, query, c)
  await queue.selections.record(d)
  return {code: EXIT.OK, result: {selection: d}, text: [`select: ${anime.title} (${animeIdLabel(malId)}) -> ${describeDecision(d)}`]}
}
