import {existsSync, statSync} from 'node:fs'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, UserError} from '../../errors.js'
import {formatBytes} from '../../util/disk.js'
import {checkModelName, downloadModel} from './model.js'

/** `transcribe --download-model --json`: the model's file, its size, and whether it was fetched now. */
export interface FetchModelResult {
  model: string
  file: string
  bytes: number
  downloaded: boolean
  resumed_from?: number
}

/** `animezipf transcribe --download-model NAME`: fetch a ggml model into data/models/, resumable. */
export async function fetchModel(ctx: AppContext, name: string): Promise<ServiceResult<FetchModelResult>> {
  checkModelName(name)
  const target = ctx.paths.modelFile(name)
  if (existsSync(target))
    return {code: EXIT.OK, result: {model: name, file: target, bytes: statSync(target).size, downloaded: false}, text: [`${name} is already at ${target}`]}
  const url = ctx.config.transcribe.model_url.replaceAll('{model}', name)
  const {SingleBar, Presets} = (await import('cli-progress')).default
  const bar = ctx.output.interactive
    ? new SingleBar({format: `ggml-${name}.bin [{bar}] {percentage}% {value}/{total} MB`, hideCursor: true, stream: process.stderr}, Presets.shades_classic)
    : undefined
  let started = false
  let lastLog = 0
  try {
    const r = await downloadModel(url, target, (done, total) => {
      const mb = Math.round(done / 1e6)
      if (bar) {
        if (!started) bar.start(total ? Math.round(total / 1e6) : mb, mb)
        started = true
        bar.update(mb)
      } else if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now()
        ctx.output.log(`ggml-${name}.bin: ${formatBytes(done)}${total ? ` of ${formatBytes(total)}` : ''}`)
      }
    })
    bar?.stop()
    return {
      code: EXIT.OK,
      result: {model: name, file: r.file, bytes: r.bytes, resumed_from: r.resumedFrom, downloaded: true},
      text: [`${name}: ${formatBytes(r.bytes)} written to ${r.file}${r.resumedFrom > 0 ? ` (resumed at ${formatBytes(r.resumedFrom)})` : ''}`],
    }
  } catch (error) {
    bar?.stop()
    const partial = `${target}.part`
    const have = existsSync(partial) ? statSync(partial).size : 0
    throw new UserError(
      `the model download failed: ${(error as Error).message}`,
      have > 0 ? `${formatBytes(have)} kept in ${partial}; run the same command again to resume` : 'check the network and [transcribe] model_url',
      EXIT.TRY_LATER,
    )
  }
}
