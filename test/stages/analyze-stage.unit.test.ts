import {expect} from 'chai'
import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {SAMPLES_DIR} from '../../src/demo/run.js'
import type {JobRow} from '../../src/queue/rows.js'
import {STAGES} from '../../src/queue/stages.js'
import {emptySummary} from '../../src/runner/pool.js'
import {runStage} from '../../src/runner/stage.js'
import {animeUnits} from '../../src/runner/units.js'
import {type AnalyzeOptions, type AnimeOutcome, analyzeAnimeJob, analyzeStage} from '../../src/stages/analyze/stage.js'
import {importSubtitles} from '../../src/stages/import/run.js'
import {tokenizeStage} from '../../src/stages/tokenize/stage.js'
import {type StageHarness, finishJob, leaseOn, stageHarness, stageRun} from '../fixtures/stage-harness.js'

const stage = STAGES.analyze
const OPTIONS: AnalyzeOptions = {partial: false, bootstrap: 0, seed: 1, minCount: 1, force: false, dryRun: false}

/** One sample anime imported and tokenized through the real services; its MyAnimeList id. */
async function tokenizedSample(h: StageHarness): Promise<number> {
  const imported = await importSubtitles(h.ctx, {
    paths: [path.join(SAMPLES_DIR, 'hagane-no-hane')],
    title: 'Hagane no Hane',
    genres: ['Drama'],
    studios: ['Studio Q'],
    dryRun: false,
  })
  expect(imported.code, imported.text.join('\n')).to.equal(0)
  expect(imported.result.imported).to.equal(4)
  const tokenized = await runStage(h.ctx, tokenizeStage, {dryRun: false, force: false, workers: 1})
  expect(tokenized.code, tokenized.text.join('\n')).to.equal(0)
  return imported.result.anime.mal_id
}

/** The id of the anime's latest analysis row. */
async function latestAnalysis(h: StageHarness, animeId: number): Promise<number | undefined> {
  return (await h.queue.analysis.analyzedAnime()).find((a) => a.anime_id === animeId)?.analysis_id
}

/** Claim the anime as the pool would: every tokenized episode under one lease. */
async function claimAnime(h: StageHarness): Promise<JobRow[]> {
  const unit = await animeUnits(h.queue, stage, {whole: true}).claim('test:w1', 60_000)
  if (!unit) throw new Error('no anime to claim')
  return unit.jobs
}

/** A fresh data folder and queue for each test of the suite. */
function freshHarness(): {h: StageHarness} {
  const state = {} as {h: StageHarness}
  beforeEach(async () => {
    state.h = await stageHarness({'output.compress': false})
  })
  afterEach(async () => {
    await state.h.close()
  })
  return state
}

describe('analyze stage: handleJob in-process', function () {
  this.timeout(120_000)
  const state = freshHarness()

  it('fits one claimed anime into its four files and an analysis row, and the queue keeps its fields', async () => {
    const h = state.h
    const malId = await tokenizedSample(h)
    const deps = await analyzeStage.prepare(h.ctx, OPTIONS)
    try {
      const jobs = await claimAnime(h)
      expect(jobs.map((j) => j.episode)).to.deep.equal([1, 2, 3, 4])
      const outcome = await analyzeAnimeJob(jobs[0]!, leaseOn(h, stage, jobs), deps)
      const record = outcome.record!
      expect(record).to.include({mal_id: malId, title: 'Hagane no Hane', status: 'analyzed', episodes: 4, partial: false})
      expect(outcome.message).to.equal(`analyzed, s = ${record.s!.toFixed(3)}`)
      expect(outcome.fields).to.deep.equal({analysis_path: h.ctx.paths.relative(h.ctx.paths.zipfParams(malId))})
      // the words counted are the episodes' words as tokenize counted them
      const words = jobs.reduce((n, j) => n + (j.word_count ?? 0), 0)
      expect(record.total_words).to.equal(words)
      expect(Object.keys(record.files!).sort()).to.deep.equal(['params', 'plot', 'statistics', 'word_freq'])
      for (const file of Object.values(record.files!)) expect(existsSync(file), file).to.equal(true)
      const params = JSON.parse(readFileSync(h.ctx.paths.zipfParams(malId), 'utf8')) as Record<string, unknown>
      expect(params).to.include({anime_id: malId, episodes_analyzed: 4, partial: false})
      const row = await h.queue.analysis.latest(jobs[0]!.anime_id)
      expect(row?.total_words).to.equal(words)
      for (const j of jobs) expect(await finishJob(h, stage, j, outcome)).to.equal(true)
      const done = await h.queue.jobs.getJob(jobs[0]!.id)
      expect(done?.stage).to.equal('complete')
      expect(done?.analysis_path).to.equal(outcome.fields?.analysis_path)
    } finally {
      await deps.close!()
    }
  })

  it('reports an anime whose inputs did not change as unchanged on a second call, writing nothing; --force fits it again', async () => {
    const h = state.h
    const malId = await tokenizedSample(h)
    const deps = await analyzeStage.prepare(h.ctx, OPTIONS)
    try {
      const jobs = await claimAnime(h)
      const lease = leaseOn(h, stage, jobs)
      expect((await analyzeAnimeJob(jobs[0]!, lease, deps)).record?.status).to.equal('analyzed')
      const analysisId = await latestAnalysis(h, jobs[0]!.anime_id)
      expect(analysisId).to.be.a('number')
      const written = statSync(h.ctx.paths.zipfParams(malId)).mtimeMs

      const second = await analyzeAnimeJob(jobs[0]!, lease, deps)
      expect(second.message).to.equal('unchanged')
      expect(second.record).to.deep.equal({mal_id: malId, title: 'Hagane no Hane', status: 'unchanged', episodes: 4})
      expect(second.fields).to.deep.equal({analysis_path: h.ctx.paths.relative(h.ctx.paths.zipfParams(malId))})
      expect(statSync(h.ctx.paths.zipfParams(malId)).mtimeMs).to.equal(written)
      expect(await latestAnalysis(h, jobs[0]!.anime_id)).to.equal(analysisId)

      // --force fits it again whatever its inputs
      const forced = await analyzeAnimeJob(jobs[0]!, lease, {...deps, force: true})
      expect(forced.record?.status).to.equal('analyzed')
      expect(await latestAnalysis(h, jobs[0]!.anime_id)).to.not.equal(analysisId)
    } finally {
      await deps.close!()
    }
  })
})

describe('analyze stage: summarize, and the runner with nothing ready or --dry-run', function () {
  this.timeout(120_000)
  const state = freshHarness()

  it('summarizes the records and rebuilds the corpus-wide outputs; the same inputs leave them as they are', async () => {
    const h = state.h
    await tokenizedSample(h)
    const deps = await analyzeStage.prepare(h.ctx, OPTIONS)
    try {
      const jobs = await claimAnime(h)
      const outcome = await analyzeAnimeJob(jobs[0]!, leaseOn(h, stage, jobs), deps)
      for (const j of jobs) await finishJob(h, stage, j, outcome)
      const summary = {...emptySummary<AnimeOutcome>(stage, 2), claimed: 1, done: 1, records: [outcome.record!]}
      const r = await analyzeStage.summarize(summary, stageRun(h, OPTIONS), deps)
      expect(r.code).to.equal(0)
      if (!('anime' in r.result)) throw new Error('expected the analyze result')
      expect(r.result).to.include({analyzed: 1, unchanged: 0, failed: 0, lost: 0, interrupted: false})
      expect(r.result.global?.corpus).to.deep.equal({
        anime: 1,
        episodes: 4,
        total_words: outcome.record!.total_words,
        unique_words: outcome.record!.unique_words,
      })
      expect(existsSync(h.ctx.paths.finalReport)).to.equal(true)
      expect(r.text[0]).to.equal('analyze: 1 analyzed, 0 unchanged, 0 failed')
      expect(r.text[1]).to.include(`Hagane no Hane: s = ${outcome.record!.s!.toFixed(3)}`)
      const again = await analyzeStage.summarize(emptySummary<AnimeOutcome>(stage), stageRun(h, OPTIONS), deps)
      expect(again.result).to.include({analyzed: 0, global: null, files: null})
      expect(again.text).to.deep.equal(['analyze: nothing new to analyze'])
    } finally {
      await deps.close!()
    }
  })

  it('with nothing ready, a run still rebuilds corpus-wide outputs that are out of date (exit 0)', async () => {
    const h = state.h
    await tokenizedSample(h)
    const deps = await analyzeStage.prepare(h.ctx, OPTIONS)
    try {
      const jobs = await claimAnime(h)
      const outcome = await analyzeAnimeJob(jobs[0]!, leaseOn(h, stage, jobs), deps)
      for (const j of jobs) await finishJob(h, stage, j, outcome)
    } finally {
      await deps.close!()
    }
    expect(existsSync(h.ctx.paths.finalReport)).to.equal(false)
    const r = await runStage(h.ctx, analyzeStage, OPTIONS)
    expect(r.code).to.equal(0)
    expect(r.result).to.include({analyzed: 0, failed: 0})
    expect(r.text[0]).to.equal('analyze: nothing new to analyze; the corpus-wide outputs were out of date and are rebuilt')
    expect(existsSync(h.ctx.paths.finalReport)).to.equal(true)
  })

  it('--dry-run lists the anime it would analyze and changes nothing', async () => {
    const h = state.h
    const malId = await tokenizedSample(h)
    const r = await runStage(h.ctx, analyzeStage, {...OPTIONS, dryRun: true})
    expect(r.result).to.deep.equal({dry_run: true, would_analyze: [{mal_id: malId, title: 'Hagane no Hane', episodes: 4, pending: 0}], aggregates: true})
    expect(r.text).to.deep.equal(['dry run: would analyze 1 anime; nothing was changed', `  ${malId} Hagane no Hane: 4 episode(s)`])
    expect(await h.queue.analysis.candidates(false)).to.have.length(1)
  })
})
