import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX, stageFlags} from '../cli/base-command.js'
import {UserError} from '../errors.js'
import type {StageIdle, StagePlan} from '../runner/stage.js'
import type {ReviewResult, SetSelectionResult} from '../stages/select/review.js'
import type {SelectPlan, SelectResult} from '../stages/select/stage.js'

/** A budget past this is a typo (or meant as no budget at all). */
const MAX_COST_USD = 1_000_000

export default class Select extends BaseCommand<typeof Select, SelectResult | SelectPlan | StagePlan | StageIdle | ReviewResult | SetSelectionResult> {
  static override summary = 'Pick, for every anime, the show ani-cli finds that is the one MyAnimeList describes (Claude only where it is ambiguous)'
  static override description = `For each anime with episodes to download: the candidates the installed ani-cli lists for its title (then its
English title and synonyms when a query finds nothing), with the episode count ani-cli shows for the first few. When
exactly one candidate has the anime's title and MyAnimeList's episode count it is selected without any API call;
otherwise Claude chooses (ANTHROPIC_API_KEY; ANTHROPIC_BASE_URL for a proxy), its answer forced through a tool schema.
Every candidate list, decision, token and dollar is kept in the queue; download uses the decisions.`
  static override examples = [
    '<%= config.bin %> select',
    '<%= config.bin %> select --anime-id 5114 --dry-run',
    '<%= config.bin %> select --max-cost 0.50',
    '<%= config.bin %> select --review',
    '<%= config.bin %> select --set 5114 2',
  ]

  static override flags = {
    workers: Flags.integer({char: 'w', description: 'anime selected at once (default [select] workers)', min: 1, max: FLAG_MAX.workers, helpGroup: 'STAGE'}),
    limit: Flags.integer({description: 'select at most this many anime in this run', min: 1, max: FLAG_MAX.count, helpGroup: 'STAGE'}),
    'anime-id': stageFlags['anime-id'],
    'dry-run': Flags.boolean({
      description: 'list the candidates and whether a call would be made; no API call, nothing written',
      default: false,
      helpGroup: 'STAGE',
    }),
    force: Flags.boolean({description: 'select again anime already selected (manual choices are kept)', default: false}),
    'max-cost': Flags.string({description: 'stop before a call that could take this run past this many US dollars'}),
    review: Flags.boolean({
      description: 'list low/medium-confidence selections, episode mismatches and anime without candidates; changes nothing',
      default: false,
      exclusive: ['set', 'dry-run', 'force'],
    }),
    set: Flags.integer({
      description: 'record a manual choice: --set MAL_ID INDEX',
      multiple: true,
      min: 0,
      max: FLAG_MAX.id,
      exclusive: ['review', 'dry-run', 'force', 'max-cost'],
    }),
  }

  public async run(): Promise<void> {
    const ctx = this.context()
    if (this.flags.set) {
      if (this.flags.set.length !== 2)
        throw new UserError('--set takes two numbers: the MyAnimeList id and the candidate index', 'e.g. animezipf select --set 5114 2')
      const {setSelection} = await import('../stages/select/review.js')
      this.finish(await setSelection(ctx, this.flags.set[0]!, this.flags.set[1]!))
      return
    }
    if (this.flags.review) {
      const {reviewSelections} = await import('../stages/select/review.js')
      this.finish(await reviewSelections(ctx, this.flags['anime-id']))
      return
    }
    const raw = this.flags['max-cost']
    const maxCost = raw === undefined ? undefined : /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN
    if (maxCost !== undefined && !Number.isFinite(maxCost))
      throw new UserError(`--max-cost ${JSON.stringify(this.flags['max-cost'])} is not an amount of dollars`, 'e.g. --max-cost 0.50')
    if (maxCost !== undefined && maxCost > MAX_COST_USD)
      throw new UserError(`--max-cost ${maxCost} is more than $${MAX_COST_USD}`, 'leave --max-cost out for no budget, or give a real one such as 5')
    const {select} = await import('../stages/select/stage.js')
    this.finish(
      await select(ctx, {
        workers: this.flags.workers,
        limit: this.flags.limit,
        malId: this.flags['anime-id'],
        force: this.flags.force,
        dryRun: this.flags['dry-run'],
        maxCost,
      }),
    )
  }
}
