import {expect} from 'chai'
import {copyFileSync, existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {PermanentJobError} from '../../src/errors.js'
import type {Transcript} from '../../src/formats/transcript.js'
import {STAGES} from '../../src/queue/stages.js'
import {transcribeJob} from '../../src/stages/transcribe/job.js'
import {transcribeStage} from '../../src/stages/transcribe/stage.js'
import {readTextFile} from '../../src/util/gzip-file.js'
import {testMedia} from '../fakes/media.js'
import {ROOT} from '../helpers.js'
import {type StageHarness, claimJob, finishJob, leaseOn, stageHarness, stageRun} from '../fixtures/stage-harness.js'

const stage = STAGES.transcribe
const FAKE_WHISPER = path.join(ROOT, 'test', 'fakes', 'bin', 'whisper-fake')
// whisper gets only the environment a tool may have, and this process's environment is fixed at
// its start: a launcher names the stand-in's scenario file for it
const LAUNCHER_DIR = path.join(tmpdir(), `animezipf-whisper-${process.pid}`)
const SCENARIOS = path.join(LAUNCHER_DIR, 'whisper.json')
const LAUNCHER = path.join(LAUNCHER_DIR, 'whisper')
mkdirSync(LAUNCHER_DIR, {recursive: true})
writeFileSync(LAUNCHER, `#!/bin/sh\nFAKE_WHISPER_DATA='${SCENARIOS}' exec '${FAKE_WHISPER}' "$@"\n`, {mode: 0o755})

/** The stage prepared and started as the runner would (its scratch folder made). */
async function prepared(h: StageHarness, keepMedia = false) {
  const options = {dryRun: false, keepMedia, threads: 1, workers: 1}
  const deps = await transcribeStage.prepare(h.ctx, options)
  await transcribeStage.start!(stageRun(h, options), deps)
  return deps
}

/** One downloaded episode with the 3-second test video, and the stand-in whisper hearing `scenario`. */
async function downloaded(h: StageHarness, scenario: string): Promise<void> {
  const models = path.join(h.dir, 'models')
  mkdirSync(models, {recursive: true})
  // a file that starts like a ggml model: enough for the stand-in
  writeFileSync(path.join(models, 'ggml-base.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(1000)]))
  const stored = 'videos/777/episodes/ep001.mp4'
  mkdirSync(path.dirname(path.join(h.dir, stored)), {recursive: true})
  copyFileSync(testMedia().episode, path.join(h.dir, stored))
  writeFileSync(SCENARIOS, JSON.stringify({scenarios: {}, default: scenario}))
  const animeId = await h.queue.anime.upsert({mal_id: 777, title: 'Test Show'})
  await h.queue.jobs.enqueue(
    [{animeId, malId: 777, animeTitle: 'Test Show', episode: 1, stage: 'downloaded', fields: {video_path: stored, video_host: h.ctx.host}}],
    2,
  )
}

describe('transcribe stage: handleJob in-process', function () {
  this.timeout(60_000)
  let h: StageHarness
  beforeEach(async () => {
    h = await stageHarness({'transcribe.whisper_bin': LAUNCHER, 'transcribe.model': 'base', 'output.compress': false})
  })
  afterEach(async () => {
    await h.close()
  })

  it('extracts the audio, runs whisper, writes the transcript, records the timing and deletes the media', async () => {
    await downloaded(h, 'normal')
    const deps = await prepared(h)
    const job = await claimJob(h, stage)
    const lease = leaseOn(h, stage, [job])
    const outcome = await transcribeJob(job, lease, deps)
    const file = h.ctx.paths.transcriptJson(777, 1, false)
    const t = JSON.parse(readTextFile(file)) as Transcript
    expect(t.model).to.equal('whisper-base')
    expect(t.segments.length).to.be.greaterThan(0)
    expect(outcome.fields?.transcript_path).to.equal(h.ctx.paths.relative(file))
    expect(outcome.fields?.video_deleted).to.equal(1)
    expect(existsSync(path.join(h.dir, 'videos/777/episodes/ep001.mp4'))).to.equal(false)
    expect(existsSync(h.ctx.paths.audioFile(777, 1))).to.equal(false)
    expect(lease.notes.some((n) => /exited 0/.test(n))).to.equal(true)
    expect(await h.queue.transcriptions.hasJob(job.id)).to.equal(true)
    expect(deps.figures.audioSeconds).to.be.greaterThan(2)
    expect(await finishJob(h, stage, job, outcome)).to.equal(true)
    expect((await h.queue.jobs.getJob(job.id))?.stage).to.equal('transcribed')
  })

  it('fails an episode where whisper heard nothing for good, keeping the video', async () => {
    await downloaded(h, 'empty')
    const deps = await prepared(h)
    const job = await claimJob(h, stage)
    const err = await transcribeJob(job, leaseOn(h, stage, [job]), deps).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(PermanentJobError)
    expect((err as Error).message).to.match(/heard no speech/)
    expect(existsSync(path.join(h.dir, 'videos/777/episodes/ep001.mp4'))).to.equal(true)
    expect(existsSync(h.ctx.paths.transcriptJson(777, 1, false))).to.equal(false)
  })

  it('keeps the complete transcript an interrupted attempt left, without running whisper again', async () => {
    await downloaded(h, 'normal')
    const deps = await prepared(h, true)
    const job = await claimJob(h, stage)
    await transcribeJob(job, leaseOn(h, stage, [job]), deps)
    const before = readTextFile(h.ctx.paths.transcriptJson(777, 1, false))
    // whisper would now fail: the second attempt must not need it
    writeFileSync(SCENARIOS, JSON.stringify({scenarios: {}, default: 'fail'}))
    const lease = leaseOn(h, stage, [job])
    const outcome = await transcribeJob(job, lease, deps)
    expect(lease.notes[0]).to.match(/interrupted attempt is complete/)
    expect(readTextFile(h.ctx.paths.transcriptJson(777, 1, false))).to.equal(before)
    expect(outcome.fields?.video_deleted).to.equal(0)
  })
})
