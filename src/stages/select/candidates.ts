import type {AnimeRow} from '../../queue/rows.js'
import type {Candidate} from '../../queue/selections.js'
import {type AniCli, SINGLE_RESULT_TEXT} from './ani-cli.js'
import {searchQueries} from './decide.js'

/** What ani-cli listed for an anime: the query that found something and its candidates. */
export interface Listed {
  query: string
  candidates: Candidate[]
}

/** No query found anything: ani-cli's last message and the queries tried. */
export interface Unlisted {
  none: string
  queries: string[]
}

/** Candidates for an anime: the first of its titles that finds anything, with episode counts read for the first few. */
export async function listCandidates(ani: AniCli, anime: AnimeRow, probe: number, signal?: AbortSignal): Promise<Listed | Unlisted> {
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
