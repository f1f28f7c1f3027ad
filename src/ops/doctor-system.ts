import {accessSync, constants, existsSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {AppContext} from '../app/context.js'
import {SchemaBehindError, errorMessage} from '../errors.js'
import {type QueueLocation, networkFilesystem, openQueue} from '../queue/index.js'
import {filesystemSpace, formatBytes} from '../util/disk.js'
import type {Check} from './doctor.js'

/** The nearest existing folder at or above `dir`. */
function existing(dir: string): string {
  let p = path.resolve(dir)
  while (!existsSync(p) && path.dirname(p) !== p) p = path.dirname(p)
  return p
}

function writable(dir: string): string | undefined {
  const at = existing(dir)
  try {
    if (!statSync(at).isDirectory()) return `${at} is a file, not a folder`
    accessSync(at, constants.W_OK)
    const probe = mkdtempSync(path.join(at, '.animezipf-doctor-'))
    writeFileSync(path.join(probe, 'x'), 'x')
    rmSync(probe, {recursive: true, force: true})
    return undefined
  } catch (error) {
    return `${at} is not writable (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`
  }
}

/** Node.js, the native SQLite module, and which configuration was read. */
export async function runtimeChecks(ctx: AppContext): Promise<Check[]> {
  const checks: Check[] = []
  const major = Number(process.versions.node.split('.')[0])
  checks.push({name: 'node', status: major >= 20 ? 'ok' : 'fail', detail: `Node.js ${process.versions.node}`, fix: 'install Node.js 20 or newer'})
  try {
    const {default: Database} = await import('better-sqlite3')
    new Database(':memory:').close()
    checks.push({name: 'sqlite', status: 'ok', detail: 'better-sqlite3 native module loads'})
  } catch (error) {
    checks.push({
      name: 'sqlite',
      status: 'fail',
      detail: `better-sqlite3 does not load: ${errorMessage(error).split('\n')[0]}`,
      fix: 'run `npm rebuild better-sqlite3` (needs python3, make and g++)',
    })
  }
  checks.push({name: 'config', status: 'ok', detail: ctx.configFile ? `read ${ctx.configFile}` : 'no config.toml: the built-in defaults'})
  return checks
}

/** The data and storage folders: writable, their free space, and whether they share a filesystem. */
export function folderChecks(ctx: AppContext): Check[] {
  const {config, paths} = ctx
  const checks: Check[] = []
  for (const [label, dir] of [
    ['root_dir', paths.root],
    ['storage_dir', paths.storage],
  ] as const) {
    if (label === 'storage_dir' && path.resolve(dir) === path.resolve(paths.root)) continue
    const problem = writable(dir)
    const space = filesystemSpace(dir)
    checks.push({
      name: label,
      status: problem ? 'fail' : space.free < config.disk_management.min_free_gb * 1e9 ? 'warn' : 'ok',
      detail: problem ?? `${dir} (${existsSync(dir) ? 'exists' : 'will be created'}; ${formatBytes(space.free)} free of ${formatBytes(space.total)})`,
      fix: problem
        ? `make ${dir} writable, or set [data] ${label} (or --data-dir)`
        : `free space: under min_free_gb (${config.disk_management.min_free_gb} GB), downloads will pause`,
    })
  }
  if (path.resolve(paths.storage) !== path.resolve(paths.root)) {
    const same = filesystemSpace(paths.root).device === filesystemSpace(paths.storage).device
    checks.push({
      name: 'filesystems',
      status: 'ok',
      detail: same ? 'root_dir and storage_dir share one filesystem' : 'root_dir and storage_dir are on different filesystems (videos on their own disk)',
    })
  }
  return checks
}

/** The queue: not a SQLite file on a network filesystem, and reachable (read only; the password never shown). */
export async function queueCheck(ctx: AppContext): Promise<Check> {
  const location = ctx.queueLocation
  if (location.backend === 'sqlite') {
    const fs = networkFilesystem(existing(path.dirname(location.target)))
    if (fs)
      return {
        name: 'queue',
        status: 'fail',
        detail: `the SQLite queue ${location.display} is on a network filesystem (${fs})`,
        fix: 'keep jobs.db on a local disk, or use PostgreSQL for several machines ([queue] url)',
      }
  }
  if (!ctx.queueExists) {
    return {name: 'queue', status: 'ok', detail: `${location.display} does not exist yet (the first writing command creates it)`}
  }
  try {
    const q = await openQueue({location, readonly: true, host: ctx.host})
    const jobs = await q.stats.jobsPerStage()
    await q.close()
    return {name: 'queue', status: 'ok', detail: `${location.display} (${location.backend}): ${Object.values(jobs).reduce((a, b) => a + b, 0)} jobs`}
  } catch (error) {
    return unreadableQueueCheck(location, error)
  }
}

/** A queue that did not open: an empty or older schema is fine (the next writing command upgrades it). */
function unreadableQueueCheck(location: QueueLocation, error: unknown): Check {
  if (error instanceof SchemaBehindError) {
    const what =
      error.version === 0 ? 'empty: the first writing command creates the tables' : `schema version ${error.version}: the next writing command upgrades it`
    return {name: 'queue', status: 'ok', detail: `${location.display} (${location.backend}) is reachable and ${what}`}
  }
  return {
    name: 'queue',
    status: 'fail',
    detail: `${location.display}: ${errorMessage(error).split('\n')[0]}`,
    fix:
      location.backend === 'postgres'
        ? 'check that the server runs and the URL, user and password in [queue] url are right'
        : 'see the message; `animezipf queue copy` moves a queue elsewhere',
  }
}
