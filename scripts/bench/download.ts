// npm run bench download: an adversarial run of the disk-aware downloader. The real CLI downloads
// with 10 workers from the fake ani-cli (random sizes and delays, real media files checked by the
// real ffprobe) while a fake transcriber in this process deletes finished videos at rates that
// change every few seconds. Sampled every 10 ms: disk use against the hard limit, and whether the
// transcriber had nothing to do while downloads were paused (pausing then only wastes time).
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {parseSqlTime} from '../../src/queue/clock.js'
import {openQueue, queueLocation} from '../../src/queue/index.js'
import {SINGLE_RESULT_TEXT} from '../../src/stages/select/ani-cli.js'
import {testMedia} from '../../test/fakes/media.js'
import type {BenchResult} from './measure.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')

const SHOWS = Number(process.env.BENCH_SHOWS ?? 20)
const EPISODES = Number(process.env.BENCH_EPISODES ?? 50)
const WORKERS = 10
const MB = 1e6
const HARD = 40 * MB
const PAUSE = 30 * MB
const RESUME = 20 * MB

function bytesUnder(dir: string): number {
  let n = 0
  const walk = (d: string) => {
    let entries
    try {
      entries = readdirSync(d, {withFileTypes: true})
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(d, e.name)
      try {
        if (e.isDirectory()) walk(p)
        else n += statSync(p).size
      } catch {
        // deleted while we looked
      }
    }
  }
  walk(dir)
  return n
}

/** Finished episodes waiting for the transcriber (not partial downloads). */
function finishedVideos(videos: string): string[] {
  const out: string[] = []
  let shows: string[] = []
  try {
    shows = readdirSync(videos).filter((s) => /^\d+$/.test(s))
  } catch {
    return out
  }
  for (const s of shows) {
    const dir = path.join(videos, s, 'episodes')
    try {
      for (const f of readdirSync(dir)) out.push(path.join(dir, f))
    } catch {
      // not yet
    }
  }
  return out
}

export async function benchDownload(): Promise<BenchResult[]> {
  const media = testMedia()
  const work = mkdtempSync(path.join(tmpdir(), 'animezipf-bench-dl-'))
  const data = path.join(work, 'data')
  const storage = path.join(work, 'storage')
  mkdirSync(data, {recursive: true})
  // the queue lives apart from root_dir: its WAL would otherwise be part of the disk use measured
  const dbFile = path.join(work, 'queue.db')
  const queue = await openQueue({location: queueLocation(`sqlite:${dbFile}`, dbFile)})
  const searches: Record<string, unknown> = {}
  for (let s = 1; s <= SHOWS; s++) {
    const title = `Bench Show ${s}`
    const animeId = await queue.anime.upsert({mal_id: 50_000 + s, title, episodes_total: EPISODES})
    await queue.jobs.enqueue(
      Array.from({length: EPISODES}, (_, i) => ({animeId, malId: 50_000 + s, animeTitle: title, episode: i + 1})),
      3,
    )
    await queue.selections.record({
      mal_id: 50_000 + s,
      anime_title: title,
      search_query: title,
      selected_index: 1,
      selected_title: SINGLE_RESULT_TEXT,
      confidence: 'high',
      reason: 'bench',
      mal_episodes: EPISODES,
      selected_episodes: EPISODES,
      episode_match: 'exact',
      method: 'rule',
      model: null,
      api_calls: 0,
      cost_usd: 0,
    })
    searches[title] = [{title, episodes: EPISODES}]
  }
  await queue.close()
  const dataFile = path.join(work, 'fake.json')
  const random = {kind: 'ok', random: {pad: [0.5 * MB, 3 * MB], ms: [100, 1200]}}
  writeFileSync(dataFile, JSON.stringify({searches, downloads: Object.fromEntries(Object.keys(searches).map((t) => [t, random])), media: media.episode}))

  const videos = path.join(storage, 'videos')
  const total = SHOWS * EPISODES
  let overruns = 0
  let peak = 0
  let samples = 0
  let idleSamples = 0
  const idle: [number, number][] = []
  let idleSince: number | undefined
  let _transcribed = 0
  let busy = 0
  const t0 = Date.now()
  const sampler = setInterval(() => {
    const used = bytesUnder(data) + bytesUnder(videos)
    samples++
    peak = Math.max(peak, used)
    if (used > HARD) overruns++
    const isIdle = busy === 0 && finishedVideos(videos).length === 0
    if (isIdle) idleSamples++
    if (isIdle && idleSince === undefined) idleSince = Date.now()
    if (!isIdle && idleSince !== undefined) {
      idle.push([idleSince, Date.now()])
      idleSince = undefined
    }
  }, 10)
  // two transcriber workers; each episode takes 20-400 ms, the range shifting every 3 s
  let stop = false
  const transcriber = async (w: number) => {
    while (!stop) {
      const phase = Math.floor((Date.now() - t0) / 3000) % 3
      const [lo, hi] = phase === 0 ? [20, 80] : phase === 1 ? [100, 250] : [200, 400]
      const file = finishedVideos(videos).sort()[w]
      if (!file) {
        await new Promise((r) => setTimeout(r, 20))
        continue
      }
      busy++
      await new Promise((r) => setTimeout(r, lo + Math.random() * (hi - lo)))
      rmSync(file, {force: true})
      _transcribed++
      busy--
    }
  }
  const transcribers = [transcriber(0), transcriber(1)]

  const env = {
    ...process.env,
    NO_COLOR: '1',
    PATH: `${path.join(root, 'test', 'fakes', 'bin')}${path.delimiter}${process.env.PATH}`,
    FAKE_ANI_CLI_DATA: dataFile,
    ANIMEZIPF_QUEUE_URL: `sqlite:${dbFile}`,
    ANIMEZIPF_DATA_STORAGE_DIR: storage,
    ANIMEZIPF_DOWNLOAD_MIN_BYTES: '2000',
    ANIMEZIPF_DOWNLOAD_TYPICAL_EPISODE_MB: '3',
    ANIMEZIPF_DISK_MANAGEMENT_HARD_LIMIT_GB: String(HARD / 1e9),
    ANIMEZIPF_DISK_MANAGEMENT_PAUSE_THRESHOLD_GB: String(PAUSE / 1e9),
    ANIMEZIPF_DISK_MANAGEMENT_RESUME_THRESHOLD_GB: String(RESUME / 1e9),
    ANIMEZIPF_DISK_MANAGEMENT_MIN_FREE_GB: '0',
    ANIMEZIPF_DISK_MANAGEMENT_CACHE_DURATION_SECONDS: '1',
    ANIMEZIPF_DISK_MANAGEMENT_CHECK_INTERVAL_SECONDS: '1',
  }
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'run.js'), 'download', '--data-dir', data, '--workers', String(WORKERS)], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d) => (err = (err + String(d)).slice(-4000)))
    child.on('exit', (c) => {
      if (c !== 0) console.error(err)
      resolve(c ?? -1)
    })
  })
  const elapsed = (Date.now() - t0) / 1000
  if (idleSince !== undefined) idle.push([idleSince, Date.now()])
  stop = true
  await Promise.all(transcribers)
  clearInterval(sampler)

  const q = await openQueue({location: queueLocation(`sqlite:${dbFile}`, dbFile), readonly: true})
  const pauses = await q.pauses.recent(100_000)
  const done = (await q.stats.jobsPerStage()).downloaded ?? 0
  await q.close()
  let pausedMs = 0
  let pausedIdleMs = 0
  for (const p of pauses) {
    const a = parseSqlTime(p.started_at)
    const b = p.ended_at ? parseSqlTime(p.ended_at) : Date.now()
    pausedMs += b - a
    for (const [x, y] of idle) pausedIdleMs += Math.max(0, Math.min(b, y) - Math.max(a, x))
  }
  if (existsSync(work)) rmSync(work, {recursive: true, force: true})
  return [
    {name: `episodes downloaded of ${total} (exit code ${code})`, value: done, unit: 'episodes'},
    {name: `run time with ${WORKERS} workers`, value: elapsed, unit: 's'},
    {name: 'download throughput', value: done / elapsed, unit: 'episodes/s'},
    {name: `hard-limit overruns (samples over ${HARD / MB} MB, of ${samples}; goal 0)`, value: overruns, unit: 'samples'},
    {name: 'peak disk use / hard limit', value: peak / HARD, unit: 'ratio'},
    {name: `pauses (${(pausedMs / 1000).toFixed(1)} s in all)`, value: pauses.length, unit: 'pauses'},
    {name: 'paused while the transcriber was idle / run time (goal < 5%)', value: (100 * pausedIdleMs) / 1000 / elapsed, unit: '%'},
    {name: 'transcriber idle / run time', value: (100 * idleSamples) / Math.max(1, samples), unit: '%'},
  ]
}
