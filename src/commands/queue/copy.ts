import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import type {QueueCopyResult} from '../../ops/queue-copy.js'

export default class QueueCopy extends BaseCommand<typeof QueueCopy, QueueCopyResult> {
  static override summary = 'Copy the whole queue into an empty one (SQLite -> PostgreSQL, to go on with several machines)'
  static override description = `Copies anime, categories, jobs (with their stages, paths and hosts), job events, analyses, selections and the
aggregate's signature into an empty database, in one transaction, and verifies the row counts (any difference rolls
everything back). Refuses a target that is not empty and a source where a stage is running (a live lease).
The source is only read. Afterwards point [queue] url (or ANIMEZIPF_QUEUE_URL) at the target on every host.`
  static override examples = [
    '<%= config.bin %> queue copy --to postgres://animezipf@db.lan:5432/animezipf',
    '<%= config.bin %> queue copy --to sqlite:/backup/jobs.db --json',
  ]

  static override flags = {
    to: Flags.string({description: 'the target queue: postgres://user@host:port/db or sqlite:PATH (the password may come from PGPASSWORD)', required: true}),
  }

  public async run(): Promise<void> {
    const {queueCopy} = await import('../../ops/queue-copy.js')
    this.finish(await queueCopy(this.context(), {to: this.flags.to}))
  }
}
