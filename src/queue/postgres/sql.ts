import pg from 'pg'

import {sqlTime} from '../clock.js'
import {asQueueError} from '../faults.js'
import {type Params, type Sql, lockKey, toPositional} from '../sql.js'

const {types} = pg

/** Rows alike on both backends: counts and sums as numbers, booleans as 0/1, times as SQLite's UTC text. */
// pg's builtins are a numeric enum compared with the plain OID pg hands over
/* eslint-disable @typescript-eslint/no-unsafe-enum-comparison */
function typeParser(oid: number, format?: string): (value: string) => unknown {
  switch (oid) {
    case types.builtins.INT8:
    case types.builtins.NUMERIC:
      return Number
    case types.builtins.BOOL:
      return (v) => (v === 't' ? 1 : 0)
    case types.builtins.TIMESTAMPTZ:
      // '2026-01-01 00:00:00.5+00' (the session runs in UTC)
      return (v) => sqlTime(Date.parse(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')))
    case types.builtins.TIMESTAMP:
    case types.builtins.DATE:
      return (v) => v
    default:
      return types.getTypeParser(oid, format as 'text') as (value: string) => unknown
  }
}
/* eslint-enable @typescript-eslint/no-unsafe-enum-comparison */

export const PG_TYPES = {getTypeParser: typeParser} as unknown as pg.CustomTypesConfig

type Runner = Pick<pg.Pool | pg.PoolClient, 'query'>

/**
 * A statement with its values, named so that each connection parses and plans it once (pg
 * prepares named statements per connection); the name is a digest of the text.
 */
function args(sql: string, params: Params | undefined): {name: string; text: string; values: unknown[]} {
  const {text, names, digest} = toPositional(sql)
  return {name: `az_${digest}`, text, values: names.map((n) => (params?.[n] === undefined ? null : params[n]))}
}

/**
 * The PostgreSQL executor over a pg pool. A transaction takes a client of its own; a read-only
 * executor (--dry-run, status) runs everything in one READ ONLY transaction that is rolled back.
 */
export class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const

  constructor(
    private readonly pool: pg.Pool,
    private readonly runner: Runner = pool,
    private readonly inTransaction = false,
    private readonly onClose?: () => Promise<void>,
  ) {}

  async all<T>(sql: string, params?: Params): Promise<T[]> {
    return (await guard(this.runner.query(args(sql, params)))).rows as T[]
  }

  async get<T>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0]
  }

  async run(sql: string, params?: Params): Promise<number> {
    return (await guard(this.runner.query(args(sql, params)))).rowCount ?? 0
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>, options: {lock?: string} = {}): Promise<T> {
    if (this.inTransaction) {
      if (options.lock) await guard(this.runner.query('SELECT pg_advisory_xact_lock($1)', [lockKey(options.lock)]))
      return fn(this)
    }
    return guard(inTransaction(this.pool, (client) => fn(new PostgresSql(this.pool, client, true)), options.lock))
  }

  async close(): Promise<void> {
    if (this.onClose) await this.onClose()
    else await this.pool.end()
  }

  /**
   * An executor that runs every statement in one READ ONLY, REPEATABLE READ transaction (one
   * consistent snapshot, as `queue copy` needs), rolled back at close.
   */
  static async readOnly(pool: pg.Pool): Promise<PostgresSql> {
    const client = await pool.connect()
    const broken = watchClient(client)
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    } catch (error) {
      broken.done()
      client.release(error as Error)
      throw error
    }
    return new PostgresSql(pool, client, true, async () => {
      await client.query('ROLLBACK').catch(() => {})
      broken.done()
      client.release(broken.error)
      await pool.end()
    })
  }
}

/** A statement's promise, its error wrapped as the queue's when the connection went away. */
async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (error) {
    throw asQueueError(error)
  }
}

/**
 * Run `fn` on a client of its own inside BEGIN … COMMIT (ROLLBACK on error), after taking the
 * advisory lock `lock` when given; the client goes back to the pool, as broken if its connection
 * failed. The executor's transactions and the migrations both go through here.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, lock?: string): Promise<T> {
  const client = await pool.connect()
  const broken = watchClient(client)
  try {
    await client.query('BEGIN')
    if (lock) await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey(lock)])
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    broken.done()
    client.release(broken.error)
  }
}

/**
 * A checked-out client has no pool listener for 'error': a connection that drops (server restart,
 * failover) would crash the process. Keep the error; the query in flight rejects on its own, and a
 * broken client is released as broken so the pool discards it.
 */
function watchClient(client: pg.PoolClient): {readonly error: Error | undefined; done(): void} {
  let error: Error | undefined
  const onError = (e: Error) => {
    error = e
  }
  client.on('error', onError)
  return {
    get error() {
      return error
    },
    done: () => client.off('error', onError),
  }
}
