import type {Output} from '../app/output.js'
import {EXIT, PermanentJobError, StopRunError, errorMessage} from '../errors.js'
import {queueGone} from '../queue/faults.js'
import type {Backoff} from '../util/backoff.js'
import type {PoolSummary, UnitOutcome} from './pool.js'
import type {Unit, UnitSource} from './units.js'

/** One attempt at a unit, as it is settled: what it held, where it goes back, what it counts into. */
export interface Attempt<U extends Unit = Unit> {
  unit: U
  owner: string
  label: string
  source: UnitSource<U>
  summary: PoolSummary
  /** The worker's line in the log (or its listr2 output). */
  report: (line: string) => void
}

/** How the attempt stood when its handler threw. */
export interface AttemptState {
  /** The lease was lost (another worker took the unit over). */
  lost: boolean
  /** The handler was aborted and the run is shutting down. */
  interrupted: boolean
  backoff: Backoff
  output: Output
}

/** A full disk or a folder that cannot be written: one line with the path, and whether space will fix it. */
export function storageProblem(error: unknown): {full: boolean; message: string; hint: string} | undefined {
  const e = error as NodeJS.ErrnoException | null | undefined
  const where = e?.path ? ` (${e.path})` : ''
  if (e?.code === 'ENOSPC')
    return {full: true, message: `disk full${where}: no space left on the device`, hint: 'free space (animezipf cleanup, a transcribe run) and run again'}
  if (e?.code === 'EDQUOT') return {full: true, message: `disk quota exceeded${where}`, hint: 'free space or raise the quota, and run again'}
  if (e?.code === 'EROFS')
    return {full: false, message: `cannot write${where}: the filesystem is read-only`, hint: 'point [data] root_dir / storage_dir at a writable folder'}
  if (e?.code === 'EACCES' || e?.code === 'EPERM')
    return {
      full: false,
      message: `cannot write${where}: permission denied (${e.code})`,
      hint: "fix the folder's permissions or point [data] root_dir / storage_dir elsewhere",
    }
  return undefined
}

/** The handler returned: keep its result if the lease still holds. */
export async function settleFinished<U extends Unit>(a: Attempt<U>, outcome: UnitOutcome, elapsedMs: number): Promise<void> {
  if (await a.source.finish(a.unit, a.owner, outcome.fields ?? {}, outcome.message)) {
    a.summary.done++
    if (outcome.record !== undefined) a.summary.records.push(outcome.record)
    a.report(`${a.label}: ${a.source.stage.output}${outcome.message ? `, ${outcome.message}` : ''} (${(elapsedMs / 1000).toFixed(1)}s)`)
  } else {
    a.summary.lost++
    a.report(`${a.label}: lease lost to another worker; result discarded`)
  }
}

/** Record how an attempt that threw ended: lost, halted, released at shutdown, deferred, retried or failed. */
export async function settleError<U extends Unit>(a: Attempt<U>, error: unknown, state: AttemptState): Promise<void> {
  if (state.lost) {
    a.summary.lost++
    a.report(`${a.label}: lease lost to another worker; abandoned`)
    return
  }
  // the queue's database itself went away: the pool gives the unit back where it still can
  if (queueGone(error)) throw error
  if (error instanceof StopRunError) return settleHalted(a, error)
  if (state.interrupted) return settleInterrupted(a)
  const problem = storageProblem(error)
  if (problem) return settleStorage(a, problem)
  return settleFailed(a, error, state)
}

/** A StopRunError: no job can run now (a missing tool, a refused key); this one goes back untried and the run stops. */
async function settleHalted<U extends Unit>(a: Attempt<U>, error: StopRunError): Promise<void> {
  a.summary.halted ??= {message: error.message, hint: error.hint, exitCode: error.exitCode}
  if ((await a.source.release(a.unit, a.owner, `not attempted: ${error.message}`)) > 0) a.summary.released++
  a.report(`${a.label}: released back to ${a.source.stage.input}: ${error.message}`)
}

/** Aborted at shutdown past the grace period: back to the input stage, no retry used. */
async function settleInterrupted<U extends Unit>(a: Attempt<U>): Promise<void> {
  if ((await a.source.release(a.unit, a.owner, 'interrupted: released at shutdown')) > 0) {
    a.summary.released++
    a.report(`${a.label}: interrupted, released back to ${a.source.stage.input}`)
  } else {
    a.summary.lost++
    a.report(`${a.label}: interrupted; its lease was already lost`)
  }
}

/** The machine's fault, not the job's (the same would happen to every job): no other unit starts. */
async function settleStorage<U extends Unit>(a: Attempt<U>, problem: {full: boolean; message: string; hint: string}): Promise<void> {
  if (problem.full) {
    // the job says why it did not finish, without using up a retry (the disk, not the job, was at fault)
    if ((await a.source.defer(a.unit, a.owner, problem.message)) > 0) a.summary.retried++
  } else if ((await a.source.release(a.unit, a.owner, `not attempted: ${problem.message}`)) > 0) a.summary.released++
  a.summary.halted ??= {message: problem.message, hint: problem.hint, exitCode: problem.full ? EXIT.TRY_LATER : EXIT.USAGE}
  a.report(`${a.label}: ${problem.message}`)
}

/** The job's own failure: retried after a backoff unless permanent or out of attempts. */
async function settleFailed<U extends Unit>(a: Attempt<U>, error: unknown, state: AttemptState): Promise<void> {
  const message = errorMessage(error).split('\n')[0]!.slice(0, 500)
  const transient = !(error instanceof PermanentJobError)
  const outcome = await a.source.fail(a.unit, a.owner, message, transient, state.backoff)
  if (outcome === 'retry') a.summary.retried++
  if (outcome === 'failed') {
    a.summary.failed++
    a.summary.failures.push({jobId: a.unit.currentJobId ?? 0, label: a.label, error: message})
  }
  if (outcome === 'lost') a.summary.lost++
  a.report(`${a.label}: ${outcome === 'retry' ? 'will retry' : outcome === 'failed' ? 'FAILED' : 'lease lost'}: ${message}`)
  if (state.output.verbose && error instanceof Error && error.stack) state.output.log(error.stack)
}
