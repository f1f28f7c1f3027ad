// A jobs.db that is not the queue's (issue #20, items 2 and 3): a stray write-ahead log of another
// database beside it, or another program's SQLite file in its place. SQLite would replay the log
// over the queue, or the migrations would turn the file into a queue; either is refused, exit 2,
// one line, every byte left as it was (no WAL switch, no -wal file made).
import {expect} from 'chai'
import Database from 'better-sqlite3'
import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {APPLICATION_ID} from '../../src/queue/sqlite/ownership.js'
import {digest} from '../fixtures/mistakes.js'
import {runCliAsync, seedDatabase, tempDir} from '../helpers.js'

const GOOD = '1\n00:00:01,000 --> 00:00:02,000\nこんにちは、世界。\n'

/** The bytes of every file of the database (main, -wal, -shm) that exists, and which exist. */
function snapshot(file: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) out[path.basename(f)] = digest(f)
  return out
}

/** An SQLite file another program made, by the statements given (rollback journal, as most do). */
function foreignDatabase(file: string, sql: string): void {
  mkdirSync(path.dirname(file), {recursive: true})
  const db = new Database(file)
  db.exec(sql)
  db.close()
}

/** A copy of the write-ahead log of a live WAL database of another program, with committed frames. */
function foreignWal(dir: string): string {
  const file = path.join(dir, 'other.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('wal_autocheckpoint = 0')
  db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('a'), ('b')`)
  const copy = path.join(dir, 'stray-wal')
  copyFileSync(`${file}-wal`, copy)
  db.close()
  return copy
}

async function expectRefused(args: string[], file: string, message: RegExp): Promise<void> {
  const before = snapshot(file)
  const r = await runCliAsync(args)
  expect(r.code, r.stderr).to.equal(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).to.have.length(1)
  expect(lines[0]).to.match(/^animezipf: /)
  expect(lines[0]).to.match(message)
  expect(r.stderr).to.not.match(/\n\s+at /)
  expect(snapshot(file), 'the database files are left byte for byte').to.deep.equal(before)
}

describe('a jobs.db that is not the queue: refused untouched, exit 2', function () {
  this.timeout(120_000)

  describe('a stray jobs.db-wal of another database', () => {
    for (const legacy of [false, true]) {
      it(`is refused by a dry run and by import${legacy ? ' (a queue made before the application id was set)' : ''}; the queue keeps its jobs`, async () => {
        const dir = tempDir()
        const data = path.join(dir, 'data')
        const db = path.join(data, 'jobs.db')
        await seedDatabase(db, 2, 3, 'transcribed')
        if (legacy) {
          const raw = new Database(db)
          raw.pragma('application_id = 0')
          raw.close()
        }
        expect(existsSync(`${db}-wal`), 'the queue was closed cleanly').to.equal(false)
        copyFileSync(foreignWal(dir), `${db}-wal`)
        const sub = path.join(dir, 'ep01.srt')
        writeFileSync(sub, GOOD)
        const message = /jobs\.db-wal is the write-ahead log of another database.*move .*jobs\.db-wal/
        await expectRefused(['tokenize', '--dry-run', '--data-dir', data], db, message)
        await expectRefused(['status', '--data-dir', data], db, message)
        await expectRefused(['import', sub, '--title', 'Stray', '--data-dir', data], db, message)
        // once the log is moved away the queue is whole
        rmSync(`${db}-wal`)
        const after = new Database(db, {readonly: true})
        expect((after.prepare('SELECT COUNT(*) AS n FROM jobs').get() as {n: number}).n).to.equal(6)
        after.close()
      })
    }

    it('its own write-ahead log (a crash left it with committed frames) is replayed, not refused', async () => {
      const dir = tempDir()
      const db = path.join(dir, 'data', 'jobs.db')
      await seedDatabase(db, 1, 2, 'transcribed')
      // a live writer's log: commit, copy the files as a kill -9 would leave them
      const live = new Database(db)
      live.pragma('wal_autocheckpoint = 0')
      live.exec(`UPDATE jobs SET stage = 'tokenized'`)
      const crashed = path.join(dir, 'crashed')
      mkdirSync(crashed)
      copyFileSync(db, path.join(crashed, 'jobs.db'))
      copyFileSync(`${db}-wal`, path.join(crashed, 'jobs.db-wal'))
      live.close()
      const r = await runCliAsync(['status', '--json', '--data-dir', crashed])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/tokenized/)
    })
  })

  describe("another program's SQLite file at jobs.db", () => {
    const shapes: [string, string, RegExp][] = [
      [
        'no schema version, tables of its own',
        `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')`,
        /another program \(tables notes\)/,
      ],
      [
        'its own jobs table',
        `CREATE TABLE jobs (id INTEGER PRIMARY KEY, cron TEXT); INSERT INTO jobs (cron) VALUES ('0 * * * *')`,
        /another program \(tables jobs\)/,
      ],
      ['an older schema version that is not ours', `CREATE TABLE settings (k TEXT, v TEXT); PRAGMA user_version = 3`, /another program \(tables settings\)/],
      ['an application id of its own', `PRAGMA application_id = 1198894414; CREATE TABLE t (x)`, /another program \(application id 0x4775ad4e\)/],
    ]
    for (const [name, sql, message] of shapes) {
      it(`${name}: import and status refuse it, no table added, still a rollback-journal file`, async () => {
        const dir = tempDir()
        const data = path.join(dir, 'data')
        const db = path.join(data, 'jobs.db')
        foreignDatabase(db, sql)
        const sub = path.join(dir, 'ep01.srt')
        writeFileSync(sub, GOOD)
        const full = new RegExp(`jobs\\.db is an SQLite database of another program.*left untouched.*${message.source}|${message.source}`)
        await expectRefused(['import', sub, '--title', 'Theirs', '--data-dir', data], db, full)
        await expectRefused(['status', '--data-dir', data], db, full)
        await expectRefused(['retry', '--data-dir', data], db, full)
        expect(existsSync(`${db}-wal`)).to.equal(false)
        const header = readFileSync(db)
        expect([header[18], header[19]], 'not switched to WAL').to.deep.equal([1, 1])
        const raw = new Database(db, {readonly: true})
        const tables = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as {name: string}[]).map((t) => t.name)
        raw.close()
        expect(tables).to.not.include('anime')
      })
    }

    it('an empty file is ours to make a queue in, with our application id', async () => {
      const dir = tempDir()
      const data = path.join(dir, 'data')
      const db = path.join(data, 'jobs.db')
      mkdirSync(data)
      writeFileSync(db, '')
      const sub = path.join(dir, 'ep01.srt')
      writeFileSync(sub, GOOD)
      const r = await runCliAsync(['import', sub, '--title', 'Mine', '--data-dir', data])
      expect(r.code, r.stderr).to.equal(0)
      const raw = new Database(db, {readonly: true})
      expect(raw.pragma('application_id', {simple: true})).to.equal(APPLICATION_ID)
      expect((raw.prepare('SELECT COUNT(*) AS n FROM anime').get() as {n: number}).n).to.equal(1)
      raw.close()
    })

    it('a queue made before the application id was set is still ours, and gains the id', async () => {
      const dir = tempDir()
      const data = path.join(dir, 'data')
      const db = path.join(data, 'jobs.db')
      await seedDatabase(db, 1, 2, 'failed')
      const raw = new Database(db)
      raw.pragma('application_id = 0')
      raw.close()
      const r = await runCliAsync(['retry', '--data-dir', data])
      expect(r.code, r.stderr).to.equal(0)
      const after = new Database(db, {readonly: true})
      expect(after.pragma('application_id', {simple: true})).to.equal(APPLICATION_ID)
      after.close()
    })
  })

  describe('a damaged queue (issue #20, item 11): the same one line from every command, reading or writing', () => {
    const damages: [string, (bytes: Buffer) => Buffer][] = [
      // every other page from the fourth on overwritten with a pattern: the schema reads, the rows do not
      [
        'bad pages',
        (bytes) => {
          const out = Buffer.from(bytes)
          for (let at = 4096 * 3; at < out.length; at += 4096 * 2) out.fill(0xa5, at, Math.min(out.length, at + 512))
          return out
        },
      ],
      ['truncated in the middle of a page', (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2) + 100)],
    ]
    for (const [name, damage] of damages) {
      it(`${name}: status, a dry run, retry and tokenize each say it is damaged, exit 2, and write nothing`, async () => {
        const dir = tempDir()
        const data = path.join(dir, 'data')
        const db = path.join(data, 'jobs.db')
        await seedDatabase(db, 30, 20, 'transcribed')
        writeFileSync(db, damage(readFileSync(db)))
        for (const args of [['status'], ['tokenize', '--dry-run'], ['retry'], ['tokenize']]) {
          await expectRefused(
            [...args, '--data-dir', data],
            db,
            /the queue database .*jobs\.db is damaged \(database disk image is malformed\).*restore it from a backup/,
          )
        }
      })
    }
  })
})
