// Defects found by the crash and concurrency audit, each reproduced with real processes.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {BIN, freshQueueTarget, openAt, openDatabase, runCli, runCliAsync, tempDir, writeShowSubtitles} from '../helpers.js'
import {BACKENDS} from '../pg.js'

for (const backend of BACKENDS) {
  describe(`concurrent commands [${backend}]`, function () {
    this.timeout(300_000)

    it('parallel imports of different shows get different local ids, and each show its own transcripts', async () => {
      const work = tempDir()
      const data = path.join(work, 'data')
      const env: Record<string, string> = backend === 'postgres' ? {ANIMEZIPF_QUEUE_URL: await freshQueueTarget('postgres')} : {}
      const shows = Array.from({length: 6}, (_, i) => ({title: `Parallel Show ${i}`, dir: path.join(work, `s${i}`)}))
      shows.forEach((s, i) => writeShowSubtitles(s.dir, 2, 100 + i, 10))
      const runs = await Promise.all(shows.map((s) => runCliAsync(['import', s.dir, '--title', s.title, '--data-dir', data, '--json'], {env})))
      for (const r of runs) expect(r.code, r.stderr).to.equal(0)
      const ids = runs.map((r) => JSON.parse(r.stdout).anime.mal_id as number)
      expect(new Set(ids).size).to.equal(6)
      const q = await openAt(env.ANIMEZIPF_QUEUE_URL ?? path.join(data, 'jobs.db'))
      for (const [i, s] of shows.entries()) {
        const row = (await q.anime.byTitle(s.title))!
        expect(row.mal_id).to.equal(ids[i])
        const jobs = await q.sql.all<{mal_id: number; transcript_path: string; anime_title: string}>(
          `SELECT mal_id, transcript_path, anime_title FROM jobs WHERE anime_id = @id`,
          {id: row.id},
        )
        expect(jobs).to.have.length(2)
        for (const j of jobs) {
          expect(j.anime_title).to.equal(s.title)
          expect(j.transcript_path.startsWith(`transcripts/${row.mal_id}/`)).to.equal(true)
        }
      }
      await q.close()
    })

    it('analyze: two runs at once and a run killed after its analyses all end with an aggregate of every anime', async () => {
      const work = tempDir()
      const data = path.join(work, 'data')
      const env: Record<string, string> = backend === 'postgres' ? {ANIMEZIPF_QUEUE_URL: await freshQueueTarget('postgres')} : {}
      for (let i = 0; i < 5; i++) {
        const files = writeShowSubtitles(path.join(work, `a${i}`), 2, 300 + i, 40)
        expect(
          (await runCliAsync(['import', ...files, '--title', `Aggregate Show ${i}`, '--genre', i % 2 ? 'Drama' : 'Comedy', '--data-dir', data], {env})).code,
        ).to.equal(0)
      }
      expect((await runCliAsync(['tokenize', '--workers', '1', '--data-dir', data], {env})).code).to.equal(0)
      const globalFit = path.join(data, 'analysis', 'aggregated', 'global_zipf.json')
      const corpusAnime = () => (JSON.parse(readFileSync(globalFit, 'utf8')) as {corpus: {anime: number}}).corpus.anime

      // two at once: each anime analyzed once, the aggregate has all five
      const both = await Promise.all([
        runCliAsync(['analyze', '--data-dir', data, '--json'], {env}),
        runCliAsync(['analyze', '--data-dir', data, '--json'], {env}),
      ])
      for (const r of both) expect(r.code, r.stderr).to.equal(0)
      expect(both.map((r) => JSON.parse(r.stdout).analyzed as number).reduce((a, b) => a + b, 0)).to.equal(5)
      expect(corpusAnime()).to.equal(5)

      // a sixth anime whose run is killed (SIGKILL) as soon as it has analyzed it, before or while aggregating
      const files = writeShowSubtitles(path.join(work, 'late'), 2, 999, 40)
      expect((await runCliAsync(['import', ...files, '--title', 'Late Show', '--data-dir', data], {env})).code).to.equal(0)
      expect((await runCliAsync(['tokenize', '--workers', '1', '--data-dir', data], {env})).code).to.equal(0)
      const child = spawn(process.execPath, [BIN, 'analyze', '--data-dir', data], {env: {...process.env, NO_COLOR: '1', ...env}})
      let log = ''
      await new Promise<void>((resolve) => {
        child.stderr.on('data', (d) => {
          log += d
          if (/Late Show.*complete, analyzed/.test(log)) {
            child.kill('SIGKILL')
            resolve()
          }
        })
        child.on('exit', () => resolve())
      })
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve)))
      // whatever it managed, the next run brings the aggregate up to date, and the one after has nothing to do
      const next = await runCliAsync(['analyze', '--data-dir', data, '--json'], {env})
      expect(next.code, next.stderr).to.equal(0)
      expect(corpusAnime()).to.equal(6)
      const again = await runCliAsync(['analyze', '--data-dir', data, '--json'], {env})
      expect(JSON.parse(again.stdout).global).to.equal(null)
    })
  })
}

describe('read-only commands', function () {
  this.timeout(120_000)

  it('status answers while another process holds the write lock, and writes nothing', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'jobs.db')
    const db = openDatabase(file)
    db.prepare(`INSERT INTO anime (mal_id, title) VALUES (1, 'Locked')`).run()
    db.close()
    // another process takes the write lock and keeps it
    const holder = spawn(process.execPath, [
      '-e',
      `const D = require(${JSON.stringify(path.join(path.dirname(BIN), '..', 'node_modules', 'better-sqlite3'))}); const db = new D(${JSON.stringify(file)});
       db.prepare('BEGIN IMMEDIATE').run(); db.prepare("UPDATE anime SET title = 'x'").run(); console.log('locked'); setTimeout(() => {}, 60000)`,
    ])
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()))
    try {
      const r = await runCliAsync(['status', '--json', '--data-dir', dir])
      expect(r.code, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout).anime).to.equal(1)
    } finally {
      holder.kill('SIGKILL')
    }
    await sleep(100)
  })

  it('status and --dry-run on an older database upgrade only an in-memory view', () => {
    const dir = tempDir()
    const file = path.join(dir, 'jobs.db')
    openDatabase(file).close()
    const raw = openDatabase(file)
    // back to version 3: the tables and columns of migrations 4 to 7 are gone
    raw.exec(`DROP INDEX idx_jobs_content_hash; ALTER TABLE jobs DROP COLUMN content_hash; DROP TABLE disk_pauses; DROP TABLE transcriptions; ALTER TABLE anime_selection_cache DROP COLUMN moved_from_index; ALTER TABLE anime_selection_cache DROP COLUMN index_checked_at;
      DROP TABLE anime_candidates; DROP TABLE selection_attempts; DROP TABLE api_usage;
      ALTER TABLE anime_selection_cache DROP COLUMN method; ALTER TABLE anime_selection_cache DROP COLUMN model;
      ALTER TABLE anime_selection_cache DROP COLUMN api_calls; ALTER TABLE anime_selection_cache DROP COLUMN cost_usd;
      ALTER TABLE anime_selection_cache DROP COLUMN updated_at; PRAGMA user_version = 3;`)
    raw.pragma('wal_checkpoint(TRUNCATE)')
    raw.close()
    const before = readFileSync(file)
    expect(runCli(['status', '--json', '--data-dir', dir]).code).to.equal(0)
    expect(runCli(['tokenize', '--dry-run', '--data-dir', dir]).code).to.equal(0)
    expect(readFileSync(file).equals(before)).to.equal(true)
    expect(existsSync(`${file}-wal`)).to.equal(false)
  })
})
