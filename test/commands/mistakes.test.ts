// Mistakes a new user makes: each is one line on stderr with what to do, exit 2, no stack trace,
// and the database and files unchanged.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'

import {BIN, runCliAsync, seedDatabase, tempDir} from '../helpers.js'

function digest(file: string): string {
  return createHash('sha1').update(readFileSync(file)).digest('hex')
}

describe('mistakes: one line, exit 2, nothing changed', function () {
  this.timeout(120_000)
  let data: string
  let db: string

  before(async () => {
    data = path.join(tempDir(), 'data')
    db = path.join(data, 'jobs.db')
    await seedDatabase(db, 2, 3, 'transcribed')
  })

  const cases: {name: string; args: () => string[]; message: RegExp}[] = [
    {name: 'status with --data-dir on a file', args: () => ['status', '--data-dir', '/etc/passwd'], message: /--data-dir \/etc\/passwd is a file, not a folder/},
    {name: 'tokenize with --data-dir on a file', args: () => ['tokenize', '--data-dir', '/etc/passwd'], message: /--data-dir \/etc\/passwd is a file, not a folder/},
    {name: 'a data folder under a file', args: () => ['status', '--data-dir', '/etc/passwd/data'], message: /--data-dir \/etc\/passwd\/data is under \/etc\/passwd, which is a file/},
    {name: 'status --anime-id of no anime', args: () => ['status', '--data-dir', data, '--anime-id', '999999'], message: /no anime with MyAnimeList id 999999/},
    {name: 'tokenize --anime-id of no anime', args: () => ['tokenize', '--data-dir', data, '--anime-id', '999999'], message: /no anime with MyAnimeList id 999999/},
    {name: 'tokenize --dry-run --anime-id of no anime', args: () => ['tokenize', '--data-dir', data, '--anime-id', '999999', '--dry-run'], message: /no anime with MyAnimeList id 999999/},
    {name: 'analyze --anime-id of no anime', args: () => ['analyze', '--data-dir', data, '--anime-id', '999999'], message: /no anime with MyAnimeList id 999999/},
    {name: 'retry --anime-id of no anime', args: () => ['retry', '--data-dir', data, '--anime-id', '999999'], message: /no anime with MyAnimeList id 999999/},
    {name: 'transcribe --download-model of no model', args: () => ['transcribe', '--data-dir', data, '--download-model', 'gigantic'], message: /unknown whisper model "gigantic"/},
    {name: 'retry --stage of no stage', args: () => ['retry', '--data-dir', data, '--stage', 'compile'], message: /Expected --stage=compile to be one of/},
    {name: 'download --workers 0', args: () => ['download', '--data-dir', data, '--workers', '0'], message: /Parsing --workers: Expected an integer greater than or equal to 1 but received: 0/},
    {name: 'tokenize --workers -1', args: () => ['tokenize', '--data-dir', data, '--workers', '-1'], message: /Parsing --workers: Expected an integer greater than or equal to 0 but received: -1/},
    {name: 'status --anime-id abc', args: () => ['status', '--data-dir', data, '--anime-id', 'abc'], message: /Parsing --anime-id: Expected an integer but received: abc/},
    {name: 'analyze --bootstrap -3', args: () => ['analyze', '--data-dir', data, '--bootstrap', '-3'], message: /Parsing --bootstrap: Expected an integer greater than or equal to 0 but received: -3/},
    {name: 'import without files', args: () => ['import', '--data-dir', data], message: /Missing 1 required arg: paths — subtitle files/},
    {name: 'a misspelt command', args: () => ['tokenise', '--data-dir', data], message: /no command "tokenise" \(did you mean `animezipf tokenize`\?/},
  ]

  for (const c of cases) {
    it(c.name, async () => {
      const before = digest(db)
      const r = await runCliAsync(c.args())
      expect(r.code, r.stderr).to.equal(2)
      const lines = r.stderr.trim().split('\n')
      expect(lines, r.stderr).to.have.length(1)
      expect(lines[0]).to.match(/^animezipf: /)
      expect(lines[0]).to.match(c.message)
      expect(r.stderr).to.not.match(/\n\s+at /)
      expect(digest(db)).to.equal(before)
    })
  }

  it('--dry-run --force predicts what the real run does', async () => {
    const dir = path.join(tempDir(), 'data')
    await seedDatabase(path.join(dir, 'jobs.db'), 2, 3, 'tokenized')
    const dry = await runCliAsync(['tokenize', '--data-dir', dir, '--dry-run', '--force', '--json'])
    expect(dry.code, dry.stderr).to.equal(0)
    expect((JSON.parse(dry.stdout) as {would_claim: number}).would_claim).to.equal(6)
    const done = path.join(tempDir(), 'data')
    await seedDatabase(path.join(done, 'jobs.db'), 2, 3, 'complete')
    const plain = await runCliAsync(['analyze', '--data-dir', done, '--dry-run', '--json'])
    expect((JSON.parse(plain.stdout) as {would_analyze: unknown[]}).would_analyze).to.have.length(0)
    const forced = await runCliAsync(['analyze', '--data-dir', done, '--dry-run', '--force', '--json'])
    expect(forced.code, forced.stderr).to.equal(0)
    expect((JSON.parse(forced.stdout) as {would_analyze: {episodes: number}[]}).would_analyze.map((a) => a.episodes)).to.deep.equal([3, 3])
  })

  it('--json with an error also prints the error as JSON on stdout', async () => {
    const r = await runCliAsync(['status', '--data-dir', data, '--anime-id', '999999', '--json'])
    expect(r.code).to.equal(2)
    const parsed = JSON.parse(r.stdout) as {error: {code: number; message: string; hint: string}}
    expect(parsed.error.code).to.equal(2)
    expect(parsed.error.message).to.match(/no anime with MyAnimeList id 999999/)
    expect(parsed.error.hint).to.be.a('string')
  })

  it('status on a folder without a queue says so plainly, and creates nothing', async () => {
    const fresh = path.join(tempDir(), 'typo')
    const r = await runCliAsync(['status', '--data-dir', fresh])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/no queue at .*typo\/jobs\.db yet: a fresh folder .* or a mistyped --data-dir/)
    const j = await runCliAsync(['status', '--data-dir', fresh, '--json'])
    expect((JSON.parse(j.stdout) as {database_exists: boolean}).database_exists).to.equal(false)
    expect(existsSync(fresh)).to.equal(false)
    const seeded = JSON.parse((await runCliAsync(['status', '--data-dir', data, '--json'])).stdout) as {database_exists: boolean}
    expect(seeded.database_exists).to.equal(true)
  })

  it('status --watch ends with 130 on Ctrl-C and streams one JSON object per line', async () => {
    const child = spawn(process.execPath, [BIN, 'status', '--data-dir', data, '--watch', '1', '--json'], {env: {...process.env, NO_COLOR: '1'}})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
    const t0 = Date.now()
    while (out.split('\n').filter(Boolean).length < 2) {
      if (Date.now() - t0 > 30_000) throw new Error(`no views: ${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGINT')
    expect(await exited).to.equal(130)
    const lines = out.trim().split('\n')
    expect(lines.length).to.be.at.least(2)
    for (const l of lines) expect((JSON.parse(l) as {jobs: {total: number}}).jobs.total).to.equal(6)
    expect(readdirSync(data).filter((f) => f.endsWith('-wal') || f.endsWith('-shm'))).to.deep.equal([])
  })
})
