import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX, stageFlags} from '../cli/base-command.js'
import type {StageIdle, StagePlan} from '../runner/stage.js'
import type {AnalyzePlan, AnalyzeResult} from '../stages/analyze/stage.js'

export default class Analyze extends BaseCommand<typeof Analyze, AnalyzeResult | AnalyzePlan | StagePlan | StageIdle> {
  static override summary = "Fit Zipf's law per anime, genre, studio and overall; write CSV/JSON, HTML plots and a report"
  static override description = `For every anime whose episodes are all tokenized (--partial: also those with episodes still on their way),
aggregates the episodes' word frequencies and fits: log-log least squares (as the original design), the discrete power law
by maximum likelihood (Clauset, Shalizi & Newman: α, s = 1/(α−1), xmin by KS distance, standard error, optional bootstrap
p-value, Vuong test against a lognormal), Zipf–Mandelbrot, Heaps' law and coverage. Then rebuilds the corpus-wide lists, the
per-genre and per-studio fits, analysis/aggregated/comparison.html and analysis/reports/final_report.html. Anime whose inputs did not change are not recomputed.`
  static override examples = [
    '<%= config.bin %> analyze',
    '<%= config.bin %> analyze --anime-id 5114 --bootstrap 500',
    '<%= config.bin %> analyze --partial --json',
  ]

  static override flags = {
    limit: stageFlags.limit,
    'anime-id': stageFlags['anime-id'],
    'dry-run': stageFlags['dry-run'],
    partial: Flags.boolean({description: 'also analyze anime with episodes still pending (marked partial)', default: false}),
    bootstrap: Flags.integer({
      description: 'bootstrap replicates for the power-law goodness-of-fit p-value (0: skip; at most 10000)',
      default: 0,
      min: 0,
      max: 10_000,
    }),
    seed: Flags.integer({description: 'seed of the bootstrap (runs are reproducible; 0 to 4294967295)', default: 1, min: 0, max: 0xffff_ffff}),
    'min-count': Flags.integer({description: 'leave words seen fewer times out of the fits', default: 1, min: 1, max: FLAG_MAX.count}),
    force: Flags.boolean({description: 'recompute every anime, changed or not', default: false}),
  }

  public async run(): Promise<void> {
    const {analyze} = await import('../stages/analyze/stage.js')
    const r = await analyze(this.context(), {
      malId: this.flags['anime-id'],
      limit: this.flags.limit,
      partial: this.flags.partial,
      bootstrap: this.flags.bootstrap,
      seed: this.flags.seed,
      minCount: this.flags['min-count'],
      force: this.flags.force,
      dryRun: this.flags['dry-run'],
    })
    this.finish(r)
  }
}
