import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {CleanupResult} from '../ops/cleanup.js'

export default class Cleanup extends BaseCommand<typeof Cleanup, CleanupResult> {
  static override summary = 'Recover from crashes and free disk: expired leases, jobs whose input is gone, media of transcribed episodes, temp and orphan files'
  static override description = `Jobs whose lease expired go back to their input stage; a 'downloaded' job whose video is gone goes back to
'queued' (a transcript or tokens file that is gone, likewise to the stage that makes it). Videos and audio of
episodes already transcribed are deleted (as [disk_management.cleanup] says), so are the scratch folders and
interrupted temp files of this host's processes that are gone, and videos and audio no job accounts for (older than
an hour; with --orphans, transcripts and tokens too). Outputs of existing jobs are never touched, nor anything a
live job holds, nor anything at all when the queue is empty: it is safe to run beside the stages. --dry-run lists
every action with its size.`
  static override examples = ['<%= config.bin %> cleanup --dry-run', '<%= config.bin %> cleanup', '<%= config.bin %> cleanup --vacuum']

  static override flags = {
    'dry-run': Flags.boolean({description: 'list every action with its size; change nothing', default: false}),
    orphans: Flags.boolean({
      description: 'also remove transcripts and tokens files of episodes no job has (kept by default: they are the corpus)',
      default: false,
    }),
    vacuum: Flags.boolean({
      description: 'then give the database its free space back (SQLite: checkpoint + VACUUM; PostgreSQL: VACUUM ANALYZE)',
      default: false,
    }),
  }

  public async run(): Promise<void> {
    const {cleanup} = await import('../ops/cleanup.js')
    this.finish(await cleanup(this.context(), {dryRun: this.flags['dry-run'], vacuum: this.flags.vacuum, orphans: this.flags.orphans}))
  }
}
