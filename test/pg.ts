// The PostgreSQL half of the tests: a fresh database per test on the server ANIMEZIPF_TEST_PG_URL
// names (`.ci/run` starts one with scripts/pg-test-server.sh). Without it only SQLite runs, except
// where ANIMEZIPF_REQUIRE_PG=1 (CI): then its absence is a failure, never a silent skip (test/pg.test.ts).
// No test is declared here: this module is imported by helpers and specs, and mocha may load it twice
// (once through require, once through import), which would declare a test twice.
import {randomBytes} from 'node:crypto'
import pg from 'pg'

export const PG_URL = process.env.ANIMEZIPF_TEST_PG_URL || undefined

/** The backends a contract suite runs on: its describe titles carry [sqlite] / [postgres]. */
export const BACKENDS: ('sqlite' | 'postgres')[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite']

const made: string[] = []

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** An empty database of its own on the test server; dropped when the tests end. */
export async function freshPgDatabase(): Promise<string> {
  if (!PG_URL) throw new Error('ANIMEZIPF_TEST_PG_URL is not set')
  const name = `azt_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({connectionString: PG_URL})
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  made.push(name)
  return withDatabase(PG_URL, name)
}

after(async function () {
  if (!PG_URL || made.length === 0) return
  const admin = new pg.Client({connectionString: PG_URL})
  await admin.connect()
  try {
    for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  } finally {
    await admin.end()
  }
})
