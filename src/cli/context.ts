import path from 'node:path'

import {loadConfig} from '../config/load.js'
import type {Config} from '../config/defaults.js'
import {DataPaths} from '../paths.js'
import {type Clock, systemClock} from '../queue/clock.js'
import {type DB, openDatabase} from '../queue/db.js'
import {type Backoff, Queue} from '../queue/jobs.js'
import {WorkerRegistry} from '../queue/workers.js'
import {Output} from './output.js'

export interface GlobalFlags {
  config?: string | undefined
  'data-dir'?: string | undefined
  json: boolean
  verbose: boolean
}

/** What every command's service receives: settings, file locations, output, and the queue on demand. */
export class AppContext {
  private database: DB | undefined
  private queueHandle: Queue | undefined
  private registryHandle: WorkerRegistry | undefined
  /** Set for a context that only speaks through another output: the parent owns the database. */
  private parent: AppContext | undefined

  constructor(
    readonly config: Config,
    readonly configFile: string | undefined,
    readonly paths: DataPaths,
    readonly output: Output,
    readonly clock: Clock = systemClock,
  ) {}

  /** The queue database, opened once (read-only for --dry-run: nothing is written, no file is created). */
  db(options: {readonly?: boolean} = {}): DB {
    if (this.parent) return this.parent.db(options)
    this.database ??= openDatabase(this.paths.jobsDb, {readonly: options.readonly ?? false})
    return this.database
  }

  /** The queue on that database, made once so its prepared statements are reused. */
  queue(options: {readonly?: boolean} = {}): Queue {
    if (this.parent) return this.parent.queue(options)
    this.queueHandle ??= new Queue(this.db(options), this.clock)
    return this.queueHandle
  }

  registry(): WorkerRegistry {
    if (this.parent) return this.parent.registry()
    this.registryHandle ??= new WorkerRegistry(this.db(), this.clock)
    return this.registryHandle
  }

  get leaseMs(): number {
    return this.config.queue.lease_seconds * 1000
  }

  get backoff(): Backoff {
    return {baseMs: this.config.queue.backoff_base_seconds * 1000, maxMs: this.config.queue.backoff_max_seconds * 1000}
  }

  /** The same run (settings, paths, open database) speaking through another output. */
  withOutput(output: Output): AppContext {
    const ctx = new AppContext(this.config, this.configFile, this.paths, output, this.clock)
    ctx.parent = this
    return ctx
  }

  close(): void {
    if (this.parent) return
    if (this.database?.open) this.database.close()
    this.database = undefined
    this.queueHandle = undefined
    this.registryHandle = undefined
  }
}

export function createContext(flags: GlobalFlags, overrides: Record<string, unknown> = {}): AppContext {
  const allOverrides: Record<string, unknown> = {...overrides}
  if (flags['data-dir']) allOverrides['data.root_dir'] = path.resolve(flags['data-dir'])
  const loaded = loadConfig({explicitPath: flags.config, overrides: allOverrides})
  const {config} = loaded
  const output = new Output({json: flags.json, verbose: flags.verbose})
  return new AppContext(config, loaded.file, new DataPaths(config.data.root_dir, config.data.storage_dir), output)
}
