import {randomBytes} from 'node:crypto'
import {accessSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {UserError} from '../errors.js'

/**
 * A temp name beside the target, so the final rename never crosses a filesystem; the process and
 * its host are in the name, so that cleanup on a shared folder removes only its own host's leftovers.
 */
export function tempNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}@${hostname()}.${randomBytes(4).toString('hex')}.tmp`)
}

/**
 * Write a file so a crash never leaves a half-written file under its real name:
 * write a temp file beside it, fsync, rename over the target.
 */
/**
 * mkdir -p that says why it failed: a recursive mkdir under a read-only or forbidden folder reports
 * ENOENT; the nearest existing folder then tells the real cause (EROFS, EACCES).
 */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, {recursive: true})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    let p = path.dirname(dir)
    while (!existsSync(p) && path.dirname(p) !== p) p = path.dirname(p)
    accessSync(p, constants.W_OK)
    try {
      mkdirSync(path.join(p, `.animezipf-probe-${process.pid}`))
      rmSync(path.join(p, `.animezipf-probe-${process.pid}`), {recursive: true, force: true})
    } catch (probe) {
      const e = probe as NodeJS.ErrnoException
      e.path = dir
      throw e
    }
    throw error
  }
}

/** A folder a stage writes into, made if missing; one line naming the setting when it cannot be. */
export function ensureWritableDir(dir: string, setting: string): void {
  try {
    ensureDir(dir)
    accessSync(dir, constants.W_OK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'EROFS' ? 'the filesystem is read-only' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message
    throw new UserError(`cannot write ${dir}: ${why}`, `make it writable, or point ${setting} at a writable folder`)
  }
}

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  ensureDir(path.dirname(target))
  const tmp = tempNameFor(target)
  try {
    const fd = openSync(tmp, 'w')
    try {
      writeFileSync(fd, data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, target)
  } catch (error) {
    rmSync(tmp, {force: true})
    // say which file could not be written (a write on a descriptor names none)
    const e = error as NodeJS.ErrnoException
    if (e && typeof e === 'object' && !e.path) e.path = target
    throw error
  }
}
