import {existsSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import TOML from '@iarna/toml'

import {UserError} from '../errors.js'
import {PLAIN_MODEL_NAME} from '../stages/transcribe/model.js'
import {editDistance} from '../util/text.js'
import {CHOICES, Config, DEFAULTS, FLOAT_KEYS, PATH_KEYS, POSITIVE_KEYS, PROGRAM_KEYS} from './defaults.js'
import {readConfigText} from './read.js'

export interface LoadedConfig {
  config: Config
  /** The file read, or undefined when none exists and the defaults apply. */
  file: string | undefined
  /** The folder relative paths resolve against. */
  baseDir: string
}

export interface LoadOptions {
  /** --config, when given: it must exist. */
  explicitPath?: string | undefined
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Flag overrides by dotted key ('data.root_dir'); already typed. */
  overrides?: Record<string, unknown>
}

type Section = Record<string, unknown>

const ENV_PREFIX = 'ANIMEZIPF_'

function isSection(v: unknown): v is Section {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
}

function describe(def: unknown, key: string): string {
  if (typeof def === 'boolean') return 'true or false'
  if (typeof def === 'number') {
    const min = POSITIVE_KEYS.has(key) ? 1 : 0
    const max = MAX_VALUES[key] !== undefined ? ` and <= ${MAX_VALUES[key]}` : ''
    return FLOAT_KEYS.has(key) ? `a number >= ${min}${max}` : `a whole number >= ${min}${max}`
  }
  const choices = CHOICES[key]
  if (Array.isArray(def)) return choices ? `an array of ${choices.map((c) => `"${c}"`).join(', ')}` : 'an array of strings'
  return choices ? `one of ${choices.map((c) => `"${c}"`).join(', ')}` : 'a string'
}

/**
 * Upper bounds: a value past them overflows a timer or a date (a lease of 10^13 s), is not a
 * percentage or a probability, or is surely a typo. Every number in DEFAULTS has one.
 */
const DAY = 86_400
export const MAX_VALUES: Record<string, number> = {
  'disk_management.hard_limit_gb': 1_000_000,
  'disk_management.pause_threshold_gb': 1_000_000,
  'disk_management.resume_threshold_gb': 1_000_000,
  'disk_management.min_free_gb': 1_000_000,
  'scrape.requests_per_second': 1000,
  'scrape.requests_per_minute': 60_000,
  'scrape.max_retries': 100,
  // milliseconds: a timer holds at most 2^31 - 1 ms (24.8 days)
  'scrape.backoff_base_ms': DAY * 1000,
  'scrape.backoff_max_ms': DAY * 1000,
  'scrape.top_n': 100_000,
  'scrape.top_studios': 100_000,
  'download.min_bytes': 100_000_000_000,
  'download.duration_tolerance_percent': 100,
  'download.typical_episode_mb': 1_000_000,
  'transcribe.threads': 1024,
  'transcribe.max_repeats': 1000,
  'transcribe.low_confidence': 1,
  'transcribe.max_hallucinated_percent': 100,
  'select.max_candidates_probed': 100,
  'select.max_tokens': 128_000,
  'select.api_max_retries': 100,
  'select.input_usd_per_mtok': 1000,
  'select.output_usd_per_mtok': 1000,
  'select.no_results_confirmations': 100,
  'import.max_file_mb': 1024,
  'import.max_cues': 10_000_000,
  'import.max_line_chars': 1_000_000,
  'import.min_japanese_percent': 100,
  'queue.lease_seconds': DAY,
  'queue.shutdown_grace_seconds': DAY,
  'queue.busy_timeout_seconds': 3600,
  'queue.backoff_base_seconds': 30 * DAY,
  'queue.backoff_max_seconds': 30 * DAY,
  'queue.max_retries': 1000,
  'disk_management.check_interval_seconds': DAY,
  'disk_management.cache_duration_seconds': DAY,
  'disk_management.max_concurrent_downloads': 256,
  'processing.max_concurrent_transcriptions': 256,
  'processing.max_concurrent_tokenizations': 256,
  'ani_cli.search_timeout_seconds': DAY,
  'download.timeout_seconds': 7 * DAY,
  'transcribe.timeout_seconds': 7 * DAY,
  'media.probe_timeout_seconds': DAY,
  'select.workers': 256,
  'select.api_timeout_seconds': DAY,
  'scrape.timeout_seconds': DAY,
  'scrape.cache_ttl_hours': 24 * 3650,
}

function checkValue(def: unknown, value: unknown, key: string): boolean {
  if (typeof def === 'number' && typeof value === 'number' && MAX_VALUES[key] !== undefined && value > MAX_VALUES[key]) return false
  if (typeof def === 'boolean') return typeof value === 'boolean'
  if (typeof def === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return false
    if (!FLOAT_KEYS.has(key) && !Number.isInteger(value)) return false
    return value >= (POSITIVE_KEYS.has(key) ? 1 : 0)
  }
  const choices = CHOICES[key]
  if (Array.isArray(def)) return Array.isArray(value) && value.every((v) => typeof v === 'string' && (!choices || choices.includes(v)))
  return typeof value === 'string' && (!choices || choices.includes(value))
}

/** Merge a parsed TOML table into target, checking every key against the defaults. */
function mergeFile(target: Section, defaults: Section, table: Section, prefix: string, file: string): void {
  for (const [name, value] of Object.entries(table)) {
    const key = prefix ? `${prefix}.${name}` : name
    if (!(name in defaults)) {
      const where = prefix ? `section [${prefix}]` : 'the top level'
      throw new UserError(`${file}: unknown key "${key}" in ${where}`, `remove it or check its spelling against the documented config.toml`)
    }
    const def = defaults[name]
    if (isSection(def)) {
      if (!isSection(value)) throw new UserError(`${file}: "${key}" must be a table [${key}]`, 'see the documented config.toml')
      mergeFile(target[name] as Section, def, value, key, file)
      continue
    }
    // TOML integers parse as numbers already; @iarna/toml may return bigint-free numbers
    const plain = typeof value === 'bigint' ? Number(value) : value
    // an empty folder or program would silently mean the config file's folder or nothing at all
    if (REQUIRED_STRINGS.has(key) && typeof plain === 'string' && plain.trim() === '') {
      throw new UserError(`${file}: "${key}" is empty`, `remove the line to use the default ${JSON.stringify(def)}, or give a value`)
    }
    if (!checkValue(def, plain, key)) {
      throw new UserError(`${file}: "${key}" must be ${describe(def, key)}, got ${JSON.stringify(plain)}`, `fix the value in ${path.basename(file)}`)
    }
    target[name] = plain
  }
}

function parseEnvValue(def: unknown, raw: string, key: string, envName: string): unknown {
  let value: unknown = raw
  if (typeof def === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) value = true
    else if (/^(0|false|no|off)$/i.test(raw)) value = false
  } else if (typeof def === 'number') {
    value = raw.trim() === '' ? Number.NaN : Number(raw)
  } else if (Array.isArray(def)) {
    value = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  }
  if (!checkValue(def, value, key)) {
    throw new UserError(`environment variable ${envName} must be ${describe(def, key)}, got ${JSON.stringify(raw)}`, `fix or unset ${envName}`)
  }
  return value
}

function applyEnv(target: Section, defaults: Section, env: NodeJS.ProcessEnv, prefix: string): void {
  for (const [name, def] of Object.entries(defaults)) {
    const key = prefix ? `${prefix}.${name}` : name
    if (isSection(def)) {
      applyEnv(target[name] as Section, def, env, key)
      continue
    }
    const envName = envNameFor(key)
    const raw = env[envName]
    if (raw === undefined) continue
    // an empty variable is a mistake for a folder that must be set (it would mean the current folder)
    if (raw.trim() === '' && REQUIRED_STRINGS.has(key))
      throw new UserError(`environment variable ${envName} is empty`, `unset it (the default is ${JSON.stringify(def)}) or give a value`)
    target[name] = parseEnvValue(def, raw, key, envName)
  }
}

/** whisper.cpp's language codes (its g_lang table) and "auto". */
const WHISPER_LANGUAGE_CODE =
  /^(en|zh|de|es|ru|ko|fr|ja|pt|tr|pl|ca|nl|ar|sv|it|id|hi|fi|vi|he|uk|el|ms|cs|ro|da|hu|ta|no|th|ur|hr|bg|lt|la|mi|ml|cy|sk|te|fa|lv|bn|sr|az|sl|kn|et|mk|br|eu|is|hy|ne|mn|bs|kk|sq|sw|gl|mr|pa|si|km|sn|yo|so|af|oc|ka|be|tg|sd|gu|am|yi|lo|uz|fo|ht|ps|tk|nn|mt|sa|lb|my|bo|tl|mg|as|tt|haw|ln|ha|ba|jw|su|yue|auto)$/

/** Strings that may not be empty: an empty one would silently mean something else. */
const REQUIRED_STRINGS = new Set([
  'data.root_dir',
  'ani_cli.path',
  'media.ffmpeg',
  'media.ffprobe',
  'transcribe.model',
  'transcribe.language',
  'download.quality',
  'select.model',
])

/** ANIMEZIPF_ variables that are not settings but are read elsewhere (tests, the whisper build, our menu hook). */
const OTHER_VARIABLES = /^ANIMEZIPF_(CONFIG|TEST_|REQUIRE_|WHISPER_HOME|WHISPER_CUDA|MENU_LOG|BENCH_)/

/** ANIMEZIPF_ variables that name no setting (a typo such as ANIMEZIPF_QUEUE_MAX_RETRYS), each with the nearest one. */
export function unknownVariables(env: NodeJS.ProcessEnv = process.env): string[] {
  const known: string[] = []
  const walk = (section: Section, prefix: string) => {
    for (const [name, def] of Object.entries(section)) {
      const key = prefix ? `${prefix}.${name}` : name
      if (isSection(def)) walk(def, key)
      else known.push(envNameFor(key))
    }
  }
  walk(DEFAULTS, '')
  const out: string[] = []
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || OTHER_VARIABLES.test(name) || known.includes(name)) continue
    const near = known.map((k) => ({k, d: editDistance(name, k)})).sort((a, b) => a.d - b.d)[0]
    out.push(`${name} is not a setting and is ignored${near && near.d <= 3 ? ` (did you mean ${near.k}?)` : ''}`)
  }
  return out
}

function setByKey(target: Section, key: string, value: unknown): void {
  const parts = key.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) node = node[part] as Section
  node[parts.at(-1)!] = value
}

function getByKey(target: Section, key: string): unknown {
  let node: unknown = target
  for (const part of key.split('.')) node = (node as Section)[part]
  return node
}

/** The environment variable of a key: ANIMEZIPF_ + the dotted key in upper case, dots as '_'. */
export function envNameFor(key: string): string {
  return ENV_PREFIX + key.replaceAll('.', '_').toUpperCase()
}

/** Load config: defaults < config file < ANIMEZIPF_* environment < flags. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const config: Config = structuredClone<Config>(DEFAULTS)
  let file: string | undefined
  if (options.explicitPath === '')
    throw new UserError('--config is empty', 'give the path of a config.toml, or leave --config out to use ./config.toml or the defaults')
  const explicit = options.explicitPath ?? env.ANIMEZIPF_CONFIG
  if (explicit) {
    file = path.resolve(cwd, explicit)
    if (!existsSync(file)) {
      throw new UserError(
        `config file not found: ${file}`,
        'check the --config path (or ANIMEZIPF_CONFIG), or leave it out to use ./config.toml or the defaults',
      )
    }
  } else if (existsSync(path.join(cwd, 'config.toml'))) {
    file = path.join(cwd, 'config.toml')
  }
  const baseDir = file ? path.dirname(file) : cwd

  if (file) {
    const text = readConfigText(file)
    let parsed: Section
    try {
      parsed = TOML.parse(text)
    } catch (error) {
      const e = error as {line?: number; col?: number; message?: string}
      const where = e.line === undefined ? '' : ` at line ${e.line + 1}, column ${(e.col ?? 0) + 1}`
      const first = String(e.message ?? error)
        .split('\n')[0]!
        .replace(/ at row \d+, col \d+, pos \d+:?$/, '')
      throw new UserError(`${file}: not valid TOML${where}: ${first}`, 'fix the syntax (strings need quotes, tables are [section])')
    }
    mergeFile(config, DEFAULTS, parsed, '', file)
  }
  applyEnv(config, DEFAULTS, env, '')
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setByKey(config, key, value)
  }

  for (const key of PATH_KEYS) {
    const value = getByKey(config, key) as string
    if (value) setByKey(config, key, path.resolve(baseDir, value))
  }
  if (!config.data.storage_dir) config.data.storage_dir = config.data.root_dir
  const origin = (key: string) => (env[envNameFor(key)] === undefined ? (file ?? 'configuration') : `environment variable ${envNameFor(key)}`)
  // a relative sqlite: URL is a path like the others
  const sqliteUrl = /^sqlite:(\/\/)?(.*)$/i.exec(config.queue.url.trim())
  if (sqliteUrl && !sqliteUrl[2]!.trim())
    throw new UserError(
      `${origin('queue.url')}: "queue.url" ${JSON.stringify(config.queue.url)} names no file`,
      'e.g. sqlite:/srv/animezipf/jobs.db, or leave it empty for jobs.db in the data folder',
    )
  if (sqliteUrl && sqliteUrl[2]) config.queue.url = `sqlite:${path.resolve(baseDir, sqliteUrl[2])}`
  // a program given as a path (not a name looked up on PATH) is a path like the others too
  for (const key of PROGRAM_KEYS) {
    const value = getByKey(config, key) as string
    if (value.includes('/')) setByKey(config, key, path.resolve(baseDir, value))
  }
  for (const key of ['scrape.base_url', 'transcribe.model_url']) checkHttpUrl(getByKey(config, key) as string, key, origin(key))
  if (!PLAIN_MODEL_NAME.test(config.transcribe.model))
    throw new UserError(
      `${origin('transcribe.model')}: "transcribe.model" ${JSON.stringify(config.transcribe.model)} is not a plain name`,
      'a model is named by letters, digits, ".", "_" and "-" (e.g. large-v3-turbo): its file is data/models/ggml-<model>.bin',
    )
  if (!WHISPER_LANGUAGE_CODE.test(config.transcribe.language))
    throw new UserError(
      `${file ?? 'configuration'}: "transcribe.language" ${JSON.stringify(config.transcribe.language)} is not a language code whisper knows`,
      'use "ja" (or another two-letter code such as "en", or "auto")',
    )
  if (!config.download.quality.trim())
    throw new UserError(`${file ?? 'configuration'}: "download.quality" is empty`, 'use "worst", "best" or a resolution such as "480"')
  if (!config.queue.host_id.trim()) config.queue.host_id = hostname()
  validateRelations(config, file ?? 'configuration')
  return {config, file, baseDir}
}

/** A URL fetched from: http or https with a host; anything else can never work, so it is no reason to try later. */
function checkHttpUrl(value: string, key: string, origin: string): void {
  let ok = false
  try {
    const u = new URL(value.replaceAll('{model}', 'model'))
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    ok = false
  }
  if (!ok)
    throw new UserError(
      `${origin}: "${key}" ${JSON.stringify(value)} is not an http:// or https:// URL`,
      `e.g. the default ${JSON.stringify(getByKey(DEFAULTS, key))}`,
    )
}

function validateRelations(config: Config, file: string): void {
  const d = config.disk_management
  if (!(d.resume_threshold_gb <= d.pause_threshold_gb && d.pause_threshold_gb <= d.hard_limit_gb)) {
    throw new UserError(
      `${file}: disk_management thresholds must satisfy resume_threshold_gb <= pause_threshold_gb <= hard_limit_gb (got ${d.resume_threshold_gb}, ${d.pause_threshold_gb}, ${d.hard_limit_gb})`,
      'lower resume_threshold_gb or raise hard_limit_gb',
    )
  }
}
