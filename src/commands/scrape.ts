import {Flags} from '@oclif/core'

import {BaseCommand, stageFlags} from '../cli/base-command.js'
import type {ScrapeResult} from '../stages/scrape/run.js'

export default class Scrape extends BaseCommand<typeof Scrape, ScrapeResult> {
  static override summary = 'Find the top anime of every MyAnimeList genre, theme, demographic and studio (Jikan API); one job per episode'
  static override description = `Reads the category lists, then the top N anime of each (by score unless [scrape] order_by says otherwise),
deduplicated across pages, categories and runs. Stores every anime's metadata (database and metadata/<mal_id>.json),
which categories it came from and at what rank, and enqueues one job per episode. Every response is cached in
data/cache/mal_cache/, so a second run (or one after Ctrl-C) makes no request for what it already read.`
  static override examples = [
    '<%= config.bin %> scrape --limit 10',
    '<%= config.bin %> scrape --category genre:Action --category studio:Bones',
    '<%= config.bin %> scrape --anime-id 5114',
    '<%= config.bin %> scrape --dry-run --json',
  ]

  static override flags = {
    limit: Flags.integer({description: 'top N anime per category (overrides [scrape] top_n)', min: 1, max: 100_000}),
    category: Flags.string({description: 'only this category, KIND:NAME (genre, theme, demographic, studio); repeatable', multiple: true, default: []}),
    'anime-id': stageFlags['anime-id'],
    refresh: Flags.boolean({description: 'ignore cached responses (and refresh the cache)', default: false}),
    'dry-run': stageFlags['dry-run'],
  }

  public async run(): Promise<void> {
    const {scrape} = await import('../stages/scrape/run.js')
    const r = await scrape(this.context(), {
      limit: this.flags.limit,
      categories: this.flags.category,
      malId: this.flags['anime-id'],
      refresh: this.flags.refresh,
      dryRun: this.flags['dry-run'],
    })
    this.finish(r)
  }
}
