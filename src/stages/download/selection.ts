import type {SelectionRow} from '../../queue/selections.js'
import {AniCliError, type AniCli, SINGLE_RESULT_TEXT} from '../select/ani-cli.js'

/** Where the selected show is in ani-cli's list today. */
export type IndexCheck = {kind: 'found'; index: number; movedFrom?: number} | {kind: 'gone'; reason: string}

/** Confidences download accepts for a `[download] min_confidence` (manual choices are always accepted). */
export function acceptedConfidences(min: string): string[] {
  const order = ['high', 'medium', 'low']
  return order.slice(0, Math.max(1, order.indexOf(min) + 1))
}

/**
 * Search again with the stored query and find the selected title: `-S N` indexes the list ani-cli
 * prints now, which may have changed order since `select` (new seasons appear, the site re-sorts).
 */
export async function findSelected(ani: AniCli, selection: SelectionRow, signal?: AbortSignal): Promise<IndexCheck> {
  const redo = `run \`animezipf select --force --anime-id ${selection.mal_id}\` (or --set ${selection.mal_id} N), then \`animezipf retry --anime-id ${selection.mal_id}\``
  const r = await ani.search(selection.search_query, signal)
  if (r.kind === 'none')
    throw new AniCliError(`ani-cli found nothing for ${JSON.stringify(selection.search_query)} today (${r.message}); an outage looks the same`, true)
  // an airing show gains episodes between select and download: a count at least as high still fits
  const countFits = (n: number | null) =>
    n !== null && selection.selected_episodes !== null && n >= selection.selected_episodes && n <= selection.selected_episodes + 30
  if (selection.selected_title === SINGLE_RESULT_TEXT) {
    if (r.kind === 'single') return {kind: 'found', index: 1}
    // new results joined the one there was (a new season, a movie): its title was never shown, but
    // a menu that shows episode counts can still point at it
    const byCount = r.titles.filter((t) => t.episodes !== null && t.episodes === selection.selected_episodes)
    if (byCount.length === 1) return {kind: 'found', index: byCount[0]!.idx, movedFrom: selection.selected_index}
    return {
      kind: 'gone',
      reason: `the search ${JSON.stringify(selection.search_query)} had one result when selected and lists ${r.titles.length} now; ani-cli never showed that result's title${byCount.length > 1 ? ` and ${byCount.length} of them have its ${selection.selected_episodes} episodes` : ''}, so it cannot be told apart: ${redo}`,
    }
  }
  if (r.kind === 'single') {
    // the list shrank to one result, whose title ani-cli does not show: its episode count must fit
    if (countFits(r.episodes)) return {kind: 'found', index: 1, ...(selection.selected_index !== 1 ? {movedFrom: selection.selected_index} : {})}
    return {
      kind: 'gone',
      reason: `the search ${JSON.stringify(selection.search_query)} now has a single result (${r.episodes} episodes, ${selection.selected_episodes ?? 'an unknown number'} when selected), not provably "${selection.selected_title}": ${redo}`,
    }
  }
  let same = r.titles.filter((t) => t.text === selection.selected_title)
  if (same.length > 1 && selection.selected_episodes !== null) {
    const byCount = same.filter((t) => countFits(t.episodes))
    if (byCount.length >= 1) same = byCount
  }
  // still where it was (among same-titled results, the one with the selected episode count when the menu shows counts)
  if (same.some((t) => t.idx === selection.selected_index)) return {kind: 'found', index: selection.selected_index}
  if (same.length === 1) return {kind: 'found', index: same[0]!.idx, movedFrom: selection.selected_index}
  if (same.length === 0)
    return {kind: 'gone', reason: `"${selection.selected_title}" is no longer in ani-cli's results for ${JSON.stringify(selection.search_query)}: ${redo}`}
  return {
    kind: 'gone',
    reason: `"${selection.selected_title}" now appears ${same.length} times in ani-cli's results for ${JSON.stringify(selection.search_query)} and the one selected cannot be told apart: ${redo}`,
  }
}
