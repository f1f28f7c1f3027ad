import type {Output} from '../../app/output.js'
import {StopRunError} from '../../errors.js'
import type {Queue} from '../../queue/index.js'
import type {SelectionRow} from '../../queue/selections.js'
import type {StageDef} from '../../queue/stages.js'
import {type AniCli, AniCliError} from '../select/ani-cli.js'
import {type IndexCheck, findSelected} from './selection.js'
import {animeIdLabel} from '../../queue/anime.js'

/**
 * One check per selection per run that the selected title is still where it was in ani-cli's list,
 * shared by the workers downloading its episodes. Keyed by what was selected, so a selection
 * changed during the run (select --set) is checked on its own; a failed check (an outage) is tried
 * again by the next episode.
 */
export class IndexChecks {
  private readonly checks = new Map<string, Promise<IndexCheck>>()

  constructor(
    private readonly ani: AniCli,
    private readonly queue: Queue,
    private readonly stage: StageDef,
    private readonly output: Pick<Output, 'log'>,
  ) {}

  forSelection(sel: SelectionRow, signal: AbortSignal): Promise<IndexCheck> {
    const key = JSON.stringify([sel.mal_id, sel.search_query, sel.selected_index, sel.selected_title])
    let p = this.checks.get(key)
    if (!p) {
      p = this.check(sel, signal)
      this.checks.set(key, p)
      p.catch(() => this.checks.delete(key))
    }
    return p
  }

  private async check(sel: SelectionRow, signal: AbortSignal): Promise<IndexCheck> {
    let found: IndexCheck
    try {
      found = await findSelected(this.ani, sel, signal)
    } catch (error) {
      // ani-cli answered in a way we cannot read (another version?): no episode would do better
      if (error instanceof AniCliError && !error.transient) throw new StopRunError(error.message, 'check that [ani_cli] path is ani-cli 5.x')
      throw error
    }
    const who = `${sel.anime_title} (${animeIdLabel(sel.mal_id)})`
    if (found.kind === 'found') {
      await this.queue.selections.recordIndexCheck(sel.mal_id, sel.selected_index, found.index)
      if (found.movedFrom !== undefined)
        this.output.log(`${who}: "${sel.selected_title}" moved from #${found.movedFrom} to #${found.index} in ani-cli's list; using #${found.index}`)
    } else {
      // its waiting episodes would all fail the same way; the selection goes to review
      const n = await this.queue.jobs.failWaiting(sel.mal_id, this.stage, found.reason)
      await this.queue.selections.demote(sel.mal_id, sel.selected_index, found.reason)
      this.output.log(`${who}: ${found.reason} (${n} waiting episode(s) failed; the selection is listed by \`animezipf select --review\`)`)
    }
    return found
  }
}
