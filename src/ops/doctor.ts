import {accessSync, constants, existsSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT, SchemaBehindError, errorMessage} from '../errors.js'
import {networkFilesystem, openQueue} from '../queue/index.js'
import {filesystemSpace, formatBytes} from '../util/disk.js'
import {findProgram} from '../util/process.js'

export const DOCTOR_STAGES = ['scrape', 'select', 'download', 'transcribe', 'tokenize', 'analyze'] as const
export type DoctorStage = (typeof DOCTOR_STAGES)[number]

type Status = 'ok' | 'fail' | 'warn'

export interface Check {
  name: string
  status: Status
  detail: string
  /** What to do when it is not ok. */
  fix?: string
  /** Stages that need it (all when absent). */
  stages?: DoctorStage[]
  /** A failure that does not stop anything (an optional tool). */
  optional?: boolean
}

const ALL = [...DOCTOR_STAGES]

/** The nearest existing folder at or above `dir`. */
function existing(dir: string): string {
  let p = path.resolve(dir)
  while (!existsSync(p) && path.dirname(p) !== p) p = path.dirname(p)
  return p
}

function writable(dir: string): string | undefined {
  const at = existing(dir)
  try {
    if (!statSync(at).isDirectory()) return `${at} is a file, not a folder`
    accessSync(at, constants.W_OK)
    const probe = mkdtempSync(path.join(at, '.animezipf-doctor-'))
    writeFileSync(path.join(probe, 'x'), 'x')
    rmSync(probe, {recursive: true, force: true})
    return undefined
  } catch (error) {
    return `${at} is not writable (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`
  }
}

/** `animezipf doctor`: one line per check with its fix; exit 0 only when every required check passes. */
export async function doctor(ctx: AppContext, options: {stage?: DoctorStage | undefined}): Promise<ServiceResult> {
  const {config, paths} = ctx
  const checks: Check[] = []
  const add = (c: Check) => checks.push(c)

  const major = Number(process.versions.node.split('.')[0])
  add({name: 'node', status: major >= 20 ? 'ok' : 'fail', detail: `Node.js ${process.versions.node}`, fix: 'install Node.js 20 or newer'})
  try {
    const {default: Database} = await import('better-sqlite3')
    new Database(':memory:').close()
    add({name: 'sqlite', status: 'ok', detail: 'better-sqlite3 native module loads'})
  } catch (error) {
    add({
      name: 'sqlite',
      status: 'fail',
      detail: `better-sqlite3 does not load: ${errorMessage(error).split('\n')[0]}`,
      fix: 'run `npm rebuild better-sqlite3` (needs python3, make and g++)',
    })
  }
  add({name: 'config', status: 'ok', detail: ctx.configFile ? `read ${ctx.configFile}` : 'no config.toml: the built-in defaults'})

  // data and storage folders
  for (const [label, dir] of [
    ['root_dir', paths.root],
    ['storage_dir', paths.storage],
  ] as const) {
    if (label === 'storage_dir' && path.resolve(dir) === path.resolve(paths.root)) continue
    const problem = writable(dir)
    const space = filesystemSpace(dir)
    add({
      name: label,
      status: problem ? 'fail' : space.free < config.disk_management.min_free_gb * 1e9 ? 'warn' : 'ok',
      detail: problem ?? `${dir} (${existsSync(dir) ? 'exists' : 'will be created'}; ${formatBytes(space.free)} free of ${formatBytes(space.total)})`,
      fix: problem
        ? `make ${dir} writable, or set [data] ${label} (or --data-dir)`
        : `free space: under min_free_gb (${config.disk_management.min_free_gb} GB), downloads will pause`,
    })
  }
  if (path.resolve(paths.storage) !== path.resolve(paths.root)) {
    const same = filesystemSpace(paths.root).device === filesystemSpace(paths.storage).device
    add({
      name: 'filesystems',
      status: 'ok',
      detail: same ? 'root_dir and storage_dir share one filesystem' : 'root_dir and storage_dir are on different filesystems (videos on their own disk)',
    })
  }

  // the queue
  const location = ctx.queueLocation
  if (location.backend === 'sqlite') {
    const fs = networkFilesystem(existing(path.dirname(location.target)))
    if (fs)
      add({
        name: 'queue',
        status: 'fail',
        detail: `the SQLite queue ${location.display} is on a network filesystem (${fs})`,
        fix: 'keep jobs.db on a local disk, or use PostgreSQL for several machines ([queue] url)',
      })
  }
  if (!checks.some((c) => c.name === 'queue')) {
    if (location.backend === 'sqlite' && !existsSync(location.target)) {
      add({name: 'queue', status: 'ok', detail: `${location.display} does not exist yet (the first writing command creates it)`})
    } else {
      try {
        const q = await openQueue({location, readonly: true, host: ctx.host})
        const jobs = await q.stats.jobsPerStage()
        await q.close()
        add({name: 'queue', status: 'ok', detail: `${location.display} (${location.backend}): ${Object.values(jobs).reduce((a, b) => a + b, 0)} jobs`})
      } catch (error) {
        if (error instanceof SchemaBehindError) {
          // an empty database (or an older schema) is ready: the first writing command creates (or upgrades) the tables
          const what =
            error.version === 0
              ? 'empty: the first writing command creates the tables'
              : `schema version ${error.version}: the next writing command upgrades it`
          add({name: 'queue', status: 'ok', detail: `${location.display} (${location.backend}) is reachable and ${what}`})
        } else {
          add({
            name: 'queue',
            status: 'fail',
            detail: `${location.display}: ${errorMessage(error).split('\n')[0]}`,
            fix:
              location.backend === 'postgres'
                ? 'check that the server runs and the URL, user and password in [queue] url are right'
                : 'see the message; `animezipf queue copy` moves a queue elsewhere',
          })
        }
      }
    }
  }

  // programs
  const program = (name: string, configured: string, stages: DoctorStage[], fix: string, optional = false) => {
    const found = findProgram(configured)
    add({name, status: found ? 'ok' : optional ? 'warn' : 'fail', detail: found ? found : `${configured} not found`, fix, stages, optional})
    return found
  }
  const ani = program(
    'ani-cli',
    config.ani_cli.path,
    ['select', 'download'],
    'install ani-cli 5.x (https://github.com/pystardust/ani-cli) or set [ani_cli] path',
  )
  if (ani) {
    for (const dep of ['curl', 'sed', 'grep']) program(`ani-cli needs ${dep}`, dep, ['select', 'download'], `install ${dep} (apt install ${dep})`)
    const ytdlp = findProgram('yt-dlp')
    const ff = findProgram('ffmpeg')
    add({
      name: 'ani-cli needs yt-dlp or ffmpeg',
      status: ytdlp || ff ? 'ok' : 'fail',
      detail: ytdlp ?? ff ?? 'neither found',
      fix: 'install yt-dlp or ffmpeg (apt install ffmpeg)',
      stages: ['download'],
    })
  }
  const {MENU_HOOK} = await import('../stages/select/ani-cli.js')
  let hookOk = true
  try {
    accessSync(MENU_HOOK, constants.X_OK)
  } catch {
    hookOk = false
  }
  add({
    name: 'menu hook',
    status: hookOk ? 'ok' : 'fail',
    detail: MENU_HOOK,
    fix: 'reinstall animezipf (it ships bin/animezipf-menu-hook, executable)',
    stages: ['select', 'download'],
  })
  program('ffprobe', config.media.ffprobe, ['download'], 'install ffmpeg (apt install ffmpeg) or set [media] ffprobe')
  program('ffmpeg', config.media.ffmpeg, ['transcribe'], 'install ffmpeg (apt install ffmpeg) or set [media] ffmpeg')
  const {resolveWhisper, inspectWhisper} = await import('../stages/transcribe/whisper.js')
  try {
    const bin = await inspectWhisper(resolveWhisper(config.transcribe.whisper_bin))
    add({name: 'whisper', status: 'ok', detail: `${bin.path}${bin.jsonFull ? '' : ' (no -ojf: no token probabilities)'}`, stages: ['transcribe']})
  } catch (error) {
    const e = error as {message: string; hint?: string}
    add({name: 'whisper', status: 'fail', detail: e.message, fix: e.hint ?? 'run `npm run setup:whisper`', stages: ['transcribe']})
  }
  const {modelFileFor} = await import('../stages/transcribe/model.js')
  try {
    const file = modelFileFor(paths, config.transcribe.model)
    add({name: 'whisper model', status: 'ok', detail: `${config.transcribe.model}: ${file} (${formatBytes(statSync(file).size)})`, stages: ['transcribe']})
  } catch (error) {
    const e = error as {message: string; hint?: string}
    add({
      name: 'whisper model',
      status: 'fail',
      detail: e.message,
      fix: e.hint ?? `animezipf transcribe --download-model ${config.transcribe.model}`,
      stages: ['transcribe'],
    })
  }
  const key = process.env.ANTHROPIC_API_KEY?.trim()
  add({
    name: 'ANTHROPIC_API_KEY',
    status: key ? 'ok' : 'warn',
    detail: key ? 'set (its value is not shown)' : 'not set: select chooses only the unambiguous anime',
    fix: 'export ANTHROPIC_API_KEY=… to let Claude choose among ambiguous candidates',
    stages: ['select'],
    optional: true,
  })
  program('mecab', 'mecab', [], 'optional: apt install mecab mecab-ipadic-utf8 for the tokenizer comparison benchmark', true)

  const shown = options.stage ? checks.filter((c) => !c.stages || c.stages.includes(options.stage!)) : checks
  const failed = shown.filter((c) => c.status === 'fail' && !c.optional)
  const mark: Record<Status, string> = {ok: 'ok  ', warn: 'warn', fail: 'FAIL'}
  const text = shown.map((c) => `${mark[c.status]}  ${c.name}: ${c.detail}${c.status !== 'ok' && c.fix ? ` — ${c.fix}` : ''}`)
  text.push(
    failed.length === 0
      ? `doctor: ${options.stage ? `ready for ${options.stage}` : 'every required check passed'}`
      : `doctor: ${failed.length} required check(s) failed${options.stage ? ` for ${options.stage}` : ''}`,
  )
  return {
    code: failed.length === 0 ? EXIT.OK : EXIT.JOBS_FAILED,
    result: {ok: failed.length === 0, stage: options.stage ?? null, checks: shown.map(({stages, ...c}) => ({...c, stages: stages ?? ALL}))},
    text,
  }
}
