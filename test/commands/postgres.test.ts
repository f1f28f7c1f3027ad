// The PostgreSQL backend from the command line: masked passwords, read-only dry runs, refused schemas.
import {expect} from 'chai'
import path from 'node:path'

import {networkFilesystem} from '../../src/queue/index.js'
import {maskUrl} from '../../src/queue/url.js'
import {openAt, runCliAsync, tempDir, writeShowSubtitles} from '../helpers.js'
import {BACKENDS, freshPgDatabase} from '../pg.js'

describe('queue location', () => {
  it('masks the password of a queue URL wherever it is shown', () => {
    expect(maskUrl('postgres://zipf:s3cr%3At@db.lan:5432/animezipf')).to.equal('postgres://zipf:***@db.lan:5432/animezipf')
    expect(maskUrl('postgres://zipf@db.lan/animezipf')).to.equal('postgres://zipf@db.lan/animezipf')
    expect(maskUrl('postgres://u:p@[bad')).to.equal('postgres://u:***@[bad')
  })

  it('knows the network filesystems where SQLite must not live', () => {
    expect(networkFilesystem('/x', () => ({type: 0x6969}))).to.equal('NFS')
    expect(networkFilesystem('/x', () => ({type: 0xff534d42}))).to.equal('CIFS')
    expect(networkFilesystem('/x', () => ({type: 0xef53}))).to.equal(undefined)
    expect(networkFilesystem(tempDir())).to.equal(undefined)
  })

  it('a [queue] url that is neither sqlite: nor postgres:// is one line, exit 2, with no password in it', async () => {
    const r = await runCliAsync(['status', '--data-dir', tempDir()], {env: {ANIMEZIPF_QUEUE_URL: 'mysql://root:hunter2@db/x'}})
    expect(r.code).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/neither sqlite:PATH nor postgres/)
    expect(r.stderr).to.not.include('hunter2')
    // the same mistake in queue copy names the flag it came from
    const copy = await runCliAsync(['queue', 'copy', '--to', '/backup/jobs.db', '--data-dir', tempDir()])
    expect(copy.code).to.equal(2)
    expect(copy.stderr).to.match(/--to "\/backup\/jobs.db" is neither sqlite:PATH nor postgres/)
  })
})

if (BACKENDS.includes('postgres')) {
  describe('PostgreSQL from the command line [postgres]', function () {
    this.timeout(120_000)

    const withPassword = (url: string) => {
      const u = new URL(url)
      u.password = 'n0t-shown'
      return u.toString()
    }

    it('status and every message mask the password; --dry-run changes nothing', async () => {
      const url = withPassword(await freshPgDatabase())
      const data = tempDir()
      const subs = writeShowSubtitles(path.join(tempDir(), 'subs'), 2, 5, 20)
      const env = {ANIMEZIPF_QUEUE_URL: url}
      expect((await runCliAsync(['import', ...subs, '--title', 'PG Show', '--data-dir', data], {env})).code).to.equal(0)
      const status = await runCliAsync(['status', '--json', '--data-dir', data], {env})
      expect(status.code, status.stderr).to.equal(0)
      expect(status.stdout + status.stderr).to.not.include('n0t-shown')
      expect(JSON.parse(status.stdout).database).to.include(':***@')
      const human = await runCliAsync(['status', '--data-dir', data], {env})
      expect(human.stdout).to.not.include('n0t-shown')

      const q = await openAt(url)
      const before = await q.sql.all(`SELECT id, stage, updated_at FROM jobs ORDER BY id`)
      const events = (await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events`))!.n
      const dry = await runCliAsync(['tokenize', '--dry-run', '--force', '--json', '--data-dir', data], {env})
      expect(dry.code, dry.stderr).to.equal(0)
      expect(JSON.parse(dry.stdout).would_claim).to.equal(2)
      expect(await q.sql.all(`SELECT id, stage, updated_at FROM jobs ORDER BY id`)).to.deep.equal(before)
      expect((await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events`))!.n).to.equal(events)
      await q.close()
    })

    it('refuses a queue of a newer schema, and an unreachable server is one line with exit 75', async () => {
      const url = await freshPgDatabase()
      const q = await openAt(url)
      await q.sql.run(`INSERT INTO schema_migrations (version) VALUES (99)`)
      await q.close()
      const r = await runCliAsync(['tokenize', '--data-dir', tempDir()], {env: {ANIMEZIPF_QUEUE_URL: url}})
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(/schema version 99, newer than this animezipf understands/)

      const down = await runCliAsync(['status', '--data-dir', tempDir()], {env: {ANIMEZIPF_QUEUE_URL: 'postgres://zipf:pw@127.0.0.1:1/none'}})
      expect(down.code).to.equal(75)
      expect(down.stderr.trim().split('\n')).to.have.length(1)
      expect(down.stderr).to.match(/cannot reach PostgreSQL at postgres:\/\/zipf:\*\*\*@127\.0\.0\.1:1\/none/)
    })

    it('a read-only command on a database without the schema says how to create it', async () => {
      const url = await freshPgDatabase()
      const r = await runCliAsync(['status', '--data-dir', tempDir()], {env: {ANIMEZIPF_QUEUE_URL: url}})
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(/has no animezipf tables yet/)
    })
  })
}

describe('queue URL masking, every form', () => {
  it('hides passwords given as query parameters and in URLs that do not parse', () => {
    expect(maskUrl('postgres://u@h/db?password=secret&sslmode=require')).to.not.include('secret')
    expect(maskUrl('postgres:/u:secret@h/db')).to.not.include('secret')
    expect(maskUrl('postgres://u@h/db?sslpassword=s3')).to.not.include('s3')
    // base64 passwords hold '/' (and '@' may be left unencoded): URL parsing fails on them
    expect(maskUrl('postgres://u:se/cret@127.0.0.1:1/db')).to.equal('postgres://u:***@127.0.0.1:1/db')
    expect(maskUrl('postgres://u:a@b/c+d=@db.lan/x')).to.equal('postgres://u:***@db.lan/x')
  })
})
