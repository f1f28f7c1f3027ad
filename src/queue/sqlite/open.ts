import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

import {UserError} from '../../errors.js'
import {ensureDir} from '../../util/atomic.js'
import {MIGRATIONS, SCHEMA_VERSION} from './migrations.js'
import {queueFaultError} from '../faults.js'
import {APPLICATION_ID, refuseForeignDatabase, refuseStrayWal} from './ownership.js'

export type DB = Database.Database

export interface OpenOptions {
  /** Open without writing anything: for --dry-run and read-only views. */
  readonly?: boolean
  busyTimeoutMs?: number
}

function userVersion(db: DB): number {
  return db.pragma('user_version', {simple: true}) as number
}

function refuseNewer(db: DB, file: string): void {
  const version = userVersion(db)
  if (version > SCHEMA_VERSION) {
    db.close()
    throw new UserError(
      `${file} has schema version ${version}, newer than this animezipf understands (${SCHEMA_VERSION}); it was left untouched`,
      'upgrade animezipf (npm install -g animezipf@latest) or point --data-dir at another folder',
    )
  }
}

/**
 * A read-only view: one consistent snapshot of the database, in memory, that creates no file and
 * never waits for a writer. SQLite makes -wal/-shm files even for a read-only connection, so when
 * none exist the file is read directly; otherwise a read-only connection (which adds nothing then)
 * serialises what it sees, committed WAL frames included.
 */
function openSnapshot(file: string, timeout: number): DB {
  let image: Buffer
  if (existsSync(`${file}-wal`)) {
    const live = new Database(file, {readonly: true, fileMustExist: true, timeout})
    try {
      image = live.serialize()
    } finally {
      live.close()
    }
  } else image = readFileSync(file)
  // bytes 18-19 say "WAL"; an in-memory image must read as a rollback-journal database
  if (image.length >= 20) {
    image[18] = 1
    image[19] = 1
  }
  return new Database(image)
}

/** Apply the migrations the database lacks, each in its own immediate transaction. */
export function migrate(db: DB): number {
  let applied = 0
  for (;;) {
    const done = db
      .transaction(() => {
        const version = userVersion(db)
        if (version >= SCHEMA_VERSION) return false
        db.exec(MIGRATIONS[version]!)
        db.pragma(`user_version = ${version + 1}`)
        return true
      })
      .immediate()
    if (!done) return applied
    applied++
  }
}

/**
 * Open the queue database: WAL, busy timeout, foreign keys, migrations applied.
 * A database newer than the code is refused before anything is written to it.
 * Read-only: a missing file gives an empty in-memory database with the current schema.
 */
export function openDatabase(file: string, options: OpenOptions = {}): DB {
  try {
    return options.readonly ? openReadOnly(file, options.busyTimeoutMs ?? 10_000) : openReadWrite(file, options.busyTimeoutMs ?? 10_000)
  } catch (error) {
    const code = (error as {code?: string}).code
    const fault = queueFaultError(error, file)
    if (fault) throw fault
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new UserError(
        `cannot open the queue database ${file}: ${(error as Error).message}`,
        'check --data-dir or [queue] url and the permissions of the folder',
      )
    }
    throw error
  }
}

function openReadOnly(file: string, timeout: number): DB {
  if (!existsSync(file)) {
    const mem = new Database(':memory:')
    migrate(mem)
    return mem
  }
  refuseStrayWal(file)
  const live = openLive(file, timeout)
  if (live) {
    refuseForeignDatabase(live, file)
    refuseNewer(live, file)
    if (userVersion(live) === SCHEMA_VERSION) return pinSnapshot(live)
    live.close()
  }
  // an older schema (upgraded in memory for the view, the file untouched), or a file this process
  // cannot open in place (a read-only folder without the WAL's shared-memory file)
  const db = openSnapshot(file, timeout)
  refuseForeignDatabase(db, file)
  refuseNewer(db, file)
  if (userVersion(db) < SCHEMA_VERSION) migrate(db)
  return db
}

/**
 * A connection to the file itself for a read-only view, holding nothing in memory (a copy of a
 * 500 MB queue took 1 GB) and creating no file that outlives it. With a WAL beside it (another
 * process has the queue open), a read-only connection: it adds nothing. Without one, a connection
 * that can write but is set query_only: SQLite makes the -wal and -shm files on open and, as for any
 * last connection to close, removes them at close; the database file is not written. Undefined when
 * the file cannot be opened so (a read-only folder): the caller reads a snapshot instead.
 */
function openLive(file: string, timeout: number): DB | undefined {
  const wal = existsSync(`${file}-wal`)
  const shared = wal && existsSync(`${file}-shm`)
  // a log left without its shared memory (a crash, a copy): the last connection to close would
  // checkpoint it into the file, so the view is a snapshot
  if (wal && !shared) return undefined
  let db: DB | undefined
  try {
    db = new Database(file, {readonly: shared, fileMustExist: true, timeout})
    // SQLite opens a file it cannot write read-only without saying so: that one makes files it cannot remove
    if (!shared && db.readonly) {
      db.close()
      return undefined
    }
    db.pragma('query_only = ON')
    // the first read opens the WAL's shared memory: where that cannot be made (a read-only
    // filesystem), the view is a snapshot
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get()
    return db
  } catch (error) {
    if (db?.open) db.close()
    const code = (error as {code?: string}).code ?? ''
    if (
      code.startsWith('SQLITE_CANTOPEN') ||
      code.startsWith('SQLITE_READONLY') ||
      code.startsWith('SQLITE_IOERR') ||
      code === 'SQLITE_PERM' ||
      code === 'SQLITE_AUTH'
    )
      return undefined
    throw error
  }
}

/** One read transaction for the view's life: every statement of the run sees the same snapshot. */
function pinSnapshot(db: DB): DB {
  db.exec('BEGIN')
  db.prepare('SELECT COUNT(*) FROM sqlite_master').get()
  return db
}

function openReadWrite(file: string, timeout: number): DB {
  const cannotWrite = (why: string) =>
    new UserError(
      `cannot write the queue database ${file}: ${why}`,
      'read-only commands (status, --dry-run) still work; for the others make the folder writable or point --data-dir elsewhere',
    )
  try {
    ensureDir(path.dirname(file))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw cannotWrite(code === 'EROFS' ? 'the filesystem is read-only' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message)
  }
  // before SQLite opens it: a WAL of another database would be replayed over the queue
  refuseStrayWal(file)
  let db: DB
  try {
    db = new Database(file, {timeout})
  } catch (error) {
    if ((error as {code?: string}).code === 'SQLITE_CANTOPEN' && existsSync(file)) {
      throw new UserError(
        `cannot open the queue database ${file} for writing: ${(error as Error).message}`,
        'check the file and folder permissions, or use a read-only command (status, --dry-run)',
      )
    }
    throw new UserError(`cannot open the queue database ${file}: ${(error as Error).message}`, 'check --data-dir and the folder permissions')
  }
  try {
    refuseForeignDatabase(db, file)
    refuseNewer(db, file)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    migrate(db)
    if (db.pragma('application_id', {simple: true}) !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`)
  } catch (error) {
    if (db.open) db.close()
    const code = (error as {code?: string}).code
    if (code === 'SQLITE_READONLY' || code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR_WRITE')
      throw cannotWrite(`${(error as Error).message} (a read-only filesystem or file?)`)
    throw error
  }
  return db
}
