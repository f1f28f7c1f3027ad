// select's handler in-process: the real SQLite queue, the stand-in ani-cli (scripted through
// ANI_CLI_FAKE_DATA, which passes to it as one of ani-cli's own settings) and the real Anthropic SDK
// against the local stand-in of the Messages API, built from ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL
// as the command builds it (both set only inside these tests).
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import type {AnimeRecord, AnimeRow} from '../../src/queue/rows.js'
import type {Candidate} from '../../src/queue/selections.js'
import {SELECT_STAGE} from '../../src/queue/stages.js'
import {type Lease, emptySummary} from '../../src/runner/pool.js'
import {selectionPrompt} from '../../src/stages/select/claude.js'
import {selectAnime} from '../../src/stages/select/select-anime.js'
import {type SelectDeps, type SelectOptions, type SelectResult, selectStage} from '../../src/stages/select/stage.js'
import {selectUnits} from '../../src/stages/select/units.js'
import {AnthropicStandIn} from '../fakes/anthropic-server.js'
import {type StageHarness, leaseOn, stageHarness, stageRun} from '../fixtures/stage-harness.js'
import {ROOT} from '../helpers.js'

const FAKE_ANI_CLI = path.join(ROOT, 'test', 'fakes', 'bin', 'ani-cli')
const KEY = 'sk-ant-test-stage-0123456789-SECRET'

const FMA: AnimeRecord = {mal_id: 5114, title: 'Fullmetal Alchemist: Brotherhood', episodes_total: 64, type: 'TV'}
const STEINS: AnimeRecord = {mal_id: 9253, title: 'Steins;Gate', episodes_total: 24, type: 'TV'}
const BROKEN: AnimeRecord = {mal_id: 31, title: 'Broken Answers', episodes_total: 12}

const SEARCHES = {
  'Fullmetal Alchemist: Brotherhood': [
    {title: 'Fullmetal Alchemist: Brotherhood', episodes: 64},
    {title: 'Fullmetal Alchemist: Brotherhood Specials', episodes: 4},
  ],
  'Steins;Gate': [
    {title: 'Steins;Gate', episodes: 24},
    {title: 'Steins;Gate', episodes: 1},
  ],
  'Broken Answers': [
    {title: 'Broken Answers OVA', episodes: 2},
    {title: 'Broken Answers TV', episodes: 12},
  ],
}
/** Broken Answers as ani-cli lists it, its episode counts probed. */
const BROKEN_CANDIDATES: Candidate[] = SEARCHES['Broken Answers'].map((s, i) => ({idx: i + 1, text: s.title, episodes: s.episodes, single: false}))

const ENV = ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'ANI_CLI_FAKE_DATA'] as const

const options = (extra: Partial<SelectOptions> = {}): SelectOptions => ({dryRun: false, force: false, workers: 1, ...extra})

/** The harness, the stand-in API and the environment the test changed, for one test. */
interface World {
  h: StageHarness
  api: AnthropicStandIn
  saved: Partial<Record<(typeof ENV)[number], string>>
}

async function setUp(): Promise<World> {
  const saved: World['saved'] = {}
  for (const name of ENV) saved[name] = process.env[name]
  const api = new AnthropicStandIn(KEY)
  await api.start()
  const h = await stageHarness({'ani_cli.path': FAKE_ANI_CLI})
  const searches = path.join(h.dir, 'searches.json')
  writeFileSync(searches, JSON.stringify({searches: SEARCHES}))
  process.env.ANI_CLI_FAKE_DATA = searches
  process.env.ANTHROPIC_API_KEY = KEY
  process.env.ANTHROPIC_BASE_URL = api.url
  return {h, api, saved}
}

async function tearDown(w: World): Promise<void> {
  for (const name of ENV) {
    if (w.saved[name] === undefined) delete process.env[name]
    else process.env[name] = w.saved[name]
  }
  await w.h.close()
  await w.api.stop()
}

/** An anime with one episode waiting to be downloaded (what makes it one to select). */
async function seed(h: StageHarness, record: AnimeRecord): Promise<void> {
  const animeId = await h.queue.anime.upsert(record)
  await h.queue.jobs.enqueue([{animeId, malId: record.mal_id, animeTitle: record.title, episode: 1}], 3)
}

/** The stage prepared and started on the harness's queue, as runStage does before the pool. */
async function prepared(h: StageHarness, opts: SelectOptions): Promise<SelectDeps> {
  const deps = await selectStage.prepare(h.ctx, opts)
  await selectStage.start!(stageRun(h, opts), deps)
  return deps
}

/** The next anime claimed as a pool worker would (a lease in run_locks), and a lease on it. */
async function claimAnime(h: StageHarness): Promise<{anime: AnimeRow; lease: Lease & {notes: string[]}}> {
  const unit = await selectUnits(h.queue, {}, async () => {}).claim('test:w1', 60_000)
  if (!unit) throw new Error('no anime to select')
  return {anime: unit.anime, lease: leaseOn(h, SELECT_STAGE, [])}
}

const gate = (deps: SelectDeps) => deps.gate!(new AbortController().signal, {index: 1, say: () => {}})

describe('select stage: handleJob in-process, the rule and the model', function () {
  this.timeout(60_000)
  let w: World
  beforeEach(async () => {
    w = await setUp()
  })
  afterEach(() => tearDown(w))

  it('selects by the rule with no API call, and stores the selection and the candidates', async () => {
    await seed(w.h, FMA)
    const deps = await prepared(w.h, options())
    expect(deps.model, 'a key is set: the model could be asked').to.not.equal(undefined)
    const {anime, lease} = await claimAnime(w.h)
    const outcome = await selectAnime(anime, lease, deps)
    expect(outcome.record).to.include({mal_id: 5114, outcome: 'rule', index: 1, confidence: 'high', calls: 0, cost_usd: 0})
    expect(outcome.message).to.equal('#1 "Fullmetal Alchemist: Brotherhood" (high, rule, 64 episodes, exact)')
    expect(w.api.requests).to.have.length(0)
    expect(await w.h.queue.selections.get(5114)).to.include({selected_index: 1, method: 'rule', api_calls: 0, episode_match: 'exact'})
    expect((await w.h.queue.selections.candidates(5114, FMA.title)).map((c) => [c.idx, c.episodes])).to.deep.equal([
      [1, 64],
      [2, 4],
    ])
    expect((await w.h.queue.selections.spending()).calls).to.equal(0)
  })

  it('asks the model about an ambiguous title, records the usage and stores its choice', async () => {
    await seed(w.h, STEINS)
    w.api.script('Steins;Gate', [{tool: {index: 1, confidence: 'high', reason: 'the 24-episode TV series', selected_episodes: 24, episode_match: 'exact'}}])
    const deps = await prepared(w.h, options())
    const {anime, lease} = await claimAnime(w.h)
    const outcome = await selectAnime(anime, lease, deps)
    expect(w.api.requests).to.have.length(1)
    expect(w.api.requests[0]!.prompt).to.include('2. Steins;Gate (1 episodes)')
    const billed = w.api.billed
    const cost = (billed.input * 1 + billed.output * 5) / 1e6
    expect(outcome.record).to.include({outcome: 'model', index: 1, confidence: 'high', calls: 1})
    expect(outcome.record!.cost_usd).to.be.closeTo(cost, 1e-12)
    const spending = await w.h.queue.selections.spending()
    expect(spending).to.include({calls: 1, input_tokens: billed.input, output_tokens: billed.output})
    expect(await w.h.queue.selections.get(9253)).to.include({selected_index: 1, method: 'model', model: 'claude-haiku-4-5', api_calls: 1})
    expect(deps.budget.stopped).to.equal(false)
  })
})

describe('select stage: handleJob in-process, the budget and the key', function () {
  this.timeout(60_000)
  let w: World
  beforeEach(async () => {
    w = await setUp()
  })
  afterEach(() => tearDown(w))

  it('makes no call that could pass --max-cost, and the gate stops the run from then on', async () => {
    await seed(w.h, STEINS)
    w.api.script('Steins;Gate', [{tool: {index: 1, confidence: 'high', reason: 'never asked', episode_match: 'exact'}}])
    const deps = await prepared(w.h, options({maxCost: 0.0001}))
    expect(await gate(deps)).to.equal('claim')
    const {anime, lease} = await claimAnime(w.h)
    const outcome = await selectAnime(anime, lease, deps)
    expect(outcome.record).to.include({outcome: 'budget', calls: 0, cost_usd: 0})
    expect(w.api.requests).to.have.length(0)
    expect(await w.h.queue.selections.get(9253)).to.equal(undefined)
    expect(deps.budget.stoppedByBudget).to.equal(true)
    expect(await gate(deps)).to.equal('stop')
  })

  it('stops before a second call once the first one was paid for (an unusable answer, then no room left)', async () => {
    await seed(w.h, BROKEN)
    w.api.script('Broken Answers', [{text: 'the second one, I think'}, {tool: {index: 2, confidence: 'high', reason: 'never asked', episode_match: 'exact'}}])
    const anime = (await w.h.queue.anime.byMalId(31))!
    // room for one call's worst case and not a cent more: the second must not be made
    const probe = await prepared(w.h, options())
    const worstCase = probe.model!.worstCaseCost(selectionPrompt(anime, BROKEN.title, BROKEN_CANDIDATES))
    const deps = await prepared(w.h, options({maxCost: worstCase + 1e-6}))
    const claimed = await claimAnime(w.h)
    const outcome = await selectAnime(claimed.anime, claimed.lease, deps)
    expect(w.api.requests).to.have.length(1)
    expect(outcome.record).to.include({outcome: 'budget', calls: 1})
    expect(claimed.lease.notes.join('\n')).to.match(/model answer unusable: the reply used no record_selection tool/)
    // the call made is recorded as spent even though nothing was decided
    expect((await w.h.queue.selections.spending()).calls).to.equal(1)
    expect(await w.h.queue.selections.get(31)).to.equal(undefined)
    expect(await gate(deps)).to.equal('stop')
  })

  it('a key the API refuses: one request, then nothing more is asked in the run', async () => {
    await seed(w.h, STEINS)
    await seed(w.h, BROKEN)
    process.env.ANTHROPIC_API_KEY = 'sk-ant-wrong-key-000'
    const deps = await prepared(w.h, options())
    const first = await claimAnime(w.h)
    expect((await selectAnime(first.anime, first.lease, deps)).record).to.include({outcome: 'api_refused', calls: 0})
    expect(deps.budget.refused).to.match(/refused the request \(401 authentication_error\)/)
    expect(await gate(deps)).to.equal('stop')
    const second = await claimAnime(w.h)
    expect((await selectAnime(second.anime, second.lease, deps)).record).to.include({outcome: 'api_refused'})
    expect(w.api.requests).to.have.length(1)
  })

  it('without a key an ambiguous anime is left for later, and the run says exit 75 with the hint', async () => {
    await seed(w.h, STEINS)
    delete process.env.ANTHROPIC_API_KEY
    const opts = options()
    const deps = await prepared(w.h, opts)
    expect(deps.model).to.equal(undefined)
    const {anime, lease} = await claimAnime(w.h)
    const outcome = await selectAnime(anime, lease, deps)
    expect(outcome.record).to.include({outcome: 'needs_key', calls: 0})
    const summary = {...emptySummary<NonNullable<typeof outcome.record>>(SELECT_STAGE, 1), claimed: 1, done: 1, records: [outcome.record!]}
    const r = await selectStage.summarize(summary, stageRun(w.h, opts), deps)
    expect(r.code).to.equal(75)
    expect(r.result as SelectResult).to.include({selected: 0, needs_api_key: 1, stopped_by_budget: false, api_refused: null})
    expect(r.text.join('\n')).to.match(/1 anime are ambiguous and were left unselected: set ANTHROPIC_API_KEY/)
  })
})
