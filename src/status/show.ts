import {setTimeout as sleep} from 'node:timers/promises'

import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT, UserError} from '../errors.js'
import {requireAnime} from '../queue/anime.js'
import {type JobReport, type StatusReport, collectJob, collectStatus} from './collect.js'
import {renderJob, renderStatus} from './render.js'

export interface StatusOptions {
  malId?: number | undefined
  jobId?: number | undefined
  top?: number
  watchSeconds?: number | undefined
}

/** `animezipf status --json`: the queue's report, or with --job one job and its history. */
export type StatusView = StatusReport | JobReport

/** `animezipf status` (one view): it reads the queue and writes nothing to it. */
export async function showStatus(ctx: AppContext, options: StatusOptions): Promise<ServiceResult<StatusView>> {
  // read-only: works on read-only media, never waits for a writer, creates nothing
  const queue = await ctx.queue({readonly: true})
  const color = ctx.output.color
  if (options.jobId !== undefined) {
    const report = await collectJob(queue, options.jobId)
    if (!report) throw new UserError(`no job with id ${options.jobId}`, 'see `animezipf status` for the jobs there are')
    return {code: EXIT.OK, result: report, text: [renderJob(report, color)]}
  }
  await requireAnime(queue.anime, options.malId)
  const report = await collectStatus({queue, config: ctx.config, paths: ctx.paths, clock: ctx.clock, malId: options.malId, animeLimit: options.top})
  const location = ctx.queueLocation
  // a typo in --data-dir must not look like an empty corpus
  const missing = !ctx.queueExists
  report.database_exists = !missing
  const text = [renderStatus(report, color)]
  if (missing)
    text.unshift(
      `no queue at ${location.target} yet: a fresh folder (\`animezipf scrape\`, \`import\` or \`demo\` create it), or a mistyped --data-dir / [data] root_dir`,
    )
  return {code: EXIT.OK, result: report, text}
}

/** `animezipf status --watch N`: a fresh view every N seconds until Ctrl-C. */
export async function watchStatus(ctx: AppContext, options: StatusOptions & {watchSeconds: number}): Promise<number> {
  const {output} = ctx
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    while (!stop.signal.aborted) {
      const view = await showStatus(ctx, options)
      if (output.json) output.resultLine(view.result)
      else {
        if (output.interactive) process.stdout.write('\u001B[2J\u001B[H')
        for (const line of view.text) output.print(line)
      }
      await sleep(options.watchSeconds * 1000, undefined, {signal: stop.signal}).catch(() => {})
      // a read-only view is a snapshot: the next frame opens a fresh one
      await ctx.close()
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return stop.signal.aborted ? EXIT.INTERRUPTED : EXIT.OK
}
