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

async function setUp(limits = {hardLimit: 20 * MB, pause: 8 * MB, resume: 4 * MB, minFree: 0}): Promise<Setup> {
  const paths = new DataPaths(path.join(tempDir(), 'data'))
  mkdirSync(paths.downloadsInProgress, {recursive: true})
  const queue = await openAt(path.join(paths.root, 'jobs.db'))
  const monitor = new DiskMonitor({
    paths,
    limits,
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

/** Resolves once `cond` holds (a gate has paused), looking every 10 ms. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10))
}

const worker = (said: string[] = [], index = 1) => ({index, say: (line: string) => void said.push(line)})

/** A fresh data folder, queue and monitor for each test of the enclosing describe, closed after it. */
function eachTest(): {s: Setup} {
  const t = {} as {s: Setup}
  beforeEach(async () => {
    t.s = await setUp()
  })
  afterEach(async () => {
    await t.s.queue.close()
  })
  return t
}

describe('download: the pause machine lets claims through, pauses and resumes', function () {
  this.timeout(30_000)
  const t = eachTest()

  it('lets a claim through while the disk is under the pause threshold, recording no pause', async () => {
    const p = t.s.pause()
    expect(await p.gate(new AbortController().signal, worker())).to.equal('claim')
    expect(p.pauses).to.equal(0)
    expect(await t.s.queue.pauses.recent(10)).to.have.length(0)
  })

  it('pauses over the threshold, resumes once transcription frees space, and records the pause with both usages', async () => {
    const file = video(t.s.paths, 'ep001.mp4', 9)
    const p = t.s.pause()
    const said: string[] = []
    const gate = p.gate(new AbortController().signal, worker(said))
    // the worker waits; then space is freed below the resume threshold
    await until(() => p.isPaused)
    rmSync(file)
    expect(await gate).to.equal('claim')
    expect(p.isPaused).to.equal(false)
    expect(p.pauses).to.equal(1)
    expect(said.some((l) => /^paused: /.test(l))).to.equal(true)
    expect(t.s.logged.some((l) => /^downloads paused: /.test(l))).to.equal(true)
    expect(t.s.logged.some((l) => /^downloads resume: /.test(l))).to.equal(true)
    const [row] = await t.s.queue.pauses.recent(10)
    expect(row?.ended_at).to.be.a('string')
    expect(row?.usage_bytes).to.be.at.least(9 * MB)
    expect(row?.resumed_usage_bytes).to.be.below(4 * MB)
  })

  it('lets through only as many downloads as the hard limit holds, and a waiting worker goes on when one ends (gateDone)', async () => {
    await t.s.queue.close()
    // 1 MB expected per download: two fit under 2.5 MB, a third would pass it
    t.s = await setUp({hardLimit: 2.5 * MB, pause: 8 * MB, resume: 4 * MB, minFree: 0})
    const p = t.s.pause()
    const signal = new AbortController().signal
    expect(await p.gate(signal, worker([], 1))).to.equal('claim')
    expect(await p.gate(signal, worker([], 2))).to.equal('claim')
    expect(t.s.monitor.inFlight).to.equal(2)
    const said: string[] = []
    const third = p.gate(signal, worker(said, 3))
    await until(() => p.isPaused)
    expect(said.some((l) => /still to come from 2 running download\(s\).*hard limit/.test(l))).to.equal(true)
    // worker 1's download ends without a file: its reserved share goes and the third may start
    p.gateDone(1)
    expect(await third).to.equal('claim')
    expect(t.s.monitor.inFlight).to.equal(2)
    expect(p.pauses).to.equal(1)
  })

  it('a pause started twice is one pause; ending it twice writes once', async () => {
    const p = t.s.pause()
    await p.start('test', 9 * MB)
    await p.start('test again', 9 * MB)
    await p.end(1 * MB)
    await p.end(2 * MB)
    const rows = await t.s.queue.pauses.recent(10)
    expect(rows).to.have.length(1)
    expect(rows[0]?.resumed_usage_bytes).to.equal(1 * MB)
    expect(p.pauses).to.equal(1)
  })
})

describe('download: the pause machine stops a worker', function () {
  this.timeout(30_000)
  const t = eachTest()

  it('under --no-wait stops at the first pause and says why', async () => {
    video(t.s.paths, 'ep001.mp4', 9)
    const p = t.s.pause({noWait: true})
    expect(await p.gate(new AbortController().signal, worker())).to.equal('stop')
    expect(p.stoppedForDisk).to.match(/pause threshold|used/)
    // the pause stays open until the run ends it
    const [open] = await t.s.queue.pauses.recent(10)
    expect(open?.ended_at).to.equal(null)
    await p.end(t.s.monitor.read().usage)
    const [row] = await t.s.queue.pauses.recent(10)
    expect(row?.ended_at).to.be.a('string')
  })

  it('stops instead of waiting when nothing is downloading and no job is left to claim', async () => {
    video(t.s.paths, 'ep001.mp4', 9)
    const p = t.s.pause({ready: 0})
    expect(await p.gate(new AbortController().signal, worker())).to.equal('stop')
    expect(p.stoppedForDisk).to.equal(undefined)
  })

  it('stops a waiting worker when the run is stopping', async () => {
    video(t.s.paths, 'ep001.mp4', 9)
    const p = t.s.pause()
    const stop = new AbortController()
    const gate = p.gate(stop.signal, worker())
    await until(() => p.isPaused)
    stop.abort()
    expect(await gate).to.equal('stop')
  })
})
