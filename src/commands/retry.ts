import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX} from '../cli/base-command.js'
import type {RetryResult, RetryStage} from '../ops/retry.js'

export default class Retry extends BaseCommand<typeof Retry, RetryResult> {
  static override summary = 'Send failed jobs back to the stage that failed (or earlier, when what it needs is gone)'
  static override description = `A transcription failure is transcribed again if its video is still there, and downloaded again only if not;
a tokenize failure goes back to 'transcribed' (or earlier when the transcript is gone); and so on. Jobs that used up
their retries (max_retries) need --force; --reset-count gives them a fresh budget. --stage select lets select try
again the anime whose selection failed or found no candidates. Every revival is in the job's history.`
  static override examples = [
    '<%= config.bin %> retry --dry-run',
    '<%= config.bin %> retry --stage transcribe',
    '<%= config.bin %> retry --anime-id 5114 --force --reset-count',
    '<%= config.bin %> retry --error "No results found"',
    '<%= config.bin %> retry --stage select',
  ]

  static override flags = {
    stage: Flags.string({description: 'only jobs that failed in this stage', options: ['select', 'download', 'transcribe', 'tokenize', 'analyze']}),
    'anime-id': Flags.integer({description: 'only this anime (MyAnimeList id)', min: 1, max: FLAG_MAX.id}),
    error: Flags.string({description: 'only jobs whose error contains this text (any case)'}),
    force: Flags.boolean({description: 'also jobs that used up their retries', default: false}),
    'reset-count': Flags.boolean({description: 'give revived jobs a fresh retry budget', default: false}),
    'dry-run': Flags.boolean({description: 'list what would be revived, and where to; change nothing', default: false}),
  }

  public async run(): Promise<void> {
    const {retry} = await import('../ops/retry.js')
    this.finish(
      await retry(this.context(), {
        stage: this.flags.stage as RetryStage | undefined,
        malId: this.flags['anime-id'],
        error: this.flags.error,
        force: this.flags.force,
        resetCount: this.flags['reset-count'],
        dryRun: this.flags['dry-run'],
      }),
    )
  }
}
