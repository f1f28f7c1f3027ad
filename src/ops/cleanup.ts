import {existsSync} from 'node:fs'

import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT} from '../errors.js'
import type {JobMove} from '../queue/maintenance.js'
import type {JobRow} from '../queue/rows.js'
import type {JobStage} from '../queue/stages.js'
import {recoverExpired} from '../runner/stage.js'
import {formatBytes} from '../util/disk.js'
import {deleteTranscribedMedia} from './cleanup-media.js'
import {deleteOrphans} from './cleanup-orphans.js'
import {type CleanupAction, type CleanupKind, type CleanupOptions, CleanupRun} from './cleanup-run.js'
import {deleteDeadTempFiles, deleteStaleAttempts} from './cleanup-temporary.js'

export type {CleanupAction, CleanupKind, CleanupOptions} from './cleanup-run.js'

/** A job cleanup sends back to the stage that makes its missing input. */
export interface CleanupMove {
  job: number
  from: JobStage
  to: JobStage
  why: string
}

/** `animezipf cleanup --json`. */
export interface CleanupResult {
  dry_run: boolean
  notes: string[]
  /** 0 under --dry-run (bytes_by_kind says what would be freed). */
  bytes_freed: number
  bytes_by_kind: Record<CleanupKind, number>
  /** Expired leases recovered (or, under --dry-run, that would be). */
  recovered: number
  moves: CleanupMove[]
  actions: CleanupAction[]
  vacuumed: boolean
}

/** Crash recovery: leases of dead workers (under --dry-run, how many have expired). */
async function recoverLeases(run: CleanupRun): Promise<number> {
  const {ctx, queue} = run
  if (!run.options.dryRun) return (await recoverExpired(ctx, queue)).recovered
  return (await queue.stats.runningJobs(ctx.clock.now(), 100_000)).filter((r) => r.expired).length
}

type Rewind = Pick<JobMove, 'to' | 'clear'> & {why: string}

/** Where a job whose input file is gone goes back to; undefined when its input is there. */
function rewindOf(run: CleanupRun, j: JobRow): Rewind | undefined {
  const {paths} = run.ctx
  const video = j.video_path ? paths.videoAbsolute(j.video_path) : undefined
  const local = run.local(j)
  const hasVideo = !!video && (!local || existsSync(video))
  if (j.stage === 'downloaded' && local && !hasVideo && !existsSync(paths.audioFile(j.mal_id!, j.episode))) {
    return {to: 'queued', why: `its video ${j.video_path ?? '(none recorded)'} is gone: downloaded again`, clear: ['video']}
  } else if (j.stage === 'transcribed' && !(j.transcript_path && existsSync(paths.absolute(j.transcript_path)))) {
    if (hasVideo && j.video_deleted !== 1)
      return {to: 'downloaded', why: `its transcript is gone and the video is there: transcribed again`, clear: ['transcript']}
    return {to: 'queued', why: `its transcript is gone and so is the video: downloaded again`, clear: ['transcript', 'video']}
  } else if (j.stage === 'tokenized' && !(j.tokens_path && existsSync(paths.absolute(j.tokens_path)))) {
    return {to: 'transcribed', why: `its tokens are gone: tokenized again`, clear: ['tokens']}
  }
  return undefined
}

/** Jobs whose input file is gone go back to the stage that makes it (all at once, set-based). */
async function rewindJobsWithoutInput(run: CleanupRun): Promise<CleanupMove[]> {
  const moves: CleanupMove[] = []
  const toMove: JobMove[] = []
  for (const j of await run.queue.maintenance.unleasedIn(['downloaded', 'transcribed', 'tokenized'])) {
    const rewind = rewindOf(run, j)
    if (!rewind) continue
    moves.push({job: j.id, from: j.stage, to: rewind.to, why: rewind.why})
    toMove.push({id: j.id, from: j.stage, to: rewind.to, message: `cleanup: ${rewind.why}`, clear: rewind.clear})
  }
  if (!run.options.dryRun && toMove.length > 0) await run.queue.maintenance.moveJobs(toMove, {event: 'recovered'})
  return moves
}

/**
 * `animezipf cleanup`: recover from crashes (expired leases; jobs whose input file is gone go back
 * to the stage that makes it) and free disk (media of transcribed episodes, temp files of dead
 * processes, files no job accounts for). Safe beside running stages: leased jobs and their files,
 * and the folders of live processes, are never touched.
 */
export async function cleanup(ctx: AppContext, options: CleanupOptions): Promise<ServiceResult<CleanupResult>> {
  const queue = await ctx.queue({readonly: options.dryRun})
  const run = new CleanupRun(ctx, queue, options)
  const recovered = await recoverLeases(run)
  const moves = await rewindJobsWithoutInput(run)
  // media of episodes already transcribed (as [disk_management.cleanup] says)
  await deleteTranscribedMedia(run)
  deleteStaleAttempts(run)
  // one moment for both age tests: a dead temp file's day and an orphan's hour of grace
  const now = Date.now()
  deleteDeadTempFiles(run, now)
  await deleteOrphans(run, now)
  if (options.vacuum && !options.dryRun) await queue.maintenance.vacuum()

  const bytes: Record<CleanupKind, number> = {media: 0, temporary: 0, orphan: 0}
  for (const a of run.actions) bytes[a.kind] += a.bytes
  const result: CleanupResult = {
    dry_run: options.dryRun,
    notes: run.notes,
    bytes_freed: options.dryRun ? 0 : bytes.media + bytes.temporary + bytes.orphan,
    bytes_by_kind: bytes,
    recovered,
    moves,
    actions: run.actions,
    vacuumed: options.vacuum && !options.dryRun,
  }
  return {code: EXIT.OK, result, text: cleanupReport(result)}
}

/** The lines for a person: the totals, then the first moves and actions, then the notes. */
function cleanupReport(r: CleanupResult): string[] {
  const {bytes_by_kind: bytes, moves, actions, recovered, dry_run: dryRun, vacuumed} = r
  const total = bytes.media + bytes.temporary + bytes.orphan
  const nothing = actions.length === 0 && moves.length === 0 && recovered === 0
  const text = [
    nothing
      ? `cleanup: nothing to delete${vacuumed ? '; database vacuumed' : ''}`
      : `cleanup: ${dryRun ? 'would free' : 'freed'} ${formatBytes(total)} (media ${formatBytes(bytes.media)}, temporary ${formatBytes(bytes.temporary)}, orphans ${formatBytes(bytes.orphan)}); ${moves.length} job(s) ${dryRun ? 'would go' : 'went'} back${recovered ? `; ${recovered} expired lease(s) ${dryRun ? 'would be ' : ''}recovered` : ''}${vacuumed ? '; database vacuumed' : ''}${dryRun ? ' (dry run: nothing was changed)' : ''}`,
  ]
  for (const m of moves.slice(0, 50)) text.push(`  job ${m.job}: ${m.from} -> ${m.to}: ${m.why}`)
  for (const a of actions.slice(0, 100)) text.push(`  ${a.kind.padEnd(9)} ${formatBytes(a.bytes).padStart(9)}  ${a.what}`)
  for (const n of r.notes) text.push(`  ${n}`)
  if (actions.length > 100) text.push(`  … ${actions.length - 100} more (--json lists them all)`)
  return text
}
