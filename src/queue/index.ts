import {statfsSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {UserError} from '../errors.js'
import {AnalysisStore} from './analysis.js'
import {AnimeStore} from './anime.js'
import {type Clock, systemClock} from './clock.js'
import {JobQueue} from './jobs.js'
import {RunLocks} from './locks.js'
import {DiskPauses} from './pauses.js'
import {JobMaintenance} from './maintenance.js'
import {TranscriptionStore} from './transcriptions.js'
import type {Sql} from './sql.js'
import {SelectionStore} from './selections.js'
import {QueueStats} from './stats.js'
import {maskUrl} from './url.js'
import {WorkerRegistry} from './workers.js'

/**
 * The queue as the rest of the program sees it: the job queue and the stores beside it, on one
 * backend (SQLite or PostgreSQL). Nothing outside src/queue sees a database handle.
 */
export class Queue {
  readonly jobs: JobQueue
  readonly anime: AnimeStore
  readonly analysis: AnalysisStore
  readonly stats: QueueStats
  readonly workers: WorkerRegistry
  readonly locks: RunLocks
  readonly selections: SelectionStore
  readonly pauses: DiskPauses
  readonly maintenance: JobMaintenance
  readonly transcriptions: TranscriptionStore

  constructor(
    /** For the stores and the queue's own tests; stages never use it. */
    readonly sql: Sql,
    readonly location: QueueLocation,
    readonly clock: Clock = systemClock,
    readonly host: string = hostname(),
  ) {
    this.jobs = new JobQueue(sql, clock, host)
    this.anime = new AnimeStore(sql, clock)
    this.analysis = new AnalysisStore(sql)
    this.stats = new QueueStats(sql)
    this.workers = new WorkerRegistry(sql, clock, host)
    this.locks = new RunLocks(sql, clock, host)
    this.selections = new SelectionStore(sql, clock)
    this.pauses = new DiskPauses(sql, clock)
    this.maintenance = new JobMaintenance(sql, clock)
    this.transcriptions = new TranscriptionStore(sql, clock)
  }

  /** Several writes as one: `fn` gets the same queue bound to the transaction. */
  async transaction<T>(fn: (q: Queue) => Promise<T>, options?: {lock?: string}): Promise<T> {
    return this.sql.transaction((tx) => fn(new Queue(tx, this.location, this.clock, this.host)), options)
  }

  async close(): Promise<void> {
    await this.sql.close()
  }
}

/** Where a queue lives: an SQLite file or a PostgreSQL URL (shown with the password masked). */
export interface QueueLocation {
  backend: 'sqlite' | 'postgres'
  /** The file, or the URL as given (with its password: never print it, use `display`). */
  target: string
  display: string
}

/** `[queue] url` -> where the queue is: empty means `jobs.db` under root_dir. */
export function queueLocation(url: string, defaultFile: string, setting = '[queue] url'): QueueLocation {
  const u = url.trim()
  if (u === '') return {backend: 'sqlite', target: defaultFile, display: defaultFile}
  if (/^postgres(ql)?:\/\//i.test(u)) return {backend: 'postgres', target: u, display: maskUrl(u)}
  if (/^sqlite:/i.test(u)) {
    const named = u.replace(/^sqlite:(\/\/)?/i, '')
    if (named.trim() === '')
      throw new UserError(`${setting} ${JSON.stringify(u)} names no file`, 'give the path of the SQLite file, e.g. sqlite:/srv/animezipf/jobs.db')
    const file = path.resolve(named)
    return {backend: 'sqlite', target: file, display: file}
  }
  throw new UserError(
    `${setting} ${JSON.stringify(maskUrl(u))} is neither sqlite:PATH nor postgres://…`,
    'e.g. sqlite:/srv/animezipf/jobs.db or postgres://user@host:5432/animezipf',
  )
}

// statfs f_type of filesystems where SQLite's locks and WAL are unreliable
const NETWORK_FILESYSTEMS: Record<number, string> = {
  0x6969: 'NFS',
  0x517b: 'SMB',
  0xff534d42: 'CIFS',
  0xfe534d42: 'SMB2',
  0x00c36400: 'CephFS',
  0x5346414f: 'AFS',
  0x01021997: '9P',
}

/** The network filesystem a folder is on, if it is on one. */
export function networkFilesystem(dir: string, statfs: (p: string) => {type: number} = statfsSync): string | undefined {
  try {
    return NETWORK_FILESYSTEMS[statfs(dir).type >>> 0]
  } catch {
    return undefined
  }
}

export interface OpenQueueOptions {
  location: QueueLocation
  /** Write nothing: SQLite reads a snapshot, PostgreSQL runs in a READ ONLY transaction rolled back at close. */
  readonly?: boolean
  /** SQLite: how long to wait for another process's write lock. */
  busyTimeoutMs?: number
  clock?: Clock
  host?: string
  /** PostgreSQL connections this process may hold (one per concurrent worker is plenty). */
  poolSize?: number
}

/** Open the queue the config names, migrated; a newer schema is refused on both backends. */
export async function openQueue(options: OpenQueueOptions): Promise<Queue> {
  const {location} = options
  const readonly = options.readonly ?? false
  let sql: Sql
  if (location.backend === 'postgres') {
    const {openPostgres} = await import('./postgres/open.js')
    sql = await openPostgres(location.target, {readonly, poolSize: options.poolSize})
  } else {
    const fs = networkFilesystem(path.dirname(location.target))
    if (fs && !readonly) {
      throw new UserError(
        `the SQLite queue ${location.target} is on a network filesystem (${fs}), where SQLite's locks are unreliable and the database can be corrupted`,
        'keep jobs.db on a local disk, or use PostgreSQL for several machines ([queue] url = "postgres://…")',
      )
    }
    const {openDatabase} = await import('./sqlite/open.js')
    const {SqliteSql} = await import('./sqlite/sql.js')
    sql = new SqliteSql(openDatabase(location.target, {readonly, busyTimeoutMs: options.busyTimeoutMs}))
  }
  return new Queue(sql, location, options.clock ?? systemClock, options.host ?? hostname())
}
