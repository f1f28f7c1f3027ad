import {expect} from 'chai'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import TOML from '@iarna/toml'

import {DEFAULTS} from '../../src/config/defaults.js'
import {unknownVariables, loadConfig} from '../../src/config/load.js'
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
    expect(() => loadConfig({cwd: tempDir(), env: {ANIMEZIPF_QUEUE_MAX_RETRIES: 'lots'}})).to.throw(UserError, /ANIMEZIPF_QUEUE_MAX_RETRIES must be a whole number/)
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
})
