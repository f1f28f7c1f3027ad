// select end to end: the real CLI, the fake ani-cli on PATH (the 5.x menu contract), the real
// Anthropic SDK against a local stand-in of the Messages API, the real queue.
import {expect} from 'chai'
import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {AnimeRecord} from '../../src/queue/rows.js'
import {AnthropicStandIn} from '../fakes/anthropic-server.js'
import {openAt, processRunning, ROOT, runCliAsync, tempDir, tree} from '../helpers.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')
const KEY = 'sk-ant-test-0123456789-SECRET'

interface Show {
  record: AnimeRecord
  episodes: number
}

const FMA: Show = {
  record: {
    mal_id: 5114,
    title: 'Fullmetal Alchemist: Brotherhood',
    title_english: 'Fullmetal Alchemist: Brotherhood',
    episodes_total: 64,
    type: 'TV',
    year: 2009,
  },
  episodes: 64,
}
const STEINS: Show = {record: {mal_id: 9253, title: 'Steins;Gate', episodes_total: 24, type: 'TV', year: 2011}, episodes: 24}
const KINO: Show = {record: {mal_id: 486, title: `Kino's "Journey" $(touch pwned)`, episodes_total: 13, type: 'TV'}, episodes: 13}
const HARUHI: Show = {record: {mal_id: 849, title: '涼宮ハルヒの憂鬱', episodes_total: 14, type: 'TV'}, episodes: 14}
const MUSHI: Show = {record: {mal_id: 457, title: 'Mushishi', episodes_total: 26, type: 'TV'}, episodes: 26}
const AOT: Show = {record: {mal_id: 16498, title: 'Shingeki no Kyojin', title_english: 'Attack on Titan', episodes_total: 25, type: 'TV'}, episodes: 25}
const LOST: Show = {record: {mal_id: 999001, title: 'Nowhere To Be Found', episodes_total: 12}, episodes: 12}
const RETRY: Show = {record: {mal_id: 30, title: 'Neon Genesis Evangelion', episodes_total: 26, type: 'TV'}, episodes: 26}
const BROKEN: Show = {record: {mal_id: 31, title: 'Broken Answers', episodes_total: 12}, episodes: 12}
const BUSY: Show = {record: {mal_id: 32, title: 'Busy Servers', episodes_total: 10}, episodes: 10}

const SEARCHES = {
  'Fullmetal Alchemist: Brotherhood': [
    {title: 'Fullmetal Alchemist: Brotherhood', episodes: 64},
    {title: 'Fullmetal Alchemist: Brotherhood Specials', episodes: 4},
    {title: 'Fullmetal Alchemist', episodes: 51},
  ],
  'Steins;Gate': [
    {title: 'Steins;Gate', episodes: 24},
    {title: 'Steins;Gate', episodes: 1},
    {title: 'Steins;Gate 0', episodes: 23},
  ],
  [`Kino's "Journey" $(touch pwned)`]: [
    {title: 'Kino&#039;s &quot;Journey&quot; $(touch pwned)', episodes: 13},
    {title: 'Kino&#039;s Journey: the Beautiful World', episodes: 12},
  ],
  Mushishi: [{title: 'Mushishi', episodes: 26}],
  涼宮ハルヒの憂鬱: [
    {title: '涼宮ハルヒの憂鬱 (2009)', episodes: 28},
    {title: '涼宮ハルヒの憂鬱', episodes: 14},
  ],
  'Shingeki no Kyojin': 'outage',
  'Attack on Titan': [
    {title: 'Attack on Titan', episodes: 25},
    {title: 'Attack on Titan Season 2', episodes: 12},
  ],
  'Nowhere To Be Found': 'outage',
  'Neon Genesis Evangelion': [
    {title: 'Neon Genesis Evangelion', episodes: 26},
    {title: 'Neon Genesis Evangelion: The End of Evangelion', episodes: 1},
    {title: 'Neon Genesis Evangelion', episodes: 24},
  ],
  'Broken Answers': [
    {title: 'Broken Answers OVA', episodes: 2},
    {title: 'Broken Answers TV', episodes: 12},
  ],
  'Busy Servers': [
    {title: 'Busy Servers', episodes: 10},
    {title: 'Busy Servers', episodes: 11},
  ],
}

async function seed(data: string, shows: Show[]): Promise<void> {
  const q = await openAt(path.join(data, 'jobs.db'))
  for (const s of shows) {
    const animeId = await q.anime.upsert(s.record)
    await q.jobs.enqueue(
      Array.from({length: Math.min(s.episodes, 3)}, (_, i) => ({animeId, malId: s.record.mal_id, animeTitle: s.record.title, episode: i + 1})),
      3,
    )
  }
  await q.close()
}

/** Every byte under a folder, as text, for "the key is nowhere" checks (the database included). */
function allBytes(dir: string): string {
  let out = ''
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out += readFileSync(p).toString('latin1')
    }
  }
  walk(dir)
  return out
}

describe('select (CLI)', function () {
  this.timeout(180_000)
  let api: AnthropicStandIn
  let work: string
  let data: string
  let calls: string
  let env: Record<string, string>

  const select = (args: string[], extra: Record<string, string> = {}) =>
    runCliAsync(['select', '--data-dir', data, ...args], {env: {...env, ...extra}, cwd: work})
  const aniCalls = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean).length : 0)

  beforeEach(async () => {
    api = new AnthropicStandIn(KEY)
    await api.start()
    work = tempDir()
    data = path.join(work, 'data')
    calls = path.join(work, 'ani-cli-calls.log')
    const searches = path.join(work, 'searches.json')
    writeFileSync(searches, JSON.stringify({searches: SEARCHES}))
    env = {
      PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
      FAKE_ANI_CLI_DATA: searches,
      FAKE_ANI_CLI_LOG: calls,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: api.url,
      ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
      ANIMEZIPF_SELECT_NO_RESULTS_CONFIRMATIONS: '2',
    }
  })

  afterEach(async () => {
    await api.stop()
  })

  it('selects unambiguous anime without a call, asks Claude for the rest, and a second run calls nothing', async () => {
    await seed(data, [FMA, STEINS, KINO, MUSHI, AOT, HARUHI])
    api.script('Steins;Gate', [{tool: {index: 1, confidence: 'high', reason: 'the TV series with 24 episodes', selected_episodes: 24, episode_match: 'exact'}}])
    // a lone result shows no title (ani-cli skips the anime menu): never a title match, the model decides
    api.script('Mushishi', [
      {tool: {index: 1, confidence: 'medium', reason: 'the only result, 26 episodes as on MAL', selected_episodes: 26, episode_match: 'exact'}},
    ])
    const r = await select(['--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = JSON.parse(r.stdout)
    expect(out).to.include({selected: 6, without_call: 4, with_call: 2, no_candidates: 0})
    expect(out.api.calls).to.equal(2)
    expect(existsSync(path.join(work, 'pwned'))).to.equal(false)

    // what the model saw: the MAL entry and the candidates numbered as ani-cli numbered them, with episode counts
    expect(api.requests).to.have.length(2)
    const req = api.requests.find((x) => x.prompt.includes('title: Steins;Gate\n'))!
    expect(req.body.model).to.equal('claude-haiku-4-5')
    expect(req.body.tool_choice).to.deep.equal({type: 'tool', name: 'record_selection'})
    expect(req.body.tools![0]!.input_schema.required).to.include.members(['index', 'confidence', 'reason', 'episode_match'])
    expect(req.prompt).to.include('episodes: 24')
    expect(req.prompt).to.include('1. Steins;Gate (24 episodes)\n')
    expect(req.prompt).to.include('2. Steins;Gate (1 episodes)\n')
    expect(req.prompt).to.include('3. Steins;Gate 0 (23 episodes)')

    // costs are the stand-in's token counts at the configured prices
    const billed = api.billed
    expect(out.api.cost_usd).to.be.closeTo((billed.input * 1 + billed.output * 5) / 1e6, 1e-12)
    expect(out.api.usd_per_1000_anime).to.be.closeTo((out.api.cost_usd / 6) * 1000, 1e-9)
    expect(api.requests.find((x) => x.prompt.includes('title: Mushishi\n'))!.prompt).to.include(
      '1. (the only result: ani-cli does not show its title) (26 episodes)',
    )

    const q = await openAt(path.join(data, 'jobs.db'))
    const fma = (await q.selections.get(5114))!
    expect(fma).to.include({selected_index: 1, confidence: 'high', method: 'rule', selected_episodes: 64, episode_match: 'exact', api_calls: 0})
    const steins = (await q.selections.get(9253))!
    expect(steins).to.include({selected_index: 1, confidence: 'high', method: 'model', model: 'claude-haiku-4-5', api_calls: 1})
    expect((await q.selections.get(486))!).to.include({selected_index: 1, method: 'rule'})
    expect((await q.selections.get(849))!).to.include({selected_index: 2, method: 'rule', selected_title: '涼宮ハルヒの憂鬱'})
    expect((await q.selections.get(457))!).to.include({selected_index: 1, method: 'model', selected_episodes: 26, confidence: 'medium'})
    const aot = (await q.selections.get(16498))!
    expect(aot).to.include({search_query: 'Attack on Titan', selected_index: 1, method: 'rule'})
    // every raw list is kept: Steins;Gate's three candidates with their counts
    expect((await q.selections.candidates(9253, 'Steins;Gate')).map((c) => [c.idx, c.text, c.episodes])).to.deep.equal([
      [1, 'Steins;Gate', 24],
      [2, 'Steins;Gate', 1],
      [3, 'Steins;Gate 0', 23],
    ])
    await q.close()

    // the fake saw our menu hook, the debug player and a temporary history folder, arguments unsplit
    const seen = readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {args: string[]; player: string; hist: string; menu: string})
    expect(seen.every((c) => c.player === 'debug' && c.hist && c.menu.endsWith('animezipf-menu'))).to.equal(true)
    expect(seen.some((c) => c.args.includes(`Kino's "Journey" $(touch pwned)`))).to.equal(true)

    const before = aniCalls()
    const again = await select(['--json'])
    expect(again.code, again.stderr).to.equal(0)
    expect(JSON.parse(again.stdout).selected).to.equal(0)
    expect(api.requests).to.have.length(2)
    expect(aniCalls()).to.equal(before)
    // status shows the selections by confidence and match, and the money spent
    const status = await runCliAsync(['status', '--json', '--data-dir', data], {cwd: work})
    const sel = JSON.parse(status.stdout).selections
    expect(sel.confidence).to.include({high: 5, medium: 1})
    expect(sel.episode_match).to.include({exact: 6})
    expect(sel.api.calls).to.equal(2)
    expect(sel.api.cost_usd).to.be.closeTo(out.api.cost_usd, 1e-12)
    for (const text of [r.stdout, r.stderr, again.stdout, again.stderr, status.stdout, allBytes(data)]) expect(text).to.not.include(KEY)
  })

  it('retries an out-of-range answer once, keeps a malformed pair as low, and rides out 429 and 529', async () => {
    await seed(data, [RETRY, BROKEN, BUSY])
    api.script('Neon Genesis Evangelion', [
      {tool: {index: 7, confidence: 'high', reason: 'nope', episode_match: 'exact'}},
      {tool: {index: 1, confidence: 'medium', reason: 'the 26-episode TV series', selected_episodes: 26, episode_match: 'exact'}},
    ])
    api.script('Broken Answers', [{tool: {index: 'two', confidence: 'sure'}}, {text: 'I think it is the second one.'}])
    api.script('Busy Servers', [
      {status: 429, retryAfterMs: 5},
      {status: 529, retryAfterMs: 5},
      {tool: {index: 2, confidence: 'high', reason: 'eleven', episode_match: 'close'}},
    ])
    const r = await select(['--json', '--workers', '1'])
    expect(r.code, r.stderr).to.equal(0)
    const q = await openAt(path.join(data, 'jobs.db'))
    expect((await q.selections.get(30))!).to.include({selected_index: 1, confidence: 'medium', method: 'model', api_calls: 2})
    const broken = (await q.selections.get(31))!
    expect(broken).to.include({confidence: 'low', api_calls: 2})
    expect(broken.reason).to.match(/model answer unusable twice \(the reply used no record_selection tool/)
    const busy = (await q.selections.get(32))!
    expect(busy).to.include({selected_index: 2, confidence: 'high', selected_episodes: 11, episode_match: 'close', api_calls: 1})
    // the 429 and 529 were answered again by the SDK; only answered calls are billed
    expect(api.requests.filter((x) => x.replied === 429 || x.replied === 529)).to.have.length(2)
    const spending = await q.selections.spending()
    expect(spending.calls).to.equal(5)
    expect(spending.input_tokens).to.equal(api.billed.input)
    await q.close()

    const review = await select(['--review', '--json'])
    expect(review.code).to.equal(0)
    const items = JSON.parse(review.stdout).review as {mal_id: number; candidates: unknown[]}[]
    expect(items.map((i) => i.mal_id).sort()).to.deep.equal([30, 31])
    expect(items.find((i) => i.mal_id === 31)!.candidates).to.have.length(2)
  })

  it('reads episode counts printed after the titles, and a one-episode result without a menu', async () => {
    const searches = path.join(work, 'counted.json')
    writeFileSync(searches, JSON.stringify({countsInMenu: true, searches: SEARCHES}))
    await seed(data, [FMA])
    const r = await select(['--json'], {FAKE_ANI_CLI_DATA: searches})
    expect(r.code, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout)).to.include({selected: 1, without_call: 1})
    // the counts came with the list: one search, no -S probe
    expect(aniCalls()).to.equal(1)
    const q = await openAt(path.join(data, 'jobs.db'))
    expect((await q.selections.candidates(5114, 'Fullmetal Alchemist: Brotherhood')).map((c) => [c.text, c.episodes])).to.deep.equal([
      ['Fullmetal Alchemist: Brotherhood', 64],
      ['Fullmetal Alchemist: Brotherhood Specials', 4],
      ['Fullmetal Alchemist', 51],
    ])
    await q.close()
  })

  it('no results: retried later, then no_candidates; a hung ani-cli is killed with its whole process group', async () => {
    await seed(data, [LOST])
    const first = await select(['--json'])
    expect(first.code).to.equal(75)
    expect(JSON.parse(first.stdout)).to.include({selected: 0, no_candidates: 0, waiting_for_retry: 1})
    const second = await select(['--json'])
    expect(second.code, second.stderr).to.equal(0)
    expect(JSON.parse(second.stdout).no_candidates).to.equal(1)
    const q = await openAt(path.join(data, 'jobs.db'))
    expect((await q.selections.get(999001))!).to.include({confidence: 'no_candidates', method: 'none'})
    await q.close()

    const hungData = path.join(work, 'hung.json')
    writeFileSync(hungData, JSON.stringify({searches: {Mushishi: 'hang'}}))
    const data2 = path.join(work, 'data2')
    await seed(data2, [MUSHI])
    const pids = path.join(work, 'hung-pids.txt')
    const hung = await runCliAsync(['select', '--data-dir', data2, '--json'], {
      env: {...env, FAKE_ANI_CLI_DATA: hungData, FAKE_ANI_CLI_PIDS: pids, ANIMEZIPF_ANI_CLI_SEARCH_TIMEOUT_SECONDS: '2'},
    })
    // (a kill that never came would hang this test past its timeout: the pids below are the proof)
    expect(hung.code).to.equal(75)
    const out = JSON.parse(hung.stdout)
    expect(out.waiting_for_retry).to.equal(1)
    const q2 = await openAt(path.join(data2, 'jobs.db'))
    expect((await q2.selections.attempts(457))!.last_error).to.match(/did not finish in 2s \(killed with everything it started\)/)
    await q2.close()
    // ani-cli and the helper it started are both gone: the whole process group was killed
    const [aniPid, helperPid] = readFileSync(pids, 'utf8').trim().split(' ').map(Number)
    for (const pid of [aniPid!, helperPid!]) expect(processRunning(pid), `process ${pid}`).to.equal(false)
  })

  it('without a key: unambiguous anime are selected, the rest reported; --max-cost stops before the budget', async () => {
    await seed(data, [FMA, STEINS])
    const noKey = await select(['--json'], {ANTHROPIC_API_KEY: ''})
    expect(noKey.code, noKey.stderr).to.equal(0)
    expect(JSON.parse(noKey.stdout)).to.include({selected: 1, needs_api_key: 1})
    const human = await select([], {ANTHROPIC_API_KEY: ''})
    expect(human.stdout).to.match(/need the model/)
    expect(human.stdout).to.match(/set ANTHROPIC_API_KEY/)
    expect(human.code).to.equal(75)

    const capped = await select(['--json', '--max-cost', '0.0001'])
    expect(capped.code).to.equal(75)
    expect(JSON.parse(capped.stdout)).to.include({stopped_by_budget: true, selected: 0})
    expect(api.requests).to.have.length(0)

    // a key the API refuses: one line about it, and no call for every remaining anime
    await seed(data, [RETRY, BUSY])
    const refused = await select(['--json', '--workers', '1'], {ANTHROPIC_API_KEY: 'sk-ant-wrong'})
    expect(refused.code).to.equal(2)
    expect(JSON.parse(refused.stdout).api_refused).to.match(/refused the request \(401 authentication_error\)/)
    expect(api.requests.filter((x) => x.replied === 401)).to.have.length(1)
    expect(refused.stdout + refused.stderr).to.not.include('sk-ant-wrong')
  })

  it('--dry-run shows the plan and changes nothing; --set records a checked manual choice', async () => {
    await seed(data, [FMA, STEINS])
    const before = tree(data)
    const dry = await select(['--dry-run', '--json'])
    expect(dry.code, dry.stderr).to.equal(0)
    const plan = JSON.parse(dry.stdout).anime as {mal_id: number; action: string; candidates: unknown[]}[]
    expect(plan.map((p) => [p.mal_id, p.action])).to.deep.equal([
      [5114, 'select #1 without a call'],
      [9253, 'ask the model'],
    ])
    expect(api.requests).to.have.length(0)
    expect(tree(data)).to.deep.equal(before)

    const none = await select(['--set', '9253', '2'])
    expect(none.code).to.equal(2)
    expect(none.stderr).to.match(/has no stored candidates/)
    const listed = await select(['--anime-id', '5114'])
    expect(listed.code, listed.stderr).to.equal(0)
    const bad = await select(['--set', '5114', '9'])
    expect(bad.code).to.equal(2)
    expect(bad.stderr.trim().split('\n')).to.have.length(1)
    expect(bad.stderr).to.match(/has no candidate 9 \(choose one of 1, 2, 3 /)
    const set = await select(['--set', '5114', '2', '--json'])
    expect(set.code, set.stderr).to.equal(0)
    const q = await openAt(path.join(data, 'jobs.db'))
    expect((await q.selections.get(5114))!).to.include({selected_index: 2, confidence: 'high', reason: 'manual', method: 'manual', episode_match: 'mismatch'})
    await q.close()
    // a manual choice survives --force
    await select(['--force', '--anime-id', '5114'])
    const q2 = await openAt(path.join(data, 'jobs.db'))
    expect((await q2.selections.get(5114))!.method).to.equal('manual')
    await q2.close()
  })
})
