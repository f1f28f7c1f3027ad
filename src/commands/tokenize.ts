import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX, stageFlags} from '../cli/base-command.js'
import type {StageIdle, StagePlan} from '../runner/stage.js'
import type {TokenizeResult} from '../stages/tokenize/stage.js'

export default class Tokenize extends BaseCommand<typeof Tokenize, TokenizeResult | StagePlan | StageIdle> {
  static override summary = 'Tokenize transcripts with kuromoji (IPADIC) into tokens and per-episode word frequencies'
  static override description = `Claims jobs in 'transcribed', cleans the text (speaker labels, sound notes, music marks, ruby readings, width),
tokenizes it in worker threads (one kuromoji dictionary per thread, about 0.6–1.5 s and 300–400 MB each) and writes
tokens/<mal_id>/epNNN_tokens.json(.gz) and epNNN_freq.csv. Jobs move to 'tokenized'.`
  static override examples = [
    '<%= config.bin %> tokenize',
    '<%= config.bin %> tokenize --workers 2 --anime-id 5114',
    '<%= config.bin %> tokenize --force --anime-id 5114   # after changing [tokenize.cleaning]',
    '<%= config.bin %> tokenize --dry-run',
  ]

  static override flags = {
    ...stageFlags,
    workers: Flags.integer({
      char: 'w',
      description: 'jobs run at once (0: one per core, like [processing] max_concurrent_tokenizations = 0)',
      min: 0,
      max: FLAG_MAX.workers,
      helpGroup: 'STAGE',
    }),
    force: Flags.boolean({description: 're-tokenize episodes already tokenized (after a change of cleaning rules)', default: false}),
  }

  public async run(): Promise<void> {
    const {tokenize} = await import('../stages/tokenize/stage.js')
    const r = await tokenize(this.context(), {
      workers: this.flags.workers,
      limit: this.flags.limit,
      malId: this.flags['anime-id'],
      dryRun: this.flags['dry-run'],
      force: this.flags.force,
    })
    this.finish(r)
  }
}
