import {closeSync, openSync, readSync, statSync} from 'node:fs'
import Database from 'better-sqlite3'

import {UserError} from '../../errors.js'
import {MIGRATIONS} from './migrations.js'

/** PRAGMA application_id of an animezipf queue ("AZPF"): set on every database it writes. */
export const APPLICATION_ID = 0x415a5046

/** What the 100-byte header of an SQLite file says (https://www.sqlite.org/fileformat.html). */
interface FileHeader {
  pageSize: number
  schemaCookie: number
  applicationId: number
}

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length)
  const got = readSync(fd, buf, 0, length, offset)
  return buf.subarray(0, got)
}

/** The header of a page 1 image, or undefined when it is not an SQLite database's. */
function parseHeader(page: Buffer): FileHeader | undefined {
  if (page.length < 100 || !page.subarray(0, 16).equals(MAGIC)) return undefined
  const raw = page.readUInt16BE(16)
  return {pageSize: raw === 1 ? 65_536 : raw, schemaCookie: page.readUInt32BE(40), applicationId: page.readUInt32BE(68)}
}

function fileHeader(file: string): FileHeader | undefined {
  const fd = openSync(file, 'r')
  try {
    return parseHeader(readAt(fd, 0, 100))
  } finally {
    closeSync(fd)
  }
}

/**
 * What a write-ahead log would make of page 1: its page size and the header of the last committed
 * image of page 1 it holds (frames of the current salt only, up to the last commit frame). SQLite
 * applies any valid WAL to the database beside it, whatever database wrote that WAL.
 */
function walSummary(wal: string): {pageSize: number; frames: number; page1?: FileHeader | undefined} | undefined {
  const fd = openSync(wal, 'r')
  try {
    const head = readAt(fd, 0, 32)
    if (head.length < 32) return undefined
    const magic = head.readUInt32BE(0)
    if (magic !== 0x377f0682 && magic !== 0x377f0683) return undefined
    const pageSize = head.readUInt32BE(8)
    if (pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0) return undefined
    const salt1 = head.readUInt32BE(16)
    const salt2 = head.readUInt32BE(20)
    const size = statSync(wal).size
    let frames = 0
    let page1: FileHeader | undefined
    let pending: FileHeader | undefined
    for (let at = 32; at + 24 + pageSize <= size; at += 24 + pageSize) {
      const frame = readAt(fd, at, 24)
      if (frame.readUInt32BE(8) !== salt1 || frame.readUInt32BE(12) !== salt2) break
      if (frame.readUInt32BE(0) === 1) pending = parseHeader(readAt(fd, at + 24, 100)) ?? {pageSize: 0, schemaCookie: 0, applicationId: -1}
      if (frame.readUInt32BE(4) !== 0) {
        frames++
        if (pending) page1 = pending
        pending = undefined
      }
    }
    return {pageSize, frames, page1}
  } finally {
    closeSync(fd)
  }
}

/**
 * Refuse a `jobs.db-wal` that another database wrote (copied or left beside ours): SQLite would
 * replay it over the queue and the queue's tables would be gone. Ours has the queue's page size and,
 * where it rewrote page 1, the same application id and a schema that only grew.
 */
export function refuseStrayWal(file: string): void {
  const wal = `${file}-wal`
  let main: FileHeader | undefined
  let summary: ReturnType<typeof walSummary>
  try {
    if (statSync(file).size === 0 || statSync(wal).size === 0) return
    main = fileHeader(file)
    summary = walSummary(wal)
  } catch {
    return // either file is missing or unreadable: SQLite says what is wrong with it
  }
  if (!main || !summary || summary.frames === 0) return
  const p1 = summary.page1
  const foreign =
    summary.pageSize !== main.pageSize ||
    (p1 !== undefined &&
      (p1.pageSize !== main.pageSize ||
        (p1.applicationId !== main.applicationId && p1.applicationId !== APPLICATION_ID) ||
        p1.schemaCookie < main.schemaCookie))
  if (foreign) {
    throw new UserError(
      `${wal} is the write-ahead log of another database, not of ${file} (SQLite would replay it over the queue); nothing was touched`,
      `move ${wal} (and ${file}-shm) out of the folder, then run again; keep it if it belongs to another program`,
    )
  }
}

/** The tables the queue's schema has at `version` (what a database of ours at that version holds). */
function tablesAt(version: number): string[] {
  const mem = new Database(':memory:')
  try {
    for (const m of MIGRATIONS.slice(0, version)) mem.exec(m)
    return tableNames(mem)
  } finally {
    mem.close()
  }
}

function tableNames(db: Database.Database): string[] {
  return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {name: string}[]).map((r) => r.name)
}

/**
 * Refuse, untouched, an SQLite file that is not a queue of ours: ours carries our application id,
 * or (made before the id was set) every table of its schema version. An empty database is ours to
 * create. Call before anything is written (the WAL switch included).
 */
export function refuseForeignDatabase(db: Database.Database, file: string): void {
  const appId = db.pragma('application_id', {simple: true}) as number
  if (appId === APPLICATION_ID) return
  const version = db.pragma('user_version', {simple: true}) as number
  const tables = tableNames(db)
  if (appId === 0 && version === 0 && tables.length === 0) return
  const have = new Set(tables)
  const ours = appId === 0 && version > 0 && version <= MIGRATIONS.length && tablesAt(version).every((t) => have.has(t))
  if (ours) return
  db.close()
  const what =
    appId !== 0 ? `application id 0x${appId.toString(16).padStart(8, '0')}` : `tables ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}`
  throw new UserError(
    `${file} is an SQLite database of another program (${what}), not an animezipf queue; it was left untouched`,
    "point --data-dir or [queue] url at a folder or file of animezipf's own",
  )
}
