import {statSync} from 'node:fs'
import path from 'node:path'

import {loadConfig, unknownVariables} from '../config/load.js'
import {UserError} from '../errors.js'
import type {Config} from '../config/defaults.js'
import {DataPaths} from '../paths.js'
import {type Clock, systemClock} from '../queue/clock.js'
import {type Queue, type QueueLocation, openQueue, queueLocation} from '../queue/index.js'
import type {Backoff} from '../util/backoff.js'
import {moveLegacyMetadata} from '../formats/metadata.js'
import {Output} from './output.js'

export interface GlobalFlags {
  config?: string | undefined
  'data-dir'?: string | undefined
  json: boolean
  verbose: boolean
}

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

  /** This machine's name in the queue. */
  get host(): string {
    return this.config.queue.host_id
  }

  /**
   * The queue, opened once per run. Read-only (--dry-run, status): nothing is written and no file
   * is created. A read-write open also moves files of an older data layout into place.
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
          if (!readonly) moveLegacyMetadata(this.paths)
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

/** A data folder must be a folder, or not exist yet under a folder: never a file (or under one). */
function checkFolder(dir: string, setting: string): void {
  let p = path.resolve(dir)
  for (;;) {
    let st
    try {
      st = statSync(p)
    } catch {
      if (path.dirname(p) === p) return
      p = path.dirname(p)
      continue
    }
    if (!st.isDirectory()) {
      throw new UserError(
        p === path.resolve(dir) ? `${setting} ${dir} is a file, not a folder` : `${setting} ${dir} is under ${p}, which is a file`,
        `point ${setting} at a folder (it is created when missing)`,
      )
    }
    return
  }
}

export function createContext(flags: GlobalFlags, overrides: Record<string, unknown> = {}): AppContext {
  const allOverrides: Record<string, unknown> = {...overrides}
  // an empty --data-dir (an unset shell variable) would otherwise mean the default folder
  if (flags['data-dir'] !== undefined && flags['data-dir'].trim() === '')
    throw new UserError('--data-dir is empty', 'give the data folder, or leave --data-dir out to use [data] root_dir')
  if (flags['data-dir']) allOverrides['data.root_dir'] = path.resolve(flags['data-dir'])
  const loaded = loadConfig({explicitPath: flags.config, overrides: allOverrides})
  const {config} = loaded
  checkFolder(config.data.root_dir, flags['data-dir'] ? '--data-dir' : '[data] root_dir')
  if (config.data.storage_dir !== config.data.root_dir) checkFolder(config.data.storage_dir, '[data] storage_dir')
  const output = new Output({json: flags.json, verbose: flags.verbose})
  for (const line of unknownVariables()) output.warn(line)
  return new AppContext(config, loaded.file, new DataPaths(config.data.root_dir, config.data.storage_dir), output)
}
