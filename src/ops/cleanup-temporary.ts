import {lstatSync, rmSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {removeStaleAttempts, staleAttempts} from '../util/attempts.js'
import {processGone} from '../util/pid.js'
import {type CleanupRun, list, size} from './cleanup-run.js'

/**
 * Interrupted atomic writes: `.<name>.<pid>@<host>.<hex>.tmp` of a process of this host that is
 * gone (another host's are its own business), or a name without a host older than a day.
 */
function deadTempFile(name: string, mtimeMs: number, now: number): boolean {
  const m = /^\..+\.(\d+)@(.+)\.[0-9a-f]{8}\.tmp$/.exec(name)
  if (!m) return /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.test(name) && now - mtimeMs > 86_400_000
  return m[2] === hostname() && processGone(Number(m[1]))
}

/** Interrupted atomic writes anywhere under `dir`, downloads in progress aside (their attempts are swept whole). */
function deleteDeadTempFilesUnder(run: CleanupRun, dir: string, now: number): void {
  for (const name of list(dir)) {
    const p = path.join(dir, name)
    let st
    try {
      st = lstatSync(p)
    } catch {
      continue
    }
    if (st.isDirectory()) {
      if (name !== '.downloading') deleteDeadTempFilesUnder(run, p, now)
    } else if (st.isFile() && deadTempFile(name, st.mtimeMs, now)) run.act({kind: 'temporary', what: p, bytes: st.size}, () => rmSync(p, {force: true}))
  }
}

/** Scratch folders of download and transcription attempts whose process is gone. */
export function deleteStaleAttempts(run: CleanupRun): void {
  const {paths} = run.ctx
  for (const root of [paths.downloadsInProgress, paths.workRoot]) {
    const stale = staleAttempts(root)
    for (const name of stale) run.actions.push({kind: 'temporary', what: `${path.join(root, name)} (its process is gone)`, bytes: size(path.join(root, name))})
    if (!run.options.dryRun && stale.length > 0) removeStaleAttempts(root)
  }
}

/** Interrupted atomic writes of processes that are gone, in every data folder. */
export function deleteDeadTempFiles(run: CleanupRun, now: number): void {
  const {paths} = run.ctx
  const tempRoots = [paths.videosRoot, paths.audioRoot, paths.transcriptsRoot, paths.tokensRoot, paths.analysisRoot, paths.metadataRoot, paths.modelsDir]
  for (const r of tempRoots) deleteDeadTempFilesUnder(run, r, now)
}
