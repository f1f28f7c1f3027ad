import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import type {AppContext} from '../../app/context.js'
import type {Queue} from '../../queue/index.js'
import {isDeadLocalOwner, newRunId} from '../../queue/workers.js'
import {heartbeatMs} from '../../runner/pool.js'
import {type AggregateResult, aggregate} from './aggregate.js'
import {SIGNATURE_PREFIX} from './anime.js'
import type {FitOptions} from './fit.js'

/** The lease two analyze runs, on any host, take before writing the corpus-wide outputs. */
const AGGREGATE = 'aggregate'

/** What the corpus-wide outputs are computed from: every anime's latest analysis, the groups, the fit options. */
async function aggregateSignature(queue: Queue, fit: FitOptions): Promise<string> {
  const h = createHash('sha256')
  h.update(SIGNATURE_PREFIX)
  h.update(JSON.stringify(fit))
  for (const a of await queue.analysis.analyzedAnime()) h.update(`${a.anime_id}:${a.analysis_id}:${a.input_signature}\n`)
  for (const m of await queue.analysis.groupMembership()) h.update(`${m.anime_id}:${m.kind}:${m.name}\n`)
  return h.digest('hex').slice(0, 32)
}

/**
 * Rebuild the aggregate when any of its inputs changed since the last complete rebuild (a recorded
 * signature, so a crash right after an anime's analysis is caught up by the next run), under a
 * lease so that two runs, on any host, never write it at once: the second waits, then checks again.
 */
export async function refreshAggregate(ctx: AppContext, queue: Queue, fit: FitOptions, force: boolean): Promise<AggregateResult | undefined> {
  const owner = `${newRunId(queue.host)}:aggregate`
  const reportThere = () => existsSync(ctx.paths.finalReport) && existsSync(ctx.paths.globalFit) && existsSync(ctx.paths.difficultyJson)
  for (let waits = 0; ; waits++) {
    // while another run holds the lease, only the lease is polled (cheap); the inputs are read once it is free
    const held = await queue.locks.state(AGGREGATE)
    if (held?.live && held.owner !== owner && !isDeadLocalOwner(held.owner ?? '', queue.host)) {
      if (waits === 0) ctx.output.log(`aggregate: another analyze (${held.owner}) is rebuilding it; waiting for it to finish, then checking again`)
      await sleep(Math.min(5000, 500 * 2 ** Math.min(waits, 4)))
      force = false
      continue
    }
    const signature = await aggregateSignature(queue, fit)
    if (!force && held?.signature === signature && reportThere()) return undefined
    if ((await queue.analysis.analyzedAnime()).length === 0) return undefined
    if (!(await queue.locks.acquire(AGGREGATE, owner, ctx.leaseMs))) continue
    return rebuildUnderLease(ctx, queue, fit, owner)
  }
}

/** Rebuild with the lease held (kept alive by heartbeats), and record what it was built from unless the lease was lost. */
async function rebuildUnderLease(ctx: AppContext, queue: Queue, fit: FitOptions, owner: string): Promise<AggregateResult> {
  let lost = false
  const beat = setInterval(() => {
    queue.locks
      .extend(AGGREGATE, owner, ctx.leaseMs)
      .then((ok) => {
        if (!ok) lost = true
      })
      .catch(() => {})
  }, heartbeatMs(ctx.leaseMs))
  try {
    // inputs may have changed while waiting: build from what is there now, record what it was built from
    const building = await aggregateSignature(queue, fit)
    const result = await aggregate(queue, ctx.paths, fit)
    // a builder that lost its lease records nothing: the next run sees the old signature and rebuilds
    await queue.locks.release(AGGREGATE, owner, lost ? undefined : building)
    if (lost) ctx.output.warn('aggregate: the lease on it was lost while rebuilding; the next analyze rebuilds it again')
    return result
  } catch (error) {
    await queue.locks.release(AGGREGATE, owner)
    throw error
  } finally {
    clearInterval(beat)
  }
}
