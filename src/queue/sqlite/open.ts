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
  refuseStrayWal(file)
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
    const done = db.transaction(() => {
      const version = userVersion(db)
      if (version >= SCHEMA_VERSION) return false
      db.exec(MIGRATIONS[version]!)
      db.pragma(`user_version = ${version + 1}`)
      return true
    }).immediate()
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
      throw new UserError(`cannot open the queue database ${file}: ${(error as Error).message}`, 'check --data-dir or [queue] url and the permissions of the folder')
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
  const db = openSnapshot(file, timeout)
  refuseForeignDatabase(db, file)
  refuseNewer(db, file)
  // an older database is upgraded in memory for the read-only view: the file is not touched
  if (userVersion(db) < SCHEMA_VERSION) migrate(db)
  return db
}

function openReadWrite(file: string, timeout: number): DB {
  const cannotWrite = (why: string) =>
    new UserError(`cannot write the queue database ${file}: ${why}`, 'read-only commands (status, --dry-run) still work; for the others make the folder writable or point --data-dir elsewhere')
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
      throw new UserError(`cannot open the queue database ${file} for writing: ${(error as Error).message}`, 'check the file and folder permissions, or use a read-only command (status, --dry-run)')
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
    if (code === 'SQLITE_READONLY' || code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR_WRITE') throw cannotWrite(`${(error as Error).message} (a read-only filesystem or file?)`)
    throw error
  }
  return db
}
