// Mistakes in the configuration and the flags (issue #20, items 6, 9, 12, 13, 19): each is one line,
// exit 2, checked when the config is loaded or the flags parsed, with nothing created or changed.
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCliAsync, seedDatabase, tempDir} from '../helpers.js'
import {type MistakeCase, mistakeCases} from '../fixtures/mistakes.js'
import {PG_URL, freshPgDatabase} from '../pg.js'

describe('mistakes in the configuration and the flags: one line, exit 2, nothing changed', function () {
  this.timeout(120_000)
  let data: string
  let db: string
  let scratch: string
  // a PostgreSQL queue with jobs to claim, where the test server is there; otherwise a URL nothing
  // answers (the bound is checked before any queue is opened either way)
  let pgQueue = 'postgres://animezipf@127.0.0.1:1/none'

  before(async () => {
    data = path.join(tempDir(), 'data')
    db = path.join(data, 'jobs.db')
    await seedDatabase(db, 2, 3, 'transcribed')
    scratch = tempDir()
    execFileSync('mkfifo', [path.join(scratch, 'fifo.toml')])
    if (PG_URL) {
      pgQueue = await freshPgDatabase()
      await seedDatabase(pgQueue, 2, 3, 'transcribed')
    }
  })
  const conf = (text: string | Buffer) => {
    const file = path.join(scratch, `config-${Math.random().toString(16).slice(2)}.toml`)
    writeFileSync(file, text)
    return file
  }
  const status = (text: string | Buffer) => ['status', '--data-dir', data, '--config', conf(text)]

  const cases: MistakeCase[] = [
    // 6: files read with a size cap, count flags with an upper bound
    {name: '--config /dev/zero', args: () => ['status', '--data-dir', data, '--config', '/dev/zero'], message: /\/dev\/zero is not a regular file/},
    {
      name: '--config of a FIFO (a plain read would wait for a writer forever)',
      args: () => ['status', '--data-dir', data, '--config', path.join(scratch, 'fifo.toml')],
      message: /fifo\.toml is not a regular file/,
    },
    {name: '--config of a folder', args: () => ['status', '--data-dir', data, '--config', scratch], message: /is not a regular file/},
    {
      name: 'a config.toml over 1 MB',
      args: () => status(`# ${'x'.repeat(1_100_000)}\n[queue]\nmax_retries = 3\n`),
      message: /config-[0-9a-f]+\.toml is 1\.1 MB: a config file is at most 1 MB/,
    },
    {
      name: 'analyze --bootstrap 100000000',
      args: () => ['analyze', '--data-dir', data, '--bootstrap', '100000000'],
      message: /Parsing --bootstrap: Expected an integer less than or equal to 10000 but received: 100000000/,
    },
    {
      name: 'analyze --min-count 10^20',
      args: () => ['analyze', '--data-dir', data, '--min-count', '99999999999999999999'],
      message: /Parsing --min-count: Expected an integer less than or equal to/,
    },
    {
      name: 'analyze --seed past 32 bits',
      args: () => ['analyze', '--data-dir', data, '--seed', '99999999999999999999'],
      message: /Parsing --seed: Expected an integer less than or equal to 4294967295/,
    },
    {
      name: 'status --top 10^20',
      args: () => ['status', '--data-dir', data, '--top', '99999999999999999999'],
      message: /Parsing --top: Expected an integer less than or equal to 100000/,
    },
    {
      name: 'status --watch 10^11',
      args: () => ['status', '--data-dir', data, '--watch', '99999999999'],
      message: /Parsing --watch: Expected an integer less than or equal to 86400/,
    },
    {
      name: 'status --job 10^20',
      args: () => ['status', '--data-dir', data, '--job', '99999999999999999999'],
      message: /Parsing --job: Expected an integer less than or equal to 9007199254740991/,
    },
    {
      name: 'status --job 0',
      args: () => ['status', '--data-dir', data, '--job', '0'],
      message: /Parsing --job: Expected an integer greater than or equal to 1/,
    },
    {
      name: 'status --anime-id 10^20',
      args: () => ['status', '--data-dir', data, '--anime-id', '99999999999999999999'],
      message: /Parsing --anime-id: Expected an integer less than or equal to 9007199254740991/,
    },
    {
      name: 'word --lines 10^20',
      args: () => ['word', '--data-dir', data, '猫', '--lines', '99999999999999999999'],
      message: /Parsing --lines: Expected an integer less than or equal to 100000/,
    },
    {
      name: 'transcribe --threads 10^6',
      args: () => ['transcribe', '--data-dir', data, '--threads', '1000000'],
      message: /Parsing --threads: Expected an integer less than or equal to 1024/,
    },
    {
      name: 'demo --workers 10^6',
      args: () => ['demo', '--data-dir', path.join(scratch, 'demo'), '--workers', '1000000'],
      message: /Parsing --workers: Expected an integer less than or equal to 256/,
    },
    {
      name: 'scrape --limit 10^9',
      args: () => ['scrape', '--data-dir', data, '--limit', '1000000000'],
      message: /Parsing --limit: Expected an integer less than or equal to 100000/,
    },
    {
      name: 'select --max-cost of a billion dollars',
      args: () => ['select', '--data-dir', data, '--max-cost', '1000000000'],
      message: /--max-cost 1000000000 is more than \$1000000/,
    },
    {
      name: 'select --set past any id',
      args: () => ['select', '--data-dir', data, '--set', '99999999999999999999', '1'],
      message: /Parsing --set: Expected an integer less than or equal to 9007199254740991/,
    },
    // 9: a count past what the databases hold
    {
      name: 'tokenize --limit 10^20 (SQLite)',
      args: () => ['tokenize', '--data-dir', data, '--limit', '99999999999999999999'],
      message: /Parsing --limit: Expected an integer less than or equal to 1000000000 but received/,
    },
    {
      name: 'tokenize --limit 10^20 (PostgreSQL)',
      args: () => ['tokenize', '--data-dir', data, '--limit', '99999999999999999999'],
      env: () => ({ANIMEZIPF_QUEUE_URL: pgQueue}),
      message: /Parsing --limit: Expected an integer less than or equal to 1000000000 but received/,
    },
    {
      name: 'analyze --limit 10^20',
      args: () => ['analyze', '--data-dir', data, '--limit', '99999999999999999999'],
      message: /Parsing --limit: Expected an integer less than or equal to 1000000000/,
    },
    {
      name: 'select --limit 10^20',
      args: () => ['select', '--data-dir', data, '--limit', '99999999999999999999'],
      message: /Parsing --limit: Expected an integer less than or equal to 1000000000/,
    },
    // 12: a URL that can never work
    {
      name: '[scrape] base_url of a file: URL',
      args: () => ['scrape', '--data-dir', data, '--config', conf('[scrape]\nbase_url = "file:///etc"\n')],
      message: /"scrape\.base_url" "file:\/\/\/etc" is not an http:\/\/ or https:\/\/ URL/,
    },
    {
      name: '[scrape] base_url without a host',
      args: () => ['scrape', '--data-dir', data, '--config', conf('[scrape]\nbase_url = "http://"\n')],
      message: /"scrape\.base_url" "http:\/\/" is not an http:\/\/ or https:\/\/ URL/,
    },
    {
      name: '[scrape] base_url that is no URL',
      args: () => ['scrape', '--data-dir', data],
      env: () => ({ANIMEZIPF_SCRAPE_BASE_URL: 'api.jikan.moe/v4'}),
      message: /"scrape\.base_url" "api\.jikan\.moe\/v4" is not an http:\/\/ or https:\/\/ URL/,
    },
    {
      name: '[transcribe] model_url of a file: URL',
      args: () => [
        'transcribe',
        '--data-dir',
        data,
        '--download-model',
        'tiny',
        '--config',
        conf('[transcribe]\nmodel_url = "file:///tmp/ggml-{model}.bin"\n'),
      ],
      message: /"transcribe\.model_url" "file:\/\/\/tmp\/ggml-\{model\}\.bin" is not an http:\/\/ or https:\/\/ URL/,
    },
    // 13: settings accepted but wrong
    {name: 'an empty [data] root_dir', args: () => ['status', '--config', conf('[data]\nroot_dir = ""\n')], message: /"data\.root_dir" is empty/},
    {name: 'a blank [ani_cli] path', args: () => status('[ani_cli]\npath = "  "\n'), message: /"ani_cli\.path" is empty/},
    {name: 'an empty [media] ffmpeg', args: () => status('[media]\nffmpeg = ""\n'), message: /"media\.ffmpeg" is empty/},
    {
      name: 'min_japanese_percent = 1000',
      args: () => status('[import]\nmin_japanese_percent = 1000\n'),
      message: /"import\.min_japanese_percent" must be a whole number >= 0 and <= 100, got 1000/,
    },
    {
      name: 'duration_tolerance_percent = 150',
      args: () => status('[download]\nduration_tolerance_percent = 150\n'),
      message: /"download\.duration_tolerance_percent" must be a whole number >= 0 and <= 100, got 150/,
    },
    {
      name: 'a backoff past what a timer holds',
      args: () => ['status', '--data-dir', data],
      env: () => ({ANIMEZIPF_SCRAPE_BACKOFF_MAX_MS: '99999999999'}),
      message: /ANIMEZIPF_SCRAPE_BACKOFF_MAX_MS must be a whole number >= 0 and <= 86400000/,
    },
    {
      name: 'a hard limit of 10^12 GB',
      args: () => status('[disk_management]\nhard_limit_gb = 1e12\n'),
      message: /"disk_management\.hard_limit_gb" must be a number >= 0 and <= 1000000/,
    },
    {
      name: 'invalid UTF-8 in config.toml',
      args: () => status(Buffer.concat([Buffer.from('[queue]\nmax_retries = 3 # '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')])),
      message: /config-[0-9a-f]+\.toml: not valid UTF-8 at line 2 \(byte 26\)/,
    },
    {name: '[queue] url = "sqlite:"', args: () => status('[queue]\nurl = "sqlite:"\n'), message: /"queue\.url" "sqlite:" names no file/},
    {
      name: '[queue] url = "sqlite://"',
      args: () => ['status', '--data-dir', data],
      env: () => ({ANIMEZIPF_QUEUE_URL: 'sqlite://'}),
      message: /"queue\.url" "sqlite:\/\/" names no file/,
    },
    {name: 'an empty --data-dir', args: () => ['tokenize', '--data-dir', ''], message: /--data-dir is empty/},
    {name: 'an empty --config', args: () => ['status', '--data-dir', data, '--config', ''], message: /--config is empty/},
    // 19: a model is a plain name inside models/
    {
      name: 'transcribe --model ../../x',
      args: () => ['transcribe', '--data-dir', data, '--model', '../../x'],
      message: /whisper model "\.\.\/\.\.\/x" is not a plain name/,
    },
    {
      name: 'transcribe --model of an absolute path',
      args: () => ['transcribe', '--data-dir', data, '--model', '/tmp/x'],
      message: /whisper model "\/tmp\/x" is not a plain name/,
    },
    {
      name: '[transcribe] model with a slash',
      args: () => status('[transcribe]\nmodel = "../../x"\n'),
      message: /"transcribe\.model" "\.\.\/\.\.\/x" is not a plain name/,
    },
    {
      name: 'doctor with a model outside models/',
      args: () => ['doctor', '--data-dir', data, '--stage', 'transcribe'],
      env: () => ({ANIMEZIPF_TRANSCRIBE_MODEL: 'sub/x'}),
      message: /"transcribe\.model" "sub\/x" is not a plain name/,
    },
  ]

  mistakeCases(cases, () => db)

  it('a model_url that can never work creates no models/ folder', async () => {
    const fresh = path.join(tempDir(), 'data')
    const r = await runCliAsync([
      'transcribe',
      '--data-dir',
      fresh,
      '--download-model',
      'tiny',
      '--config',
      conf('[transcribe]\nmodel_url = "file:///tmp/ggml-{model}.bin"\n'),
    ])
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/is not an http:\/\/ or https:\/\/ URL/)
    expect(existsSync(fresh)).to.equal(false)
  })

  it('an empty root_dir creates no queue beside the config file', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'config.toml'), '[data]\nroot_dir = ""\n')
    const subs = tempDir()
    writeFileSync(path.join(subs, 'ep01.srt'), '1\n00:00:01,000 --> 00:00:02,000\nこんにちは、世界。今日はいい天気ですね。\n')
    const r = await runCliAsync(['import', path.join(subs, 'ep01.srt'), '--title', 'X'], {cwd: dir})
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/"data\.root_dir" is empty/)
    expect(readdirSync(dir)).to.deep.equal(['config.toml'])
  })

  it('a model outside models/ is never read, though a ggml file is there', async () => {
    const fresh = path.join(tempDir(), 'data')
    mkdirSync(path.join(fresh, 'models'), {recursive: true})
    // data/models/ggml-../../../x.bin resolves to data/x.bin
    writeFileSync(path.join(fresh, 'x.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(100)]))
    const r = await runCliAsync(['transcribe', '--data-dir', fresh, '--model', '../../../x'], {env: {ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: '/nonexistent/main'}})
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/whisper model "\.\.\/\.\.\/\.\.\/x" is not a plain name/)
  })
})
