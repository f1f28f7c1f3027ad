import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import TOML from '@iarna/toml'

import {DEFAULTS, POSITIVE_KEYS} from '../../src/config/defaults.js'
import {MAX_VALUES, envNameFor, unknownVariables, loadConfig} from '../../src/config/load.js'
import {firstInvalidUtf8, readConfigText} from '../../src/config/read.js'
import {UserError} from '../../src/errors.js'
import {ROOT, runCli, tempDir} from '../helpers.js'

function writeConfig(text: string): string {
  const dir = tempDir()
  writeFileSync(path.join(dir, 'config.toml'), text)
  return dir
}

describe('config', () => {
  it('the shipped config.toml documents every key with its default value', () => {
    const parsed = TOML.parse(readFileSync(path.join(ROOT, 'config.toml'), 'utf8'))
    expect(JSON.parse(JSON.stringify(parsed))).to.deep.equal(DEFAULTS)
  })

  it('uses the defaults when there is no config file, paths relative to the working folder', () => {
    const dir = tempDir()
    const {config, file} = loadConfig({cwd: dir, env: {}})
    expect(file).to.equal(undefined)
    expect(config.queue.max_retries).to.equal(DEFAULTS.queue.max_retries)
    expect(config.data.root_dir).to.equal(path.join(dir, 'data'))
    expect(config.data.storage_dir).to.equal(path.join(dir, 'data'))
  })

  it('applies flag > environment > file > default, and resolves paths against the file folder', () => {
    const dir = writeConfig('[data]\nroot_dir = "store"\nstorage_dir = "/mnt/videos"\n[queue]\nmax_retries = 7\nlease_seconds = 60\n')
    const env = {ANIMEZIPF_QUEUE_LEASE_SECONDS: '90', ANIMEZIPF_DISK_MANAGEMENT_CLEANUP_DELETE_AUDIO_AFTER_TRANSCRIPTION: 'false'}
    const other = tempDir()
    const {config} = loadConfig({explicitPath: path.join(dir, 'config.toml'), cwd: other, env, overrides: {'queue.max_retries': 9}})
    expect(config.data.root_dir).to.equal(path.join(dir, 'store'))
    expect(config.data.storage_dir).to.equal('/mnt/videos')
    expect(config.queue.max_retries).to.equal(9)
    expect(config.queue.lease_seconds).to.equal(90)
    expect(config.disk_management.cleanup.delete_audio_after_transcription).to.equal(false)
    expect(config.queue.backoff_base_seconds).to.equal(DEFAULTS.queue.backoff_base_seconds)
  })

  it('rejects an unknown key, a wrong type, a bad environment value and inconsistent thresholds', () => {
    const cases: [string, RegExp][] = [
      ['[queue]\nmax_retrys = 1\n', /unknown key "queue.max_retrys"/],
      ['[queue]\nmax_retries = "three"\n', /"queue.max_retries" must be a whole number >= 0 and <= 1000, got "three"/],
      ['[queue]\nmax_retries = 1.5\n', /must be a whole number/],
      ['[disk_management]\npause_threshold_gb = 400\n', /resume_threshold_gb <= pause_threshold_gb <= hard_limit_gb/],
      ['[queue]\nlease_seconds = 0\n', /"queue.lease_seconds" must be a whole number >= 1/],
      ['queue = 3\n', /"queue" must be a table/],
      ['[queue]\nlease_seconds = 10000000000000\n', /"queue.lease_seconds" must be a whole number >= 1 and <= 86400, got 10000000000000/],
    ]
    for (const [text, pattern] of cases) {
      const dir = writeConfig(text)
      expect(() => loadConfig({cwd: dir, env: {}}), text).to.throw(UserError, pattern)
    }
    expect(() => loadConfig({cwd: tempDir(), env: {ANIMEZIPF_QUEUE_MAX_RETRIES: 'lots'}})).to.throw(
      UserError,
      /ANIMEZIPF_QUEUE_MAX_RETRIES must be a whole number/,
    )
    // a byte-order mark is not a syntax error
    const bom = writeConfig('\uFEFF[queue]\nmax_retries = 7\n')
    expect(loadConfig({cwd: bom, env: {}}).config.queue.max_retries).to.equal(7)
    // a misspelt variable is named, with the nearest setting
    expect(unknownVariables({ANIMEZIPF_QUEUE_MAX_RETRYS: '5', ANIMEZIPF_TEST_PG_URL: 'x', ANIMEZIPF_QUEUE_MAX_RETRIES: '5'})).to.deep.equal([
      'ANIMEZIPF_QUEUE_MAX_RETRYS is not a setting and is ignored (did you mean ANIMEZIPF_QUEUE_MAX_RETRIES?)',
    ])
  })

  it('a malformed, unknown-key or wrong-type config is one line naming file and key, exit 2', () => {
    const cases: [string, RegExp][] = [
      ['[queue\nmax_retries = 1\n', /config\.toml: not valid TOML at line 1/],
      ['[queue]\nmax_retrys = 1\n', /config\.toml: unknown key "queue\.max_retrys"/],
      ['[processing]\nmax_concurrent_tokenizations = "many"\n', /config\.toml: "processing\.max_concurrent_tokenizations" must be a whole number/],
    ]
    for (const [text, pattern] of cases) {
      const dir = writeConfig(text)
      const r = runCli(['status'], {cwd: dir})
      expect(r.code, text).to.equal(2)
      expect(r.stdout).to.equal('')
      const lines = r.stderr.trim().split('\n')
      expect(lines, r.stderr).to.have.length(1)
      expect(lines[0]).to.match(pattern)
      expect(lines[0]).to.not.match(/\bat .*\.js:\d+/)
    }
  })

  it('an explicit --config that does not exist is an error, not a silent default', () => {
    const r = runCli(['status', '--config', '/nonexistent/animezipf.toml'], {cwd: tempDir()})
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/config file not found: \/nonexistent\/animezipf.toml/)
  })

  it('every number setting has an upper bound that its default keeps within', () => {
    const numbers: [string, number][] = []
    const walk = (section: Record<string, unknown>, prefix: string) => {
      for (const [name, value] of Object.entries(section)) {
        const key = prefix ? `${prefix}.${name}` : name
        if (typeof value === 'number') numbers.push([key, value])
        else if (typeof value === 'object' && value !== null && !Array.isArray(value)) walk(value as Record<string, unknown>, key)
      }
    }
    walk(DEFAULTS, '')
    expect(numbers.filter(([key]) => MAX_VALUES[key] === undefined).map(([key]) => key)).to.deep.equal([])
    for (const [key, value] of numbers) {
      expect(value, key).to.be.at.most(MAX_VALUES[key]!)
      expect(value, key).to.be.at.least(POSITIVE_KEYS.has(key) ? 1 : 0)
      // one past the bound is refused, from the file and from the environment alike
      const [section, ...rest] = key.split('.')
      const table =
        rest.length === 2 ? `[${section}.${rest[0]}]\n${rest[1]} = ${MAX_VALUES[key]! + 1}\n` : `[${section}]\n${rest[0]} = ${MAX_VALUES[key]! + 1}\n`
      expect(() => loadConfig({cwd: writeConfig(table), env: {}}), key).to.throw(
        UserError,
        new RegExp(`"${key.replaceAll('.', '\\.')}" must be .*<= ${MAX_VALUES[key]}`),
      )
      expect(() => loadConfig({cwd: tempDir(), env: {[envNameFor(key)]: String(MAX_VALUES[key]! + 1)}}), key).to.throw(UserError, /must be/)
    }
    // percentages are percentages
    expect(numbers.filter(([key]) => key.endsWith('_percent')).map(([key]) => MAX_VALUES[key])).to.deep.equal([100, 100, 100])
  })

  it('a path, program or name setting may not be empty; a URL must be http(s) with a host; a model is a plain name', () => {
    for (const [section, name] of [
      ['data', 'root_dir'],
      ['ani_cli', 'path'],
      ['media', 'ffmpeg'],
      ['media', 'ffprobe'],
      ['transcribe', 'model'],
      ['transcribe', 'language'],
      ['select', 'model'],
    ]) {
      expect(() => loadConfig({cwd: writeConfig(`[${section}]\n${name} = " "\n`), env: {}}), name).to.throw(
        UserError,
        new RegExp(`"${section}\\.${name}" is empty`),
      )
    }
    for (const url of ['file:///etc', 'ftp://example.com/v4', 'http://', 'https://:80/v4', 'api.jikan.moe/v4', '']) {
      expect(() => loadConfig({cwd: tempDir(), env: {ANIMEZIPF_SCRAPE_BASE_URL: url}}), url).to.throw(
        UserError,
        /ANIMEZIPF_SCRAPE_BASE_URL: "scrape\.base_url" .* is not an http:\/\/ or https:\/\/ URL/,
      )
    }
    expect(loadConfig({cwd: tempDir(), env: {ANIMEZIPF_SCRAPE_BASE_URL: 'http://127.0.0.1:8080/v4'}}).config.scrape.base_url).to.equal(
      'http://127.0.0.1:8080/v4',
    )
    expect(() => loadConfig({cwd: writeConfig('[transcribe]\nmodel_url = "/models/ggml-{model}.bin"\n'), env: {}})).to.throw(
      UserError,
      /"transcribe\.model_url" .* is not an http/,
    )
    for (const model of ['../x', '/abs/x', 'a/b', 'a\\b', 'x y']) {
      expect(() => loadConfig({cwd: tempDir(), env: {ANIMEZIPF_TRANSCRIBE_MODEL: model}}), model).to.throw(UserError, /is not a plain name/)
    }
    expect(loadConfig({cwd: tempDir(), env: {ANIMEZIPF_TRANSCRIBE_MODEL: 'my-model_2.1'}}).config.transcribe.model).to.equal('my-model_2.1')
    expect(() => loadConfig({cwd: tempDir(), env: {ANIMEZIPF_QUEUE_URL: 'sqlite:  '}})).to.throw(UserError, /"queue\.url" "sqlite: {2}" names no file/)
    expect(() => loadConfig({cwd: tempDir(), env: {}, explicitPath: ''})).to.throw(UserError, /--config is empty/)
  })

  it('a config file is a regular file of at most 1 MB in UTF-8: the first bad byte is named', () => {
    const dir = tempDir()
    // a FIFO would block a plain read forever: it is refused before any read
    const fifo = path.join(dir, 'fifo.toml')
    execFileSync('mkfifo', [fifo])
    expect(() => readConfigText(fifo)).to.throw(UserError, /fifo\.toml is not a regular file/)
    expect(() => readConfigText('/dev/zero')).to.throw(UserError, /\/dev\/zero is not a regular file/)
    const big = path.join(dir, 'big.toml')
    writeFileSync(big, `#${'x'.repeat(1_000_000)}\n`)
    expect(() => readConfigText(big)).to.throw(UserError, /big\.toml is 1\.0 MB: a config file is at most 1 MB/)
    const exact = path.join(dir, 'exact.toml')
    writeFileSync(exact, `#${'x'.repeat(999_998)}\n`)
    expect(readConfigText(exact)).to.have.length(1_000_000)
    const bad = path.join(dir, 'bad.toml')
    writeFileSync(bad, Buffer.concat([Buffer.from('# 日本語\n[queue]\nmax_retries = 3 # '), Buffer.from([0xc0, 0x80]), Buffer.from('\n')]))
    expect(() => readConfigText(bad)).to.throw(UserError, /bad\.toml: not valid UTF-8 at line 3 \(byte 38\)/)
    const ok = (bytes: number[]) => firstInvalidUtf8(Uint8Array.from(bytes))
    expect(ok([0x61, 0xc3, 0xa9, 0xe6, 0x97, 0xa5, 0xf0, 0x9f, 0x98, 0x80])).to.equal(-1)
    expect(ok([0x61, 0xe6, 0x97])).to.equal(1) // cut short
    expect(ok([0xe0, 0x80, 0xaf])).to.equal(0) // overlong
    expect(ok([0xed, 0xa0, 0x80])).to.equal(0) // a UTF-16 surrogate
    expect(ok([0xf4, 0x90, 0x80, 0x80])).to.equal(0) // past U+10FFFF
    expect(ok([0x61, 0x80])).to.equal(1) // a continuation byte alone
    expect(ok([0xef, 0xbf, 0xbd])).to.equal(-1) // U+FFFD itself is fine
  })
})
