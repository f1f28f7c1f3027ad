// Mistakes a new user makes: each is one line on stderr with what to do, exit 2, no stack trace,
// and the database and files unchanged.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BIN, ROOT, runCliAsync, seedDatabase, tempDir} from '../helpers.js'
import {type MistakeCase, mistakeCases} from '../fixtures/mistakes.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')

describe('mistakes: one line, exit 2, nothing changed', function () {
  this.timeout(120_000)
  let data: string
  let db: string

  let scratch: string
  before(async () => {
    data = path.join(tempDir(), 'data')
    db = path.join(data, 'jobs.db')
    await seedDatabase(db, 2, 3, 'transcribed')
    scratch = tempDir()
    mkdirSync(path.join(data, 'models'), {recursive: true})
    writeFileSync(path.join(data, 'models', 'ggml-large-v3-turbo.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(100)]))
  })
  const conf = (text: string) => garbage(`config-${Math.random().toString(16).slice(2)}.toml`, text)
  function garbage(name: string, content: string | Buffer): string {
    const file = path.join(scratch, name)
    writeFileSync(file, content)
    return file
  }
  function link(name: string, target: string): string {
    const file = path.join(scratch, name)
    if (!existsSync(file)) symlinkSync(target, file)
    return file
  }
  function subtitle(): string {
    return garbage('ep01.srt', '1\n00:00:01,000 --> 00:00:02,000\nこんにちは、世界。\n')
  }

  const cases: MistakeCase[] = [
    {
      name: 'status with --data-dir on a file',
      args: () => ['status', '--data-dir', '/etc/passwd'],
      message: /--data-dir \/etc\/passwd is a file, not a folder/,
    },
    {
      name: 'tokenize with --data-dir on a file',
      args: () => ['tokenize', '--data-dir', '/etc/passwd'],
      message: /--data-dir \/etc\/passwd is a file, not a folder/,
    },
    {
      name: 'a data folder under a file',
      args: () => ['status', '--data-dir', '/etc/passwd/data'],
      message: /--data-dir \/etc\/passwd\/data is under \/etc\/passwd, which is a file/,
    },
    {name: 'status --anime-id of no anime', args: () => ['status', '--data-dir', data, '--anime-id', '999999'], message: /no anime with MyAnimeList id 999999/},
    {
      name: 'tokenize --anime-id of no anime',
      args: () => ['tokenize', '--data-dir', data, '--anime-id', '999999'],
      message: /no anime with MyAnimeList id 999999/,
    },
    {
      name: 'tokenize --dry-run --anime-id of no anime',
      args: () => ['tokenize', '--data-dir', data, '--anime-id', '999999', '--dry-run'],
      message: /no anime with MyAnimeList id 999999/,
    },
    {
      name: 'analyze --anime-id of no anime',
      args: () => ['analyze', '--data-dir', data, '--anime-id', '999999'],
      message: /no anime with MyAnimeList id 999999/,
    },
    {
      // like every other stage (select answered 0 with an empty result before it ran through the one runner)
      name: 'select --anime-id of no anime',
      args: () => ['select', '--data-dir', data, '--anime-id', '999999'],
      env: () => ({PATH: `${FAKES}:${process.env.PATH}`}),
      message: /no anime with MyAnimeList id 999999/,
    },
    {
      name: 'queue copy without --to',
      args: () => ['queue', 'copy', '--data-dir', data],
      message: /^animezipf: missing required flag --to \(see `animezipf queue copy --help`\)$/m,
    },
    {name: 'retry --anime-id of no anime', args: () => ['retry', '--data-dir', data, '--anime-id', '999999'], message: /no anime with MyAnimeList id 999999/},
    {
      name: 'transcribe --download-model of no model',
      args: () => ['transcribe', '--data-dir', data, '--download-model', 'gigantic'],
      message: /unknown whisper model "gigantic"/,
    },
    {name: 'retry --stage of no stage', args: () => ['retry', '--data-dir', data, '--stage', 'compile'], message: /Expected --stage=compile to be one of/},
    {
      name: 'download --workers 0',
      args: () => ['download', '--data-dir', data, '--workers', '0'],
      message: /Parsing --workers: Expected an integer greater than or equal to 1 but received: 0/,
    },
    {
      name: 'tokenize --workers -1',
      args: () => ['tokenize', '--data-dir', data, '--workers', '-1'],
      message: /Parsing --workers: Expected an integer greater than or equal to 0 but received: -1/,
    },
    {
      name: 'status --anime-id abc',
      args: () => ['status', '--data-dir', data, '--anime-id', 'abc'],
      message: /Parsing --anime-id: Expected an integer but received: abc/,
    },
    {
      name: 'analyze --bootstrap -3',
      args: () => ['analyze', '--data-dir', data, '--bootstrap', '-3'],
      message: /Parsing --bootstrap: Expected an integer greater than or equal to 0 but received: -3/,
    },
    {name: 'import without files', args: () => ['import', '--data-dir', data], message: /Missing 1 required arg: paths — subtitle files/},
    {name: 'a misspelt command', args: () => ['tokenise', '--data-dir', data], message: /no command "tokenise" \(did you mean `animezipf tokenize`\?/},
    // configuration
    {
      name: 'a malformed config.toml',
      args: () => ['status', '--data-dir', data, '--config', conf('[queue\nmax_retries = 3\n')],
      message: /not valid TOML at line 1/,
    },
    {
      name: 'an unknown key in config.toml',
      args: () => ['status', '--data-dir', data, '--config', conf('[queue]\nmax_retrys = 3\n')],
      message: /unknown key "queue\.max_retrys" in section \[queue\]/,
    },
    {
      name: 'a negative threshold',
      args: () => ['status', '--data-dir', data, '--config', conf('[disk_management]\npause_threshold_gb = -5\n')],
      message: /"disk_management\.pause_threshold_gb" must be a number >= 0 and <= 1000000, got -5/,
    },
    {
      name: 'a resume threshold above the pause threshold',
      args: () => ['status', '--data-dir', data, '--config', conf('[disk_management]\nresume_threshold_gb = 290\n')],
      message: /resume_threshold_gb <= pause_threshold_gb <= hard_limit_gb/,
    },
    {
      name: 'a lease of 10^13 seconds',
      args: () => ['status', '--data-dir', data],
      env: () => ({ANIMEZIPF_QUEUE_LEASE_SECONDS: '10000000000000'}),
      message: /ANIMEZIPF_QUEUE_LEASE_SECONDS must be a whole number >= 1 and <= 86400/,
    },
    {
      name: 'a shutdown grace past what a timer holds',
      args: () => ['status', '--data-dir', data],
      env: () => ({ANIMEZIPF_QUEUE_SHUTDOWN_GRACE_SECONDS: '99999999999'}),
      message: /ANIMEZIPF_QUEUE_SHUTDOWN_GRACE_SECONDS must be a whole number >= 0 and <= 86400/,
    },
    {
      name: 'an empty ANIMEZIPF_DATA_ROOT_DIR',
      args: () => ['status'],
      env: () => ({ANIMEZIPF_DATA_ROOT_DIR: ''}),
      message: /environment variable ANIMEZIPF_DATA_ROOT_DIR is empty/,
    },
    {
      name: 'a --config that does not exist',
      args: () => ['status', '--data-dir', data, '--config', '/nonexistent/config.toml'],
      message: /config file not found: \/nonexistent\/config\.toml/,
    },
    // the database
    {
      name: 'a queue file that is not SQLite',
      args: () => ['status'],
      env: () => ({ANIMEZIPF_QUEUE_URL: `sqlite:${garbage('not-sqlite.db', 'this is not a database at all, just text')}`}),
      message: /is not an SQLite database \(or is damaged\)/,
    },
    {
      name: 'a queue URL of another kind',
      args: () => ['status', '--data-dir', data],
      env: () => ({ANIMEZIPF_QUEUE_URL: 'mysql://root:hunter2@db/x'}),
      message: /\[queue\] url "mysql:\/\/root:\*\*\*@db\/x" is neither sqlite:PATH nor postgres/,
    },
    // missing tools and models
    {
      name: 'download without ani-cli',
      args: () => ['download', '--data-dir', data],
      env: () => ({ANIMEZIPF_ANI_CLI_PATH: '/nonexistent/ani-cli'}),
      message: /ani-cli not found: \/nonexistent\/ani-cli/,
    },
    {
      name: 'download without ffprobe',
      args: () => ['download', '--data-dir', data],
      env: () => ({PATH: `${FAKES}:${process.env.PATH}`, ANIMEZIPF_MEDIA_FFPROBE: '/nonexistent/ffprobe'}),
      message: /ffprobe not found: \/nonexistent\/ffprobe \(install ffmpeg/,
    },
    {
      name: 'transcribe without the model',
      args: () => ['transcribe', '--data-dir', data, '--model', 'medium'],
      message: /whisper model "medium" is not at .*ggml-medium\.bin/,
    },
    {
      name: 'transcribe without whisper',
      args: () => ['transcribe', '--data-dir', data],
      env: () => ({ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: '/nonexistent/main'}),
      message: /whisper program not found: \/nonexistent\/main/,
    },
    {
      name: 'a language whisper does not know',
      args: () => ['transcribe', '--data-dir', data],
      env: () => ({ANIMEZIPF_TRANSCRIBE_LANGUAGE: 'jp'}),
      message: /"transcribe\.language" "jp" is not a language code whisper knows/,
    },
    {
      name: 'an English-only model for Japanese',
      args: () => ['transcribe', '--data-dir', data, '--model', 'small.en'],
      message: /the model "small\.en" knows English only/,
    },
    {
      name: 'transcribe without ffmpeg',
      args: () => ['transcribe', '--data-dir', data],
      env: () => ({ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: `${FAKES}/whisper-fake`, ANIMEZIPF_MEDIA_FFMPEG: '/nonexistent/ffmpeg'}),
      message: /ffmpeg not found: \/nonexistent\/ffmpeg/,
    },
    // hostile inputs
    {
      name: 'scrape --anime-id -3',
      args: () => ['scrape', '--data-dir', data, '--anime-id', '-3'],
      message: /Parsing --anime-id: Expected an integer greater than or equal to 1 but received: -3/,
    },
    {
      name: 'import of a title of 10,000 characters',
      args: () => ['import', '--data-dir', data, subtitle(), '--title', 'x'.repeat(10_000)],
      message: /--title is 10000 characters long/,
    },
    {
      name: 'import of binary garbage',
      args: () => [
        'import',
        '--data-dir',
        data,
        garbage('garbage.srt', Buffer.from(Array.from({length: 3000}, (_, i) => (i * 7919) % 256))),
        '--title',
        'Garbage',
      ],
      message: /no file could be imported: garbage\.srt: unknown text encoding/,
      warnings: true,
    },
    {
      name: 'import of a symlink to /dev/zero',
      args: () => ['import', '--data-dir', data, link('zero.srt', '/dev/zero'), '--title', 'Zero'],
      message: /no file could be imported: zero\.srt: not a regular file/,
      warnings: true,
    },
    {
      name: 'import of a README saved as a .txt',
      args: () => [
        'import',
        '--data-dir',
        data,
        garbage('ep01.txt', 'This is the README of a project.\nIt mentions 日本 once.\nInstall it with npm and run it.\n'),
        '--title',
        'Readme',
      ],
      message: /no file could be imported: ep01\.txt: only \d+% of its letters are Japanese/,
      warnings: true,
    },
    {name: 'status --job of no job', args: () => ['status', '--data-dir', data, '--job', '999999'], message: /no job with id 999999/},
    {
      name: 'select --set with one number',
      args: () => ['select', '--data-dir', data, '--set', '5114'],
      env: () => ({PATH: `${FAKES}:${process.env.PATH}`}),
      message: /--set takes two numbers/,
    },
    {
      name: 'select --max-cost abc',
      args: () => ['select', '--data-dir', data, '--max-cost', 'abc'],
      env: () => ({PATH: `${FAKES}:${process.env.PATH}`}),
      message: /--max-cost "abc" is not an amount of dollars/,
    },
    {
      name: 'queue copy to an unknown kind of URL',
      args: () => ['queue', 'copy', '--data-dir', data, '--to', 'ftp://x'],
      message: /is neither sqlite:PATH nor postgres/,
    },
    {name: 'queue copy to sqlite: with no file', args: () => ['queue', 'copy', '--data-dir', data, '--to', 'sqlite:'], message: /--to "sqlite:" names no file/},
  ]

  mistakeCases(cases, () => db)

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
