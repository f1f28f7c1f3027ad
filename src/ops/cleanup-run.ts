import {lstatSync, readdirSync} from 'node:fs'

import type {AppContext} from '../app/context.js'
import type {Queue} from '../queue/index.js'
import type {JobRow} from '../queue/rows.js'
import {folderBytes} from '../util/disk.js'

export interface CleanupOptions {
  dryRun: boolean
  vacuum: boolean
  /** Also remove transcripts and tokens of episodes no job has (permanent outputs: never by default). */
  orphans?: boolean
}

/** The three kinds of leftovers cleanup frees disk of. */
export type CleanupKind = 'media' | 'temporary' | 'orphan'

/** One file (or folder) cleanup removes, or would remove under --dry-run. */
export interface CleanupAction {
  kind: CleanupKind
  what: string
  bytes: number
}

/**
 * One cleanup run as its sweeps share it: the queue, the actions and notes gathered so far, and
 * `act`, which records an action and carries it out only when this is not a dry run.
 */
export class CleanupRun {
  readonly actions: CleanupAction[] = []
  readonly notes: string[] = []

  constructor(
    readonly ctx: AppContext,
    readonly queue: Queue,
    readonly options: CleanupOptions,
  ) {}

  act(action: CleanupAction, remove: () => void): void {
    this.actions.push(action)
    if (!this.options.dryRun) remove()
  }

  /** Whether this host may look at the job's video: shared storage, or the video is on this host (or nowhere yet). */
  local(j: Pick<JobRow, 'video_host'>): boolean {
    return this.ctx.config.data.storage_shared || j.video_host === null || j.video_host === this.ctx.host
  }
}

/** Bytes of a file or a folder; 0 when it is gone. */
export function size(file: string): number {
  try {
    const s = lstatSync(file)
    return s.isDirectory() ? folderBytes(file) : s.size
  } catch {
    return 0
  }
}

/** The names in a folder; none when it is not there. */
export function list(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
