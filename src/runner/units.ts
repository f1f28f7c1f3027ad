import type {Queue} from '../queue/index.js'
import type {FailOutcome} from '../queue/jobs.js'
import type {JobFields, JobRow} from '../queue/rows.js'
import type {StageDef} from '../queue/stages.js'
import type {Backoff} from '../util/backoff.js'
import {animeIdLabel} from '../queue/anime.js'

/** A piece of work the pool claims under one lease: one job, the jobs of one anime, one anime to select. */
export interface Unit {
  label: string
  /** The jobs it holds (none for units that are not jobs, such as an anime to select). */
  jobs: JobRow[]
  /** Jobs the unit holds, or the key of what it holds, for the workers table. */
  currentJobId: number | null
}

/** Where the pool gets its units and how it settles them; every settle is fenced by the owner. */
export interface UnitSource<U extends Unit = Unit> {
  /** The running stage's name, for the history and the log. */
  readonly stage: StageDef
  claim(owner: string, leaseMs: number): Promise<U | undefined>
  extend(unit: U, owner: string, leaseMs: number, progress: number | undefined): Promise<boolean>
  /** True when the result was kept (the lease still held). */
  finish(unit: U, owner: string, fields: JobFields, message: string | undefined): Promise<boolean>
  fail(unit: U, owner: string, message: string, transient: boolean, backoff: Backoff): Promise<FailOutcome>
  /** Give back unfinished (shutdown); how many jobs went back. */
  release(unit: U, owner: string, reason: string): Promise<number>
  /** Give back with the reason kept as the job's error, no retry used (a full disk); how many went back. */
  defer(unit: U, owner: string, reason: string): Promise<number>
  note(unit: U, owner: string, message: string): Promise<void>
}

export function jobLabel(job: Pick<JobRow, 'id' | 'anime_title' | 'episode'>): string {
  return `job ${job.id} (${job.anime_title} ep ${job.episode})`
}

/** Settling a unit of jobs: each job fenced on its own; the unit counts as kept only if all were. */
function jobSettlers(queue: Queue, stage: StageDef): Omit<UnitSource, 'claim' | 'stage'> {
  const jobs = queue.jobs
  return {
    extend: async (u, owner, leaseMs, progress) => {
      let ok = true
      for (const j of u.jobs) ok = (await jobs.extendLease(j.id, owner, leaseMs, progress)) && ok
      return ok
    },
    finish: async (u, owner, fields, message) => {
      let kept = 0
      for (const j of u.jobs) if (await jobs.finish(j.id, owner, stage, fields, message)) kept++
      return kept === u.jobs.length
    },
    fail: async (u, owner, message, transient, backoff) => {
      const outcomes: FailOutcome[] = []
      for (const j of u.jobs) outcomes.push(await jobs.fail(j.id, owner, stage, message, transient, backoff))
      return outcomes.includes('failed') ? 'failed' : outcomes.includes('retry') ? 'retry' : 'lost'
    },
    release: async (u, owner, reason) => {
      let n = 0
      for (const j of u.jobs) if (await jobs.release(j.id, owner, stage, reason)) n++
      return n
    },
    defer: async (u, owner, reason) => {
      let n = 0
      for (const j of u.jobs) if (await jobs.release(j.id, owner, stage, reason, true)) n++
      return n
    },
    note: async (u, owner, message) => {
      for (const j of u.jobs) await jobs.addEvent(j.id, stage.running, 'note', 'info', message, owner)
    },
  }
}

/** One job per claim (tokenize, download, transcribe). */
export function jobUnits(
  queue: Queue,
  stage: StageDef,
  filter: {malId?: number | undefined; host?: string | undefined; selected?: readonly string[] | undefined} = {},
): UnitSource {
  return {
    stage,
    ...jobSettlers(queue, stage),
    claim: async (owner, leaseMs) => {
      const [job] = await queue.jobs.claim({stage, owner, count: 1, leaseMs, malId: filter.malId, host: filter.host, selected: filter.selected})
      return job ? {label: jobLabel(job), jobs: [job], currentJobId: job.id} : undefined
    },
  }
}

/** Every claimable episode of one anime per claim (analyze); `whole`: only anime with nothing earlier in the pipeline. */
export function animeUnits(queue: Queue, stage: StageDef, filter: {malId?: number | undefined; whole: boolean}): UnitSource {
  return {
    stage,
    ...jobSettlers(queue, stage),
    claim: async (owner, leaseMs) => {
      const jobs = await queue.jobs.claimAnime({stage, owner, leaseMs, malId: filter.malId, whole: filter.whole})
      if (jobs.length === 0) return undefined
      return {
        label: `${jobs[0]!.anime_title} (${animeIdLabel(jobs[0]!.mal_id)}, ${jobs.length} episode${jobs.length === 1 ? '' : 's'})`,
        jobs,
        currentJobId: jobs[0]!.id,
      }
    },
  }
}
