import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT, UserError} from '../errors.js'
import {QueueCopyRefused, type TableCounts, copyQueue} from '../queue/copy.js'
import {openQueue, queueLocation} from '../queue/index.js'

/** `animezipf queue copy --json`. */
export interface QueueCopyResult {
  /** The source and the target as shown (a PostgreSQL password masked). */
  from: string
  to: string
  /** Rows copied per table, each verified against the source. */
  tables: TableCounts
  seconds: number
}

/**
 * `animezipf queue copy --to URL`: the whole queue this config names, copied into an empty one
 * (typically SQLite -> PostgreSQL when a corpus moves to several machines).
 */
export async function queueCopy(ctx: AppContext, options: {to: string}): Promise<ServiceResult<QueueCopyResult>> {
  if (!options.to.trim()) throw new UserError('--to is empty', 'give the target queue, e.g. --to postgres://user@host:5432/animezipf')
  const from = ctx.queueLocation
  const to = queueLocation(options.to, '', '--to')
  if (to.backend === from.backend && to.target === from.target) throw new UserError('--to names the queue being copied', 'give another database')
  // the source is read as one consistent snapshot; nothing is written to it
  const source = await ctx.queue({readonly: true})
  const target = await openQueue({location: to, clock: ctx.clock, host: ctx.host})
  try {
    const t0 = Date.now()
    const counts = await copyQueue(source, target, ctx.clock.now(), (table, rows) => ctx.output.log(`queue copy: ${table}: ${rows} row(s)`))
    const result: QueueCopyResult = {from: from.display, to: to.display, tables: counts, seconds: (Date.now() - t0) / 1000}
    const text = [
      `copied ${from.display} -> ${to.display} in ${result.seconds.toFixed(1)}s; counts verified:`,
      ...Object.entries(counts).map(([t, n]) => `  ${t.padEnd(22)} ${n}`),
      `next: set [queue] url (or ANIMEZIPF_QUEUE_URL) to the new queue on every host`,
    ]
    return {code: EXIT.OK, result, text}
  } catch (error) {
    if (error instanceof QueueCopyRefused) {
      throw new UserError(`queue copy refused: ${error.message}; nothing was copied`, 'copy into a new, empty database, with no stage running on the source')
    }
    throw error
  } finally {
    await target.close()
  }
}
