import {expect} from 'chai'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {EXIT, PermanentJobError} from '../../src/errors.js'
import type {Decision} from '../../src/queue/selections.js'
import {STAGES} from '../../src/queue/stages.js'
import {downloadJob} from '../../src/stages/download/job.js'
import {emptySummary} from '../../src/runner/pool.js'
import {type DownloadDeps, type DownloadResult, downloadStage} from '../../src/stages/download/stage.js'
import {testMedia} from '../fakes/media.js'
import {ROOT} from '../helpers.js'
import {type StageHarness, claimJob, finishJob, leaseOn, stageHarness, stageRun} from '../fixtures/stage-harness.js'

const stage = STAGES.download
const FAKE_ANI_CLI = path.join(ROOT, 'test', 'fakes', 'bin', 'ani-cli')
const TITLE = 'Fullmetal Alchemist: Brotherhood'

/** One selected anime with one queued episode; the stand-in ani-cli lists it and downloads as `scenario` says. */
async function queued(h: StageHarness, scenario: unknown, durationMinutes: number | null = null): Promise<void> {
  const media = testMedia()
  const data = path.join(h.dir, 'ani-cli.json')
  const searches = {
    [TITLE]: [
      {title: TITLE, episodes: 64},
      {title: `${TITLE} Specials`, episodes: 4},
    ],
  }
  writeFileSync(data, JSON.stringify({searches, downloads: {[TITLE]: scenario}, media: media.episode, videoOnly: media.videoOnly}))
  // the stand-in reads its script through ani-cli's own environment (ANI_CLI_* pass to it)
  process.env.ANI_CLI_FAKE_DATA = data
  process.env.ANI_CLI_FAKE_STATE = h.dir
  const animeId = await h.queue.anime.upsert({mal_id: 5114, title: TITLE, episodes_total: 64, duration_minutes: durationMinutes})
  await h.queue.jobs.enqueue([{animeId, malId: 5114, animeTitle: TITLE, episode: 1}], 2)
  const d: Decision = {
    mal_id: 5114,
    anime_title: TITLE,
    search_query: TITLE,
    selected_index: 1,
    selected_title: TITLE,
    confidence: 'high',
    reason: 'test',
    mal_episodes: 64,
    selected_episodes: 64,
    episode_match: 'exact',
    method: 'rule',
    model: null,
    api_calls: 0,
    cost_usd: 0,
  }
  await h.queue.selections.record(d)
}

async function started(h: StageHarness, run = stageRun(h, {dryRun: false, noWait: false, workers: 1})): Promise<DownloadDeps> {
  const deps = await downloadStage.prepare(h.ctx, run.options)
  await downloadStage.start!(run, deps)
  return deps
}

/** A data folder with the stand-in ani-cli for each test of the enclosing describe, closed after it. */
function eachTest(): {h: StageHarness} {
  const t = {} as {h: StageHarness}
  beforeEach(async () => {
    t.h = await stageHarness({'ani_cli.path': FAKE_ANI_CLI, 'download.min_bytes': 2000})
  })
  afterEach(async () => {
    delete process.env.ANI_CLI_FAKE_DATA
    delete process.env.ANI_CLI_FAKE_STATE
    await t.h.close()
  })
  return t
}

describe('download stage: handleJob in-process, an episode downloaded', function () {
  this.timeout(60_000)
  const t = eachTest()

  it('downloads the episode with ani-cli, checks it with ffprobe and moves it into place', async () => {
    await queued(t.h, 'ok')
    const deps = await started(t.h)
    try {
      const job = await claimJob(t.h, stage)
      const lease = leaseOn(t.h, stage, [job])
      const outcome = await downloadJob(job, lease, deps)
      const stored = outcome.fields?.video_path as string
      expect(stored).to.match(/^videos\/5114\/episodes\/ep001\.\w+$/)
      expect(existsSync(t.h.ctx.paths.videoAbsolute(stored))).to.equal(true)
      expect(outcome.fields?.duration_seconds).to.be.greaterThan(0)
      expect(lease.notes.some((n) => /^ani-cli \[.*\] exited 0/.test(n))).to.equal(true)
      // the attempt's folder is gone
      expect(readdirSync(t.h.ctx.paths.downloadsInProgress)).to.deep.equal([])
      expect(deps.figures.bytesWritten).to.be.greaterThan(2000)
      expect(await finishJob(t.h, stage, job, outcome)).to.equal(true)
      const row = await t.h.queue.jobs.getJob(job.id)
      expect(row?.stage).to.equal('downloaded')
      expect(row?.video_path).to.equal(stored)
      expect(row?.video_size_bytes).to.equal(deps.figures.bytesWritten)
      expect(row?.video_host).to.equal(t.h.ctx.host)
    } finally {
      await deps.close!()
    }
  })

  it('summarizes the run as a DownloadResult: the bytes written, the disk, and the anime still waiting for select', async () => {
    await queued(t.h, 'ok')
    // a second anime, never selected: its two episodes wait for select
    const other = await t.h.queue.anime.upsert({mal_id: 777, title: 'Unselected Show', episodes_total: 2})
    await t.h.queue.jobs.enqueue(
      [1, 2].map((episode) => ({animeId: other, malId: 777, animeTitle: 'Unselected Show', episode})),
      2,
    )
    const run = stageRun(t.h, {dryRun: false, noWait: false, workers: 1})
    const deps = await started(t.h, run)
    try {
      const job = await claimJob(t.h, stage)
      const outcome = await downloadJob(job, leaseOn(t.h, stage, [job]), deps)
      await finishJob(t.h, stage, job, outcome)
      const r = await downloadStage.summarize({...emptySummary(stage, 1), claimed: 1, done: 1}, run, deps)
      const result = r.result as DownloadResult
      expect(r.code).to.equal(EXIT.OK)
      expect(result.done).to.equal(1)
      expect(result.bytes_written).to.equal(outcome.fields?.video_size_bytes)
      expect(result.disk).to.include({pauses: 0, stopped_for_disk: null})
      expect(result.waiting_for_select).to.deep.equal({anime: 1, jobs: 2, unselected: 1, low_confidence: 0, no_candidates: 0})
      expect(r.text).to.include('1 anime (2 episode(s)) wait for `animezipf select`: 1 not selected yet')
      expect(r.text.some((l) => / written under /.test(l))).to.equal(true)
    } finally {
      await deps.close!()
    }
  })
})

describe('download stage: handleJob in-process, attempts that fail', function () {
  this.timeout(60_000)
  const t = eachTest()

  it('fails an episode that is not released yet for good, leaving nothing behind', async () => {
    await queued(t.h, 'notreleased')
    const deps = await started(t.h)
    try {
      const job = await claimJob(t.h, stage)
      const err = await downloadJob(job, leaseOn(t.h, stage, [job]), deps).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(PermanentJobError)
      expect((err as Error).message).to.match(/^ani-cli: /)
      expect(existsSync(path.join(t.h.ctx.paths.videosRoot, '5114'))).to.equal(false)
      expect(readdirSync(t.h.ctx.paths.downloadsInProgress)).to.deep.equal([])
    } finally {
      await deps.close!()
    }
  })

  it('retries a file much shorter than MyAnimeList says an episode lasts (truncated)', async () => {
    await queued(t.h, 'ok', 24)
    const deps = await started(t.h)
    try {
      const job = await claimJob(t.h, stage)
      const err = await downloadJob(job, leaseOn(t.h, stage, [job]), deps).catch((e: unknown) => e)
      expect(err).not.to.be.instanceOf(PermanentJobError)
      expect((err as Error).message).to.match(/MyAnimeList says 24 min per episode: truncated/)
    } finally {
      await deps.close!()
    }
  })

  it('retries an attempt where ani-cli wrote no file (transient), with what ani-cli did in the history', async () => {
    await queued(t.h, 'nofile')
    const deps = await started(t.h)
    try {
      const job = await claimJob(t.h, stage)
      const lease = leaseOn(t.h, stage, [job])
      const err = await downloadJob(job, lease, deps).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(Error)
      expect(err).not.to.be.instanceOf(PermanentJobError)
      expect((err as Error).message).to.match(/wrote no file/)
      expect(lease.notes.some((n) => /^ani-cli /.test(n))).to.equal(true)
    } finally {
      await deps.close!()
    }
  })
})
