import {readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {processGone} from './pid.js'

/**
 * The name of a scratch folder for one attempt at a job (mkdtemp adds six characters): the job,
 * the process and the host in it, so a later run can tell a dead process's folder from a live one's.
 */
export function attemptPrefix(kind: string, jobId: number): string {
  return `${kind}${jobId}-${process.pid}@${hostname()}-`
}

const GROUP_FILE = '.pgid'

/** Remember the process group working in an attempt folder (a later run kills it if we were killed first). */
export function recordGroup(dir: string, pgid: number): void {
  try {
    writeFileSync(path.join(dir, GROUP_FILE), String(pgid))
  } catch {
    // the folder is gone already
  }
}

export function isGroupFile(name: string): boolean {
  return name === GROUP_FILE
}

/**
 * Kill what a dead process left running in its folder: the group it recorded, but only if that
 * group's leader still names the folder in its environment or arguments (a pid may be reused).
 */
function killOrphans(dir: string): void {
  let pgid: number
  try {
    pgid = Number(readFileSync(path.join(dir, GROUP_FILE), 'utf8'))
  } catch {
    return
  }
  if (!Number.isInteger(pgid) || pgid <= 1) return
  // the group's members (its leader may have exited while a child it started runs on)
  let members: string[] = []
  try {
    members = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
  } catch {
    return
  }
  const ours = members.some((pid) => {
    try {
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) return false
      return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(dir) || readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir)
    } catch {
      return false
    }
  })
  if (!ours) return
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // gone meanwhile
  }
}

/** The scratch folders under `root` left by processes of this host that no longer run (kill -9). */
export function staleAttempts(root: string): string[] {
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return []
  }
  return names.filter((name) => {
    const m = /^[a-z]+\d+-(\d+)@(.+)-[A-Za-z0-9]{6}$/.exec(name)
    if (!m || m[2] !== hostname()) return false
    return processGone(Number(m[1]))
  })
}

/** Remove the scratch folders of dead processes, and what those processes left running there. */
export function removeStaleAttempts(root: string): string[] {
  const stale = staleAttempts(root)
  for (const name of stale) {
    killOrphans(path.join(root, name))
    rmSync(path.join(root, name), {recursive: true, force: true})
  }
  return stale
}
