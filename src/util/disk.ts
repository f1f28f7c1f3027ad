import {existsSync, readdirSync, lstatSync, statSync, statfsSync} from 'node:fs'
import path from 'node:path'

/** Bytes of all regular files below a folder (0 when it does not exist), skipping the folders in `skip`. */
export function folderBytes(dir: string, skip?: ReadonlySet<string>): number {
  if (skip?.has(dir)) return 0
  let total = 0
  let entries
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch {
    return 0
  }
  for (const e of entries) {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) total += folderBytes(full, skip)
    else if (e.isFile()) {
      try {
        total += lstatSync(full).size
      } catch {
        // vanished while we looked (a worker deleted it): not there any more
      }
    }
  }
  return total
}

export function fileBytes(file: string): number {
  try {
    return lstatSync(file).size
  } catch {
    return 0
  }
}

/** Free and total bytes of the filesystem holding `dir` (or its nearest existing parent), and its device. */
export function filesystemSpace(dir: string): {free: number; total: number; device: number} {
  let probe = path.resolve(dir)
  while (!existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe)
  const s = statfsSync(probe)
  return {free: s.bavail * s.bsize, total: s.blocks * s.bsize, device: statSync(probe).dev}
}

export const GB = 1e9

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = bytes
  let u = -1
  do {
    v /= 1000
    u++
  } while (v >= 1000 && u < units.length - 1)
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}
