import {randomBytes} from 'node:crypto'
import {mkdirSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync} from 'node:fs'
import path from 'node:path'

/** A temp name beside the target, so the final rename never crosses a filesystem. */
export function tempNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/**
 * Write a file so a crash never leaves a half-written file under its real name:
 * write a temp file beside it, fsync, rename over the target.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(target), {recursive: true})
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
