import type Database from 'better-sqlite3'
import type {Statement} from 'better-sqlite3'

import type {Params, Sql} from '../sql.js'

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans become 0/1 here. */
function bind(params: Params | undefined): Params {
  if (!params) return {}
  const out: Params = {}
  for (const [k, v] of Object.entries(params)) out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v === undefined ? null : v
  return out
}

/**
 * The SQLite executor: one connection per process, statements prepared once. better-sqlite3 is
 * synchronous, so a statement outside a transaction is atomic by itself; an async transaction holds
 * a lock in this process so that the pool's other workers do not slip their statements into it.
 */
export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const
  private readonly statements = new Map<string, Statement>()
  /** Settles when the transaction in progress ends. */
  private busy: Promise<void> | undefined
  /** The executor handed to transactions (one at a time, so one object serves them all). */
  private inside: SqliteSql | undefined

  constructor(
    readonly db: Database.Database,
    private readonly inTransaction = false,
    private readonly parent?: SqliteSql,
  ) {}

  private stmt(sql: string): Statement {
    if (this.parent) return this.parent.stmt(sql)
    let s = this.statements.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.statements.set(sql, s)
    }
    return s
  }

  // Wait while another worker's transaction is open; no await between the last check and the
  // statement, so nothing can begin in between (an async helper would yield once more).
  async all<T>(sql: string, params?: Params): Promise<T[]> {
    if (!this.inTransaction) while (this.busy) await this.busy
    return this.stmt(sql).all(bind(params)) as T[]
  }

  async get<T>(sql: string, params?: Params): Promise<T | undefined> {
    if (!this.inTransaction) while (this.busy) await this.busy
    return this.stmt(sql).get(bind(params)) as T | undefined
  }

  async run(sql: string, params?: Params): Promise<number> {
    if (!this.inTransaction) while (this.busy) await this.busy
    const s = this.stmt(sql)
    if (s.reader) return s.all(bind(params)).length
    return s.run(bind(params)).changes
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this)
    while (this.busy) await this.busy
    let done!: () => void
    this.busy = new Promise((resolve) => (done = resolve))
    try {
      this.stmt('BEGIN IMMEDIATE').run()
      try {
        const result = await fn((this.inside ??= new SqliteSql(this.db, true, this)))
        this.stmt('COMMIT').run()
        return result
      } catch (error) {
        if (this.db.inTransaction) this.stmt('ROLLBACK').run()
        throw error
      }
    } finally {
      this.busy = undefined
      done()
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}
