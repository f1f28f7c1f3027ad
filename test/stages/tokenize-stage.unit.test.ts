import {expect} from 'chai'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {PermanentJobError} from '../../src/errors.js'
import {STAGES} from '../../src/queue/stages.js'
import {tokenizeJob, tokenizeStage} from '../../src/stages/tokenize/stage.js'
import {type StageHarness, claimJob, finishJob, leaseOn, stageHarness} from '../fixtures/stage-harness.js'

const stage = STAGES.tokenize

/** One anime with one transcribed episode whose transcript holds these lines. */
async function transcribed(h: StageHarness, lines: string[]): Promise<void> {
  const animeId = await h.queue.anime.upsert({mal_id: 4242, title: 'Test Show', episodes_total: 1})
  const file = h.ctx.paths.transcriptJson(4242, 1, false)
  mkdirSync(path.dirname(file), {recursive: true})
  const segments = lines.map((text, id) => ({id, start: id * 2, end: id * 2 + 1.5, text, confidence: null}))
  writeFileSync(file, JSON.stringify({anime_id: 4242, episode: 1, duration_seconds: 60, language: 'ja', model: 'subtitles', segments, transcribed_at: 'now'}))
  await h.queue.jobs.enqueue(
    [{animeId, malId: 4242, animeTitle: 'Test Show', episode: 1, stage: 'transcribed', fields: {transcript_path: h.ctx.paths.relative(file)}}],
    3,
  )
}

describe('tokenize stage: handleJob in-process', function () {
  this.timeout(60_000)
  let h: StageHarness
  beforeEach(async () => {
    h = await stageHarness({'output.compress': false})
  })
  afterEach(async () => {
    await h.close()
  })

  it('tokenizes one claimed job into its tokens file and frequency CSV, and the queue keeps its fields', async () => {
    await transcribed(h, ['猫が好きです。', '（笑い）猫も犬も好き'])
    const deps = await tokenizeStage.prepare(h.ctx, {dryRun: false, force: false, workers: 1})
    try {
      await deps.prepareWorker!(1)
      const job = await claimJob(h, stage)
      const outcome = await tokenizeJob(job, leaseOn(h, stage, [job]), deps)
      expect(outcome.fields?.token_count).to.be.greaterThan(5)
      expect(outcome.message).to.match(/tokens, \d+ words, \d+ distinct/)
      const csv = readFileSync(h.ctx.paths.freqCsv(4242, 1), 'utf8')
      expect(csv).to.include('猫')
      // the sound note in brackets was cleaned away before tokenizing
      expect(csv).not.to.include('笑い')
      expect(existsSync(h.ctx.paths.tokensFile(4242, 1, false))).to.equal(true)
      expect(await finishJob(h, stage, job, outcome)).to.equal(true)
      const row = await h.queue.jobs.getJob(job.id)
      expect(row?.stage).to.equal('tokenized')
      expect(row?.token_count).to.equal(outcome.fields?.token_count)
      expect(deps.figures.tokens).to.equal(outcome.fields?.token_count)
    } finally {
      await deps.close!()
    }
  })

  it('fails a job whose transcript is missing for good (a PermanentJobError), writing nothing', async () => {
    await transcribed(h, ['猫'])
    const job = await claimJob(h, stage)
    const deps = await tokenizeStage.prepare(h.ctx, {dryRun: false, force: false, workers: 1})
    try {
      const err = await tokenizeJob({...job, transcript_path: 'transcripts/4242/ep099.json'}, leaseOn(h, stage, [job]), deps).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(PermanentJobError)
      expect((err as Error).message).to.match(/transcript file missing/)
      expect(existsSync(h.ctx.paths.freqCsv(4242, 1))).to.equal(false)
    } finally {
      await deps.close!()
    }
  })

  it('describes a job for --dry-run with the CSV it would write', async () => {
    await transcribed(h, ['猫'])
    const job = await claimJob(h, stage)
    const deps = await tokenizeStage.prepare(h.ctx, {dryRun: true, force: false, workers: 1})
    expect(tokenizeStage.describe(job, deps)).to.match(/^tokenize transcripts\/4242\/ep001\.json -> .*ep001_freq\.csv$/)
    await deps.close!()
  })
})
