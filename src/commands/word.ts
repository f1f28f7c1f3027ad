import {Args, Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX} from '../cli/base-command.js'
import type {WordResult} from '../stages/analyze/word.js'

export default class Word extends BaseCommand<typeof Word, WordResult> {
  static override summary = 'Look a word up: its rank and count overall and per anime, genre and studio, and lines where it is said'
  static override description = `Reads the frequency lists that analyze wrote (for ranks and counts) and the tokens files (for the lines, with the
episode and the time). A surface form (食べた) finds its base form (食べる) too.`
  static override examples = ['<%= config.bin %> word 食べる', '<%= config.bin %> word 先輩 --lines 20 --json', '<%= config.bin %> word の --anime-id 5114']
  static override args = {
    word: Args.string({description: 'the word: a base form or a surface form', required: true}),
  }

  static override flags = {
    lines: Flags.integer({description: 'show up to this many lines where it is said', default: 10, min: 0, max: 100_000}),
    'anime-id': Flags.integer({description: 'only this anime (MyAnimeList id)', min: 1, max: FLAG_MAX.id}),
  }

  public async run(): Promise<void> {
    const {lookUpWord} = await import('../stages/analyze/word.js')
    this.finish(await lookUpWord(this.context(), {word: this.args.word, lines: this.flags.lines, malId: this.flags['anime-id']}))
  }
}
