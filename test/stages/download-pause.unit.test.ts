// download's pause machine (the runner's gate) on the real disk monitor over real folders, with its
// pauses recorded in the real queue: pause over the threshold, resume when space is freed, stop
// under --no-wait, at shutdown, or when nothing is left to claim.
import {expect} from 'chai'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {DataPaths} from '../../src/paths.js'
import type {Queue} from '../../src/queue/index.js'
import {DiskMonitor} from '../../src/stages/download/disk-monitor.js'
import {DownloadPause} from '../../src/stages/download/pause.js'
import {openAt, tempDir} from '../helpers.js'

const MB = 1e6

interface Setup {
  paths: DataPaths
  queue: Queue
  monitor: DiskMonitor
  logged: string[]
  pause: (o?: {noWait?: boolean; ready?: number}) => DownloadPause
}

async function setUp(): Promise<Setup> {
  const paths = new DataPaths(path.join(tempDir(), 'data'))
  mkdirSync(paths.downloadsInProgress, {recursive: true})
  const queue = await openAt(path.join(paths.root, 'jobs.db'))
  const monitor = new DiskMonitor({
    paths,
    limits: {hardLimit: 20 * MB, pause: 8 * MB, resume: 4 * MB, minFree: 0},
    cacheMs: 0,
    permanentCacheMs: 3_600_000,
    permanent: async () => 0,
    defaultExpected: 1 * MB,
    recentSizes: [],
  })
  const logged: string[] = []
  const pause = (o: {noWait?: boolean; ready?: number} = {}) =>
    new DownloadPause({
      monitor,
      pauses: queue.pauses,
      host: 'test-host',
      output: {log: (m: string) => void logged.push(m)},
      noWait: o.noWait ?? false,
      checkMs: 20,
      readyJobs: async () => o.ready ?? 1,
    })
  return {paths, queue, monitor, logged, pause}
}

/** A finished video of `mb` megabytes: counted by the monitor as temporary use. */
function video(paths: DataPaths, name: string, mb: number): string {
  const file = path.join(paths.videosRoot, '1', 'episodes', name)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, Buffer.alloc(mb * MB))
  return file
}

const worker = (said: string[] = []) => ({index: 1, say: (line: string) => void said.push(line)})

describe('download: the pause machine', function () {
  this.timeout(30_000)
  let s: Setup
  beforeEach(async () => {
    s = await setUp()
  })
  afterEach(async () => {
    await s.queue.close()
  })

  it('lets a claim through while the disk is under the pause threshold, recording no pause', async () => {
    const p = s.pause()
    expect(await p.gate(new AbortController().signal, worker())).to.equal('claim')
    expect(p.pauses).to.equal(0)
    expect(await s.queue.pauses.recent(10)).to.have.length(0)
  })

  it('pauses over the threshold, resumes once transcription frees space, and records the pause with both usages', async () => {
    const file = video(s.paths, 'ep001.mp4', 9)
    const p = s.pause()
    const said: string[] = []
    const gate = p.gate(new AbortController().signal, worker(said))
    // the worker waits; then space is freed below the resume threshold
    await new Promise((r) => setTimeout(r, 100))
    expect(p.isPaused).to.equal(true)
    rmSync(file)
    expect(await gate).to.equal('claim')
    expect(p.isPaused).to.equal(false)
    expect(p.pauses).to.equal(1)
    expect(said.some((l) => /^paused: /.test(l))).to.equal(true)
    expect(s.logged.some((l) => /^downloads paused: /.test(l))).to.equal(true)
    expect(s.logged.some((l) => /^downloads resume: /.test(l))).to.equal(true)
    const [row] = await s.queue.pauses.recent(10)
    expect(row?.ended_at).to.be.a('string')
    expect(row?.usage_bytes).to.be.at.least(9 * MB)
    expect(row?.resumed_usage_bytes).to.be.below(4 * MB)
  })

  it('under --no-wait stops at the first pause and says why', async () => {
    video(s.paths, 'ep001.mp4', 9)
    const p = s.pause({noWait: true})
    expect(await p.gate(new AbortController().signal, worker())).to.equal('stop')
    expect(p.stoppedForDisk).to.match(/pause threshold|used/)
    // the pause stays open until the run ends it
    await p.end(s.monitor.read().usage)
    const [row] = await s.queue.pauses.recent(10)
    expect(row?.ended_at).to.be.a('string')
  })

  it('stops instead of waiting when nothing is downloading and no job is left to claim', async () => {
    video(s.paths, 'ep001.mp4', 9)
    const p = s.pause({ready: 0})
    expect(await p.gate(new AbortController().signal, worker())).to.equal('stop')
    expect(p.stoppedForDisk).to.equal(undefined)
  })

  it('stops a waiting worker when the run is stopping', async () => {
    video(s.paths, 'ep001.mp4', 9)
    const p = s.pause()
    const stop = new AbortController()
    const gate = p.gate(stop.signal, worker())
    await new Promise((r) => setTimeout(r, 60))
    stop.abort()
    expect(await gate).to.equal('stop')
  })

  it('a pause started twice is one pause; ending it twice writes once', async () => {
    const p = s.pause()
    await p.start('test', 9 * MB)
    await p.start('test again', 9 * MB)
    await p.end(1 * MB)
    await p.end(2 * MB)
    const rows = await s.queue.pauses.recent(10)
    expect(rows).to.have.length(1)
    expect(rows[0]?.resumed_usage_bytes).to.equal(1 * MB)
    expect(p.pauses).to.equal(1)
  })
})
