import {expect} from 'chai'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

import {SCHEMA_VERSION} from '../../src/queue/sqlite/migrations.js'
import {APPLICATION_ID} from '../../src/queue/sqlite/ownership.js'
import {UserError} from '../../src/errors.js'
import {openDatabase, runCli, tempDir} from '../helpers.js'

describe('schema migrations', () => {
  it('migrates an empty file to the current schema with WAL and foreign keys', () => {
    const file = path.join(tempDir(), 'jobs.db')
    writeFileSync(file, '')
    const db = openDatabase(file)
    expect(db.pragma('user_version', {simple: true})).to.equal(SCHEMA_VERSION)
    expect(db.pragma('journal_mode', {simple: true})).to.equal('wal')
    expect(db.pragma('foreign_keys', {simple: true})).to.equal(1)
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {name: string}[]).map((t) => t.name)
    for (const t of ['anime', 'jobs', 'analysis_results', 'workers', 'anime_selection_cache', 'job_events', 'anime_categories']) expect(tables).to.include(t)
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'`).all() as {name: string}[]).map(
      (i) => i.name,
    )
    expect(new Set(indexes).size).to.equal(indexes.length)
    // the stage CHECK list holds
    expect(() => db.prepare(`INSERT INTO anime (mal_id, title) VALUES (1, 'x')`).run()).to.not.throw()
    expect(() => db.prepare(`INSERT INTO jobs (anime_id, anime_title, episode, stage) VALUES (1, 'x', 1, 'nonsense')`).run()).to.throw(/CHECK/)
    db.close()
    // opening again is a no-op
    const again = openDatabase(file)
    expect(again.pragma('user_version', {simple: true})).to.equal(SCHEMA_VERSION)
    again.close()
  })

  it('refuses a database newer than the code and leaves it byte-identical', () => {
    const dir = tempDir()
    const file = path.join(dir, 'jobs.db')
    const raw = new Database(file)
    raw.exec(`CREATE TABLE future (x INTEGER)`)
    // a queue of a later animezipf: our application id, a schema version past ours
    raw.pragma(`application_id = ${APPLICATION_ID}`)
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`)
    raw.close()
    const before = readFileSync(file)
    expect(() => openDatabase(file)).to.throw(UserError, /newer than this animezipf understands/)
    expect(readFileSync(file).equals(before)).to.equal(true)
    expect(existsSync(`${file}-wal`)).to.equal(false)

    const r = runCli(['status', '--data-dir', dir])
    expect(r.code).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/schema version \d+, newer than/)
    expect(readFileSync(file).equals(before)).to.equal(true)
  })

  it('a file that is not a database is a clear error', () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'jobs.db'), 'hello, this is not sqlite at all, just some text that is long enough to matter')
    const r = runCli(['status', '--data-dir', dir])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/is not an SQLite database/)
  })
})
