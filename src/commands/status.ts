import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX} from '../cli/base-command.js'
import {type StatusView, showStatus, watchStatus} from '../status/show.js'

export default class Status extends BaseCommand<typeof Status, StatusView> {
  static override summary = 'Show the queue: jobs per stage, progress per anime, failures, running jobs, disk, throughput, workers'
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --anime-id 5114',
    '<%= config.bin %> status --job 42',
    '<%= config.bin %> status --json | jq .jobs.by_stage',
    '<%= config.bin %> status --watch 5',
  ]

  static override flags = {
    'anime-id': Flags.integer({description: 'only this anime (MyAnimeList id)', min: 1, max: FLAG_MAX.id}),
    job: Flags.integer({description: 'one job with its whole event history', min: 1, max: FLAG_MAX.id}),
    top: Flags.integer({description: 'how many anime to list', default: 10, min: 1, max: 100_000}),
    watch: Flags.integer({description: 'redraw every N seconds until Ctrl-C (at most a day)', min: 1, max: 86_400}),
  }

  public async run(): Promise<void> {
    const ctx = this.context()
    const options = {malId: this.flags['anime-id'], jobId: this.flags.job, top: this.flags.top}
    if (this.flags.watch) this.done(await watchStatus(ctx, {...options, watchSeconds: this.flags.watch}))
    else this.finish(await showStatus(ctx, options))
  }
}
