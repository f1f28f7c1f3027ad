import pg from 'pg'

import {EXIT, SchemaBehindError, UserError} from '../../errors.js'
import {maskUrl} from '../url.js'
import {PG_MIGRATIONS} from './migrations.js'
import {PG_TYPES, PostgresSql, inTransaction} from './sql.js'

const PG_SCHEMA_VERSION = PG_MIGRATIONS.length

/** A connection failure said in one line, the password masked. */
function explain(error: unknown, url: string): UserError {
  const e = error as {code?: string; message?: string}
  const where = maskUrl(url)
  if (e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND' || e.code === '57P03') {
    return new UserError(
      `cannot reach PostgreSQL at ${where}: ${e.code}`,
      'start the server or fix [queue] url / ANIMEZIPF_QUEUE_URL; run again later',
      EXIT.TRY_LATER,
    )
  }
  if (e.code === '28P01' || e.code === '28000')
    return new UserError(`PostgreSQL at ${where} refused the login: ${e.message}`, 'check the user and password (PGPASSWORD) of [queue] url')
  if (e.code === '3D000') return new UserError(`PostgreSQL at ${where}: ${e.message}`, 'create the database first (createdb NAME), or fix the URL')
  return new UserError(`PostgreSQL at ${where}: ${e.message ?? String(error)}`, 'check [queue] url and the server log')
}

function newPool(url: string, size: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: size,
    types: PG_TYPES,
    // times are compared and stored in UTC, and printed in ISO form, whatever the server's settings
    options: '-c TimeZone=UTC -c DateStyle=ISO',
    application_name: 'animezipf',
    connectionTimeoutMillis: 60_000,
  })
  // an idle client losing its connection must not crash the process; the next query reports it
  pool.on('error', () => {})
  return pool
}

async function migrate(pool: pg.Pool, url: string): Promise<void> {
  // two hosts starting at once: one migrates, the other waits for the lock and then finds nothing to do
  await inTransaction(
    pool,
    async (client) => {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
      )
      const {rows} = await client.query<{v: number}>(`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`)
      const version = Number(rows[0]!.v)
      if (version > PG_SCHEMA_VERSION) {
        throw new UserError(
          `the PostgreSQL queue at ${maskUrl(url)} has schema version ${version}, newer than this animezipf understands (${PG_SCHEMA_VERSION}); it was left untouched`,
          'upgrade animezipf on this host (npm install -g animezipf@latest)',
        )
      }
      // several statements per migration: the simple query protocol, so no parameters here
      for (let v = version; v < PG_SCHEMA_VERSION; v++) {
        await client.query(PG_MIGRATIONS[v]!)
        await client.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [v + 1])
      }
    },
    'schema-migrations',
  )
}

async function schemaVersion(pool: pg.Pool): Promise<number> {
  const {rows} = await pool.query<{present: boolean}>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`)
  if (!rows[0]!.present) return 0
  return Number((await pool.query<{v: number}>(`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`)).rows[0]!.v)
}

/**
 * Open the PostgreSQL queue: a pool, the migrations applied (read-write), or one READ ONLY
 * transaction that is rolled back at close (--dry-run, status).
 */
export async function openPostgres(url: string, options: {readonly: boolean; poolSize?: number}): Promise<PostgresSql> {
  // a connection per concurrent worker and a few for heartbeats; PostgreSQL's default limit is 100
  const pool = newPool(url, options.readonly ? 1 : (options.poolSize ?? 12))
  try {
    if (options.readonly) {
      const version = await schemaVersion(pool)
      if (version > PG_SCHEMA_VERSION) {
        throw new UserError(
          `the PostgreSQL queue at ${maskUrl(url)} has schema version ${version}, newer than this animezipf understands (${PG_SCHEMA_VERSION})`,
          'upgrade animezipf on this host',
        )
      }
      if (version < PG_SCHEMA_VERSION) {
        throw new SchemaBehindError(
          version,
          `the PostgreSQL queue at ${maskUrl(url)} ${version === 0 ? 'has no animezipf tables yet' : `has schema version ${version} and needs an upgrade`}, which a read-only command does not do`,
          'run a stage command once without --dry-run (e.g. `animezipf scrape` or `animezipf import`) to create or upgrade it',
        )
      }
      return await PostgresSql.readOnly(pool)
    }
    await migrate(pool, url)
    return new PostgresSql(pool)
  } catch (error) {
    await pool.end().catch(() => {})
    if (error instanceof UserError) throw error
    throw explain(error, url)
  }
}
