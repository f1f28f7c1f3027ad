import type {Queue} from '../../queue/index.js'
import type {AnimeRow} from '../../queue/rows.js'
import {SELECT_STAGE} from '../../queue/stages.js'
import type {Unit, UnitSource} from '../../runner/units.js'
import {animeIdLabel} from '../../queue/anime.js'

export interface AnimeToSelect extends Unit {
  anime: AnimeRow
}

/**
 * select's units: one anime each, under a lease in run_locks (its jobs stay 'queued'). The decision
 * is stored by the handler, fenced by that lease; settling the unit lets the lease go.
 */
export function selectUnits(
  queue: Queue,
  filter: {malId?: number | undefined; redoBefore?: string | undefined},
  onAttempt: (anime: AnimeRow, error: string, transient: boolean) => Promise<void>,
): UnitSource<AnimeToSelect> {
  const s = queue.selections
  // one pass in MyAnimeList id order: an anime this run left undecided (no key, no results yet,
  // the budget) is not claimed again by the same run
  let after = 0
  return {
    stage: SELECT_STAGE,
    claim: async (owner, leaseMs) => {
      const anime = await s.claim(owner, leaseMs, {...filter, after})
      if (anime) after = Math.max(after, anime.mal_id)
      return anime ? {anime, jobs: [], currentJobId: null, label: `${anime.title} (${animeIdLabel(anime.mal_id)})`} : undefined
    },
    extend: (u, owner, leaseMs) => s.extend(u.anime.mal_id, owner, leaseMs),
    finish: (u, owner) => s.release(u.anime.mal_id, owner),
    fail: async (u, owner, message, transient) => {
      await onAttempt(u.anime, message, transient)
      return (await s.release(u.anime.mal_id, owner)) ? (transient ? 'retry' : 'failed') : 'lost'
    },
    release: async (u, owner) => ((await s.release(u.anime.mal_id, owner)) ? 1 : 0),
    defer: async (u, owner) => ((await s.release(u.anime.mal_id, owner)) ? 1 : 0),
    note: async () => {},
  }
}
