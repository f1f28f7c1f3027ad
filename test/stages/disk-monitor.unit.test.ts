// download's DiskMonitor as the download stage uses it: downloads let through by the gate (reserve),
// their folders as they fill (track) and their end (release) all count against the hard limit, on
// real folders, with no timing involved.
import {expect} from 'chai'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {DataPaths} from '../../src/paths.js'
import {DiskMonitor} from '../../src/stages/download/disk-monitor.js'
import {tempDir} from '../helpers.js'

const MB = 1e6

function monitor(paths: DataPaths): DiskMonitor {
  mkdirSync(paths.downloadsInProgress, {recursive: true})
  return new DiskMonitor({
    paths,
    limits: {hardLimit: 10 * MB, pause: 9.5 * MB, resume: 9.5 * MB, minFree: 0},
    // every read walks the folders again: what is measured is what is on disk now
    cacheMs: 0,
    permanentCacheMs: 3_600_000,
    permanent: async () => 0,
    defaultExpected: 3 * MB,
    recentSizes: [],
    now: () => 0,
  })
}

function fill(file: string, bytes: number): void {
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, Buffer.alloc(bytes))
}

describe('download: the disk monitor counts what running downloads will still write', () => {
  it('a download let through by the gate counts its whole expected size before its folder exists', () => {
    const m = monitor(new DataPaths(path.join(tempDir(), 'data')))
    expect(m.decide()).to.include({claim: true, projected: 3 * MB})
    m.reserve(0)
    m.reserve(1)
    // 0 used + 2 × 3 MB still to come + 3 MB for the next
    expect(m.decide()).to.include({claim: true, projected: 9 * MB})
    m.reserve(2)
    const full = m.decide()
    expect(full).to.include({claim: false, projected: 12 * MB, paused: true})
    expect(full.reason).to.match(/9\.00 MB still to come from 3 running download\(s\).*hard limit/)
    // one ends without a file: its share is no longer counted
    m.release(2)
    expect(m.decide()).to.include({projected: 9 * MB})
  })

  it('a running download counts what it has written on disk plus what it will still write, and no more', () => {
    const paths = new DataPaths(path.join(tempDir(), 'data'))
    const m = monitor(paths)
    m.reserve(0)
    m.reserve(1)
    const dir = path.join(paths.downloadsInProgress, 'j1-attempt')
    const slot = m.track(0, dir)
    fill(path.join(dir, 'Show Episode 1.mp4.part'), 1 * MB)
    // 1 MB on disk (partial downloads are use) + 2 MB still to come from it + 3 MB from the other + 3 MB next
    let d = m.decide()
    expect(d.reading.usage).to.equal(1 * MB)
    expect(d).to.include({claim: true, projected: 9 * MB})
    // a download past its expected size adds nothing more to come
    fill(path.join(dir, 'Show Episode 1.mp4.part'), 3.5 * MB)
    d = m.decide()
    expect(d).to.include({projected: 3.5 * MB + 3 * MB + 3 * MB})
    expect(d.claim).to.equal(true)

    // it finishes: the file moves into place, its size becomes the expected size of an episode
    rmSync(dir, {recursive: true})
    fill(paths.videoFile(1, 1), 4 * MB)
    m.release(0, 4 * MB, slot)
    expect(m.expectedSize()).to.equal(4 * MB)
    // 4 MB used + 4 MB still to come from the other + 4 MB next: over the hard limit of 10 MB
    d = m.decide()
    expect(d).to.include({claim: false, projected: 12 * MB})
    m.release(1)
    expect(m.decide()).to.include({projected: 8 * MB})
  })
})
