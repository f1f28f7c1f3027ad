import {createHash} from 'node:crypto'

/** Named parameters (`@name` in the SQL text); both backends take the same statements. */
export type Params = Record<string, unknown>

export type Dialect = 'sqlite' | 'postgres'

/**
 * What the stores run their SQL through: one async interface over better-sqlite3 (synchronous
 * underneath) and pg (a pool). Statements are written once; where the dialects differ, the store
 * switches on `dialect` (goqite's model). Rows come back alike on both: integers as numbers,
 * booleans as 0/1, times as UTC text 'YYYY-MM-DD HH:MM:SS.SSS'.
 */
export interface Sql {
  readonly dialect: Dialect
  all<T>(sql: string, params?: Params): Promise<T[]>
  get<T>(sql: string, params?: Params): Promise<T | undefined>
  /** Run a statement; returns the number of rows it changed. */
  run(sql: string, params?: Params): Promise<number>
  /**
   * Run `fn` in one transaction that takes the write lock first (SQLite: BEGIN IMMEDIATE;
   * PostgreSQL: READ COMMITTED, plus `pg_advisory_xact_lock` on `lock` when given, so that
   * one-at-a-time work such as allocating a local id is serialised across hosts too).
   * Inside, use the `tx` it is given; a nested call joins the outer transaction.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>, options?: {lock?: string}): Promise<T>
  close(): Promise<void>
}

/** `@name` -> `$n` for pg, each name once, with a digest of the text; cached per statement text. */
const compiled = new Map<string, {text: string; names: string[]; digest: string}>()
export function toPositional(sql: string): {text: string; names: string[]; digest: string} {
  let c = compiled.get(sql)
  if (!c) {
    const names: string[] = []
    const text = sql.replaceAll(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      let i = names.indexOf(name)
      if (i < 0) i = names.push(name) - 1
      return `$${i + 1}`
    })
    c = {text, names, digest: createHash('sha1').update(text).digest('hex').slice(0, 20)}
    compiled.set(sql, c)
  }
  return c
}

/** A stable 31-bit key for a lock name (pg advisory locks take integers). */
export function lockKey(name: string): number {
  let h = 0
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0
  return h & 0x7fffffff
}
