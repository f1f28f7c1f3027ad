import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {EPISODE_RANGE, YEAR_RANGE} from '../stages/import/ranges.js'
import type {ImportResult} from '../stages/import/run.js'

export default class Import extends BaseCommand<typeof Import, ImportResult> {
  static override summary = 'Register existing Japanese subtitle files (.srt, .ass/.ssa, .vtt, .txt) as transcripts'
  static override description = `Each file becomes one episode's transcript (times kept, ASS tags and drawings removed, duplicate
overlapping cues merged) and a job in 'transcribed', ready for \`animezipf tokenize\`. Episodes are numbered by
the number in each file name (ep01, E01, " - 01", 第1話), or in name order from --episode-from. Files that are
not Japanese subtitles are reported and skipped; the rest are imported. Importing the same files again does nothing.`
  static override strict = false
  static override args = {
    paths: Args.string({description: 'subtitle files or folders holding them', required: true}),
  }
  static override examples = [
    '<%= config.bin %> import subs/*.srt --mal-id 5114',
    '<%= config.bin %> import "My Show/" --title "My Show" --genre Drama --studio "Studio X"',
    '<%= config.bin %> import ep*.ass --title "My Show" --episode-from 13',
  ]

  static override flags = {
    'mal-id': Flags.integer({description: 'MyAnimeList id of the anime', exclusive: []}),
    title: Flags.string({description: 'title (used, with a local id, when there is no MyAnimeList id)'}),
    'episode-from': Flags.integer({
      description: `number the files in order from this episode (${EPISODE_RANGE.min} to ${EPISODE_RANGE.max})`,
      ...EPISODE_RANGE,
    }),
    genre: Flags.string({description: 'a genre of the anime (repeatable)', multiple: true, default: []}),
    studio: Flags.string({description: 'a studio of the anime (repeatable)', multiple: true, default: []}),
    year: Flags.integer({description: `year the anime aired (${YEAR_RANGE.min} to ${YEAR_RANGE.max})`, ...YEAR_RANGE}),
    'dry-run': Flags.boolean({description: 'show what would be imported; change nothing', default: false}),
    'allow-duplicate': Flags.boolean({
      description: 'import a file even when the same text was imported before (under another title or episode)',
      default: false,
    }),
  }

  public async run(): Promise<void> {
    const {argv} = await this.parse(Import)
    const {importSubtitles} = await import('../stages/import/run.js')
    const {animeLookup} = await import('../stages/scrape/run.js')
    const ctx = this.context()
    const r = await importSubtitles(ctx, {
      lookup: animeLookup(ctx, this.flags['dry-run']),
      paths: argv as string[],
      malId: this.flags['mal-id'],
      title: this.flags.title,
      episodeFrom: this.flags['episode-from'],
      genres: this.flags.genre,
      studios: this.flags.studio,
      year: this.flags.year,
      dryRun: this.flags['dry-run'],
      allowDuplicate: this.flags['allow-duplicate'],
    })
    this.finish(r)
  }
}
