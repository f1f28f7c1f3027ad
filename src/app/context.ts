import {existsSync} from 'node:fs'

import type {Config} from '../config/defaults.js'
import {UserError} from '../errors.js'
import type {DataPaths} from '../paths.js'
import {type Clock, systemClock} from '../queue/clock.js'
import {type Queue, type QueueLocation, openQueue, queueLocation} from '../queue/index.js'
import type {Backoff} from '../util/backoff.js'
import {migrateDataLayout} from './migrate.js'
import type {Output} from './output.js'

/** What every command's service receives: settings, file locations, output, and the queue on demand. */
export class AppContext {
  private opened: Promise<Queue> | undefined
  private openedReadonly = false

  constructor(
    readonly config: Config,
    readonly configFile: string | undefined,
    readonly paths: DataPaths,
    readonly output: Output,
    readonly clock: Clock = systemClock,
  ) {}

  /** Where the queue lives ([queue] url; default jobs.db under root_dir). */
  get queueLocation(): QueueLocation {
    return queueLocation(this.config.queue.url, this.paths.jobsDb)
  }

  /** False for an SQLite queue whose file is not there yet (a fresh folder, or a mistyped --data-dir). */
  get queueExists(): boolean {
    const location = this.queueLocation
    return location.backend !== 'sqlite' || existsSync(location.target)
  }

  /**
   * A command that reads the corpus (word, analyze) on a folder with no queue says so, and creates
   * none: a typo in --data-dir must not look like an empty corpus.
   */
  requireCorpus(): void {
    if (this.queueExists) return
    throw new UserError(
      `no corpus at ${this.paths.root}: no queue there (${this.queueLocation.display})`,
      '`animezipf demo`, `import` or `scrape` make one; or pass --data-dir (the demo writes ./demo-data)',
    )
  }

  /** This machine's name in the queue. */
  get host(): string {
    return this.config.queue.host_id
  }

  /**
   * The queue, opened once per run. Read-only (--dry-run, status): nothing is written and no file
   * is created. A read-write open also runs the data layout's migration
   * (files of an older layout moved into place). Asking for read-write after a read-only open is
   * a programming error: a run decides its mode before it first touches the queue.
   */
  queue(options: {readonly?: boolean} = {}): Promise<Queue> {
    const readonly = options.readonly ?? false
    if (this.opened && this.openedReadonly && !readonly) throw new Error('the queue was opened read-only in this run')
    if (!this.opened) {
      this.openedReadonly = readonly
      this.opened = openQueue({
        location: this.queueLocation,
        readonly,
        clock: this.clock,
        host: this.host,
        busyTimeoutMs: this.config.queue.busy_timeout_seconds * 1000,
      }).then(async (q) => {
        try {
          if (!readonly) migrateDataLayout(this.paths)
        } catch (error) {
          await q.close()
          throw error
        }
        return q
      })
      // a failed open is reported by whoever awaits it; the next call tries again
      this.opened.catch(() => (this.opened = undefined))
    }
    return this.opened
  }

  get leaseMs(): number {
    return this.config.queue.lease_seconds * 1000
  }

  get backoff(): Backoff {
    return {baseMs: this.config.queue.backoff_base_seconds * 1000, maxMs: this.config.queue.backoff_max_seconds * 1000}
  }

  async close(): Promise<void> {
    const q = this.opened
    this.opened = undefined
    if (q) await (await q.catch(() => undefined))?.close()
  }
}
