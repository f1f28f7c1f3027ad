import {expect} from 'chai'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {PermanentJobError} from '../../src/errors.js'
import type {Decision} from '../../src/queue/selections.js'
import {STAGES} from '../../src/queue/stages.js'
import {downloadJob} from '../../src/stages/download/job.js'
import {type DownloadDeps, downloadStage} from '../../src/stages/download/stage.js'
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

async function started(h: StageHarness): Promise<DownloadDeps> {
  const options = {dryRun: false, noWait: false, workers: 1}
  const deps = await downloadStage.prepare(h.ctx, options)
  await downloadStage.start!(stageRun(h, options), deps)
  return deps
}

describe('download stage: handleJob in-process', function () {
  this.timeout(60_000)
  let h: StageHarness
  beforeEach(async () => {
    h = await stageHarness({'ani_cli.path': FAKE_ANI_CLI, 'download.min_bytes': 2000})
  })
  afterEach(async () => {
    delete process.env.ANI_CLI_FAKE_DATA
    delete process.env.ANI_CLI_FAKE_STATE
    await h.close()
  })

  it('downloads the episode with ani-cli, checks it with ffprobe and moves it into place', async () => {
    await queued(h, 'ok')
    const deps = await started(h)
    try {
      const job = await claimJob(h, stage)
      const lease = leaseOn(h, stage, [job])
      const outcome = await downloadJob(job, lease, deps)
      const stored = outcome.fields?.video_path as string
      expect(stored).to.match(/^videos\/5114\/episodes\/ep001\.\w+$/)
      expect(existsSync(h.ctx.paths.videoAbsolute(stored))).to.equal(true)
      expect(outcome.fields?.duration_seconds).to.be.greaterThan(0)
      expect(lease.notes.some((n) => /^ani-cli \[.*\] exited 0/.test(n))).to.equal(true)
      // the attempt's folder is gone
      expect(readdirSync(h.ctx.paths.downloadsInProgress)).to.deep.equal([])
      expect(deps.figures.bytesWritten).to.be.greaterThan(2000)
      expect(await finishJob(h, stage, job, outcome)).to.equal(true)
      expect((await h.queue.jobs.getJob(job.id))?.video_path).to.equal(stored)
    } finally {
      await deps.close!()
    }
  })

  it('fails an episode that is not released yet for good, leaving nothing behind', async () => {
    await queued(h, 'notreleased')
    const deps = await started(h)
    try {
      const job = await claimJob(h, stage)
      const err = await downloadJob(job, leaseOn(h, stage, [job]), deps).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(PermanentJobError)
      expect((err as Error).message).to.match(/^ani-cli: /)
      expect(existsSync(path.join(h.ctx.paths.videosRoot, '5114'))).to.equal(false)
      expect(readdirSync(h.ctx.paths.downloadsInProgress)).to.deep.equal([])
    } finally {
      await deps.close!()
    }
  })

  it('retries a file much shorter than MyAnimeList says an episode lasts (truncated)', async () => {
    await queued(h, 'ok', 24)
    const deps = await started(h)
    try {
      const job = await claimJob(h, stage)
      const err = await downloadJob(job, leaseOn(h, stage, [job]), deps).catch((e: unknown) => e)
      expect(err).not.to.be.instanceOf(PermanentJobError)
      expect((err as Error).message).to.match(/MyAnimeList says 24 min per episode: truncated/)
    } finally {
      await deps.close!()
    }
  })

  it('retries an attempt where ani-cli wrote no file (transient), with what ani-cli did in the history', async () => {
    await queued(h, 'nofile')
    const deps = await started(h)
    try {
      const job = await claimJob(h, stage)
      const lease = leaseOn(h, stage, [job])
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
