// The test set-up itself: where CI requires PostgreSQL (ANIMEZIPF_REQUIRE_PG=1), a server must answer
// at ANIMEZIPF_TEST_PG_URL, or the PostgreSQL half of the suite would silently not run. A spec file
// of its own, so it is declared once (test/pg.ts is a module that mocha may load twice).
import {expect} from 'chai'
import pg from 'pg'

import {BACKENDS, PG_URL} from './pg.js'

describe('test set-up', () => {
  it('has a PostgreSQL server where one is required (CI): it answers SELECT 1', async function () {
    this.timeout(20_000)
    const required = process.env.ANIMEZIPF_REQUIRE_PG === '1'
    if (required && !PG_URL) throw new Error('ANIMEZIPF_REQUIRE_PG=1 but ANIMEZIPF_TEST_PG_URL is not set: the PostgreSQL tests would not run')
    expect(BACKENDS).to.deep.equal(PG_URL ? ['sqlite', 'postgres'] : ['sqlite'])
    if (!PG_URL) return
    // a URL is given: the server behind it must answer, or every [postgres] test fails for a reason that is not theirs
    const client = new pg.Client({connectionString: PG_URL, connectionTimeoutMillis: 10_000})
    try {
      await client.connect()
      const r = await client.query<{one: number}>('SELECT 1 AS one')
      expect(r.rows).to.deep.equal([{one: 1}])
    } catch (error) {
      throw new Error(`${required ? 'ANIMEZIPF_REQUIRE_PG=1 and ' : ''}ANIMEZIPF_TEST_PG_URL names a server that does not answer: ${(error as Error).message}`)
    } finally {
      await client.end().catch(() => {})
    }
  })
})
