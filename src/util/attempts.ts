import {readdirSync, rmSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

/**
 * The name of a scratch folder for one attempt at a job (mkdtemp adds six characters): the job,
 * the process and the host in it, so a later run can tell a dead process's folder from a live one's.
 */
export function attemptPrefix(kind: string, jobId: number): string {
  return `${kind}${jobId}-${process.pid}@${hostname()}-`
}

/** Remove the scratch folders under `root` left by processes of this host that no longer run (kill -9). */
export function removeStaleAttempts(root: string): string[] {
  const removed: string[] = []
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return removed
  }
  for (const name of names) {
    const m = /^[a-z]+\d+-(\d+)@(.+)-[A-Za-z0-9]{6}$/.exec(name)
    if (!m || m[2] !== hostname()) continue
    const pid = Number(m[1])
    let alive = pid === process.pid
    if (!alive) {
      try {
        process.kill(pid, 0)
        alive = true
      } catch (error) {
        alive = (error as NodeJS.ErrnoException).code !== 'ESRCH'
      }
    }
    if (!alive) {
      rmSync(path.join(root, name), {recursive: true, force: true})
      removed.push(name)
    }
  }
  return removed
}
