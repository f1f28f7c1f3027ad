import {accessSync, constants, statSync} from 'node:fs'

import type {AppContext} from '../app/context.js'
import {formatBytes} from '../util/disk.js'
import {findProgram} from '../util/process.js'
import type {Check, DoctorStage} from './doctor.js'

/** A program on PATH (or where the config points): found, or the fix. */
function programCheck(name: string, configured: string, stages: DoctorStage[], fix: string, optional = false): Check {
  const found = findProgram(configured)
  return {name, status: found ? 'ok' : optional ? 'warn' : 'fail', detail: found ? found : `${configured} not found`, fix, stages, optional}
}

/** ani-cli, what it runs (curl, sed, grep, yt-dlp or ffmpeg; only asked when ani-cli is there), and our menu hook. */
async function aniCliChecks(ctx: AppContext): Promise<Check[]> {
  const ani = programCheck(
    'ani-cli',
    ctx.config.ani_cli.path,
    ['select', 'download'],
    'install ani-cli 5.x (https://github.com/pystardust/ani-cli) or set [ani_cli] path',
  )
  const checks = [ani]
  if (ani.status === 'ok') {
    for (const dep of ['curl', 'sed', 'grep'])
      checks.push(programCheck(`ani-cli needs ${dep}`, dep, ['select', 'download'], `install ${dep} (apt install ${dep})`))
    const ytdlp = findProgram('yt-dlp')
    const ff = findProgram('ffmpeg')
    checks.push({
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
  checks.push({
    name: 'menu hook',
    status: hookOk ? 'ok' : 'fail',
    detail: MENU_HOOK,
    fix: 'reinstall animezipf (it ships bin/animezipf-menu-hook, executable)',
    stages: ['select', 'download'],
  })
  return checks
}

/** The whisper program (and whether it writes token probabilities) and the configured model file. */
async function whisperChecks(ctx: AppContext): Promise<Check[]> {
  const {config, paths} = ctx
  const checks: Check[] = []
  const {resolveWhisper, inspectWhisper} = await import('../stages/transcribe/whisper.js')
  try {
    const bin = await inspectWhisper(resolveWhisper(config.transcribe.whisper_bin))
    checks.push({name: 'whisper', status: 'ok', detail: `${bin.path}${bin.jsonFull ? '' : ' (no -ojf: no token probabilities)'}`, stages: ['transcribe']})
  } catch (error) {
    const e = error as {message: string; hint?: string}
    checks.push({name: 'whisper', status: 'fail', detail: e.message, fix: e.hint ?? 'run `npm run setup:whisper`', stages: ['transcribe']})
  }
  const {modelFileFor} = await import('../stages/transcribe/model.js')
  try {
    const file = modelFileFor(paths, config.transcribe.model)
    checks.push({
      name: 'whisper model',
      status: 'ok',
      detail: `${config.transcribe.model}: ${file} (${formatBytes(statSync(file).size)})`,
      stages: ['transcribe'],
    })
  } catch (error) {
    const e = error as {message: string; hint?: string}
    checks.push({
      name: 'whisper model',
      status: 'fail',
      detail: e.message,
      fix: e.hint ?? `animezipf transcribe --download-model ${config.transcribe.model}`,
      stages: ['transcribe'],
    })
  }
  return checks
}

/** The Anthropic key select uses for ambiguous candidates: set or not, never its value. */
function anthropicKeyCheck(): Check {
  const key = process.env.ANTHROPIC_API_KEY?.trim()
  return {
    name: 'ANTHROPIC_API_KEY',
    status: key ? 'ok' : 'warn',
    detail: key ? 'set (its value is not shown)' : 'not set: select chooses only the unambiguous anime',
    fix: 'export ANTHROPIC_API_KEY=… to let Claude choose among ambiguous candidates',
    stages: ['select'],
    optional: true,
  }
}

/** The external programs and keys the stages need, in the order doctor lists them. */
export async function toolChecks(ctx: AppContext): Promise<Check[]> {
  const {config} = ctx
  return [
    ...(await aniCliChecks(ctx)),
    programCheck('ffprobe', config.media.ffprobe, ['download'], 'install ffmpeg (apt install ffmpeg) or set [media] ffprobe'),
    programCheck('ffmpeg', config.media.ffmpeg, ['transcribe'], 'install ffmpeg (apt install ffmpeg) or set [media] ffmpeg'),
    ...(await whisperChecks(ctx)),
    anthropicKeyCheck(),
    programCheck('mecab', 'mecab', [], 'optional: apt install mecab mecab-ipadic-utf8 for the tokenizer comparison benchmark', true),
  ]
}
