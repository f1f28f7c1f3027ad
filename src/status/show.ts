import {existsSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import type {AppContext} from '../cli/context.js'
import {EXIT, UserError} from '../errors.js'
import {collectJob, collectStatus} from './collect.js'
import {renderJob, renderStatus} from './render.js'

export interface StatusOptions {
  malId?: number | undefined
  jobId?: number | undefined
  top?: number
  watchSeconds?: number | undefined
}

/** `animezipf status`: it reads the queue and writes nothing to it. */
export async function showStatus(ctx: AppContext, options: StatusOptions): Promise<number> {
  // an existing database is opened (and upgraded) as usual; a missing one is not created
  const db = ctx.db({readonly: !existsSync(ctx.paths.jobsDb)})
  const {output} = ctx
  if (options.jobId !== undefined) {
    const report = collectJob(db, ctx.clock, options.jobId)
    if (!report) throw new UserError(`no job with id ${options.jobId}`, 'see `animezipf status` for the jobs there are')
    output.result(report)
    output.print(renderJob(report, output.color))
    return EXIT.OK
  }
  const collect = () => collectStatus({db, config: ctx.config, paths: ctx.paths, clock: ctx.clock, malId: options.malId, animeLimit: options.top})
  if (!options.watchSeconds) {
    const report = collect()
    output.result(report)
    output.print(renderStatus(report, output.color))
    return EXIT.OK
  }
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    while (!stop.signal.aborted) {
      const report = collect()
      if (output.json) output.result(report)
      else {
        if (output.interactive) process.stdout.write('\u001B[2J\u001B[H')
        output.print(renderStatus(report, output.color))
      }
      await sleep(options.watchSeconds * 1000, undefined, {signal: stop.signal}).catch(() => {})
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return EXIT.OK
}
