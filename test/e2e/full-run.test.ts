// The full run as the README tells a user to make it: every command as its own process on one data
// folder, against the local stand-ins (Jikan-shaped server, Anthropic-shaped server, the fake ani-cli
// writing real media made with ffmpeg, the real whisper.cpp with a generated model for one anime and
// the stand-in whisper for the others), with the real ffmpeg, kuromoji and queue; on SQLite and, when
// ANIMEZIPF_TEST_PG_URL is set, on PostgreSQL. Then the cron chain of the README, interleaved.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {parse} from 'parse5'

import {readFrequencyCsv} from '../../src/formats/frequency-csv.js'
import {builtWhisper} from '../../src/stages/transcribe/whisper.js'
import {readTextFile} from '../../src/util/gzip-file.js'
import {AnthropicStandIn} from '../fakes/anthropic-server.js'
import {type FakeAnime, FakeJikan} from '../fakes/jikan-server.js'
import {testMedia} from '../fakes/media.js'
import {writeTinyModel} from '../fakes/tiny-model.js'
import {BACKENDS, freshPgDatabase} from '../pg.js'
import {type CliResult, ROOT, filesUnder, openAt, runCliAsync, tempDir} from '../helpers.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')
const KEY = 'sk-ant-e2e-0123456789-SECRET'
const EPISODES = 2

// three anime: Kaze no Uta is in both genres the run scrapes (one anime, not two)
const ANIME: FakeAnime[] = [
  {mal_id: 9001, title: 'Kaze no Uta', score: 9.1, episodes: EPISODES, genres: [1, 8], studios: [4], duration: 'Unknown'},
  {mal_id: 9002, title: 'Umi no Koe', score: 8.7, episodes: EPISODES, genres: [8], studios: [11], duration: 'Unknown'},
  {mal_id: 9003, title: 'Hoshi no Michi', score: 8.2, episodes: EPISODES, genres: [1], studios: [4], duration: 'Unknown'},
]
// what the installed ani-cli lists for each title: two are decided by a rule, one needs Claude
const SEARCHES = {
  'Kaze no Uta': [
    {title: 'Kaze no Uta', episodes: EPISODES},
    {title: 'Kaze no Uta Specials', episodes: 1},
  ],
  'Umi no Koe': [
    {title: 'Umi no Koe', episodes: EPISODES},
    {title: 'Umi no Koe', episodes: 1},
  ],
  'Hoshi no Michi': [
    {title: 'Hoshi no Michi', episodes: EPISODES},
    {title: 'Hoshi no Michi Recap', episodes: 1},
  ],
}

interface Run {
  work: string
  data: string
  env: Record<string, string>
  whisper: string
  jikan: FakeJikan
  api: AnthropicStandIn
  queueUrl: string | undefined
}

async function setUp(backend: 'sqlite' | 'postgres'): Promise<Run> {
  let whisper = builtWhisper()
  if (!whisper) {
    // npm test builds it once when it is missing (`.ci/run` builds it before the tests)
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'setup-whisper.mjs')], {stdio: 'inherit'})
    if (r.status !== 0) throw new Error('npm run setup:whisper failed: the full run needs the real whisper.cpp')
    whisper = builtWhisper()
  }
  if (!whisper) throw new Error('whisper.cpp was built but not found')
  const work = tempDir()
  const data = path.join(work, 'data')
  mkdirSync(path.join(data, 'models'), {recursive: true})
  writeTinyModel(path.join(data, 'models', 'ggml-test-tiny.bin'))
  const jikan = new FakeJikan()
  jikan.anime = ANIME.map((a) => ({...a}))
  const base = await jikan.start()
  const api = new AnthropicStandIn(KEY)
  await api.start()
  api.script('Umi no Koe', [
    {tool: {index: 1, confidence: 'high', reason: 'the TV series, 2 episodes as on MyAnimeList', selected_episodes: EPISODES, episode_match: 'exact'}},
  ])
  const fake = path.join(work, 'ani-cli.json')
  writeFileSync(fake, JSON.stringify({searches: SEARCHES, media: testMedia().episode}))
  const whisperData = path.join(work, 'whisper.json')
  writeFileSync(whisperData, JSON.stringify({default: 'normal'}))
  const queueUrl = backend === 'postgres' ? await freshPgDatabase() : undefined
  const env: Record<string, string> = {
    PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
    FAKE_ANI_CLI_DATA: fake,
    FAKE_WHISPER_DATA: whisperData,
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: api.url,
    ANIMEZIPF_SCRAPE_BASE_URL: base,
    ANIMEZIPF_TRANSCRIBE_MODEL: 'test-tiny',
    ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: whisper,
    // a 3-second tone: a random-weight model's few words are not judged as a real model's would be
    ANIMEZIPF_TRANSCRIBE_LOW_CONFIDENCE: '0',
    ANIMEZIPF_TRANSCRIBE_MAX_HALLUCINATED_PERCENT: '100',
    ANIMEZIPF_DOWNLOAD_MIN_BYTES: '2000',
    ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
    ...(queueUrl ? {ANIMEZIPF_QUEUE_URL: queueUrl} : {}),
  }
  return {work, data, env, whisper, jikan, api, queueUrl}
}

async function tearDown(r: Run | undefined): Promise<void> {
  await r?.jikan.stop()
  await r?.api.stop()
}

async function cli(r: Run, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliAsync([...args, '--data-dir', r.data], {cwd: r.work, env: {...r.env, ...env}})
}

/** A command that must succeed; its --json output parsed. */
async function ok(r: Run, args: string[], env: Record<string, string> = {}): Promise<any> {
  const res = await cli(r, [...args, '--json'], env)
  expect(res.code, `${args.join(' ')}: ${res.stderr.slice(-3000)}`).to.equal(0)
  return JSON.parse(res.stdout)
}

async function csvWords(file: string): Promise<number> {
  let words = 0
  await readFrequencyCsv(file, (_w, _p, _r, count) => void (words += count))
  return words
}

type HtmlNode = {nodeName: string; value?: string; childNodes?: HtmlNode[]}
const textOf = (n: HtmlNode): string => (n.nodeName === '#text' ? (n.value ?? '') : (n.childNodes ?? []).map(textOf).join(''))

/** The report's corpus table: anime, episodes, words, distinct words. */
function reportCorpus(file: string): Record<string, number> {
  const rows: Record<string, number> = {}
  const walk = (n: HtmlNode & {tagName?: string}) => {
    if (n.tagName === 'tr') {
      const cells = (n.childNodes ?? []).filter((c) => (c as {tagName?: string}).tagName === 'td').map(textOf)
      if (cells.length === 2 && /^\d+$/.test(cells[1]!) && !(cells[0]! in rows)) rows[cells[0]!] = Number(cells[1])
    }
    for (const c of n.childNodes ?? []) walk(c)
  }
  walk(parse(readFileSync(file, 'utf8')))
  return rows
}

/** What a finished run must hold, whichever way the stages were run. */
async function expectFinished(r: Run): Promise<void> {
  const status = await ok(r, ['status'])
  expect(status.jobs.total).to.equal(ANIME.length * EPISODES)
  expect(status.jobs.by_stage).to.deep.include({complete: ANIME.length * EPISODES})
  // one call to Claude (the ambiguous anime), its cost counted; the key nowhere in the output
  expect(status.selections.api.calls).to.equal(1)
  expect(status.selections.api.cost_usd).to.be.greaterThan(0)
  expect(JSON.stringify(status)).to.not.include(KEY)

  // the media are gone; transcripts, tokens and frequency lists are there, one per episode
  expect(filesUnder(path.join(r.data, 'videos')), 'videos').to.deep.equal([])
  expect(filesUnder(path.join(r.data, 'audio')), 'audio').to.deep.equal([])
  expect(
    filesUnder(r.data).filter((f) => /\.tmp$|\.part$/.test(f)),
    'temp files',
  ).to.deep.equal([])
  const q = await openAt(r.queueUrl ?? path.join(r.data, 'jobs.db'))
  let corpus = 0
  let episodes = 0
  try {
    const episodeRows = await q.maintenance.episodes()
    for (const a of ANIME) {
      let words = 0
      const ids = episodeRows.filter((e) => e.mal_id === a.mal_id).sort((x, y) => x.episode - y.episode)
      const jobs = await Promise.all(ids.map(async (e) => (await q.jobs.getJob(e.id))!))
      expect(jobs.map((j) => j.episode)).to.deep.equal([1, 2])
      for (const j of jobs) {
        expect(j).to.include({stage: 'complete', video_deleted: 1, audio_deleted: 1, lease_owner: null})
        // each stage finished the episode once: nothing was done twice
        const finished = (await q.jobs.events(j.id)).filter((e) => e.event === 'finished').map((e) => e.stage)
        expect(finished.sort(), `job ${j.id}`).to.deep.equal(['complete', 'downloaded', 'tokenized', 'transcribed'])
        const transcript = JSON.parse(readTextFile(path.join(r.data, j.transcript_path!))) as {model: string; segments: unknown[]}
        expect(transcript.model).to.equal('whisper-test-tiny')
        const tokens = path.join(r.data, j.tokens_path!)
        expect(existsSync(tokens)).to.equal(true)
        // episode -> anime: each episode's frequency list holds its word count
        expect(await csvWords(tokens.replace(/_tokens\.json(\.gz)?$/, '_freq.csv'))).to.equal(j.word_count)
        words += j.word_count!
        episodes++
      }
      expect(words, a.title).to.be.greaterThan(0)
      const dir = path.join(r.data, 'analysis', 'per_anime', String(a.mal_id))
      const params = JSON.parse(readFileSync(path.join(dir, 'zipf_params.json'), 'utf8'))
      expect(params.total_words).to.equal(words)
      expect(await csvWords(path.join(dir, 'word_freq.csv'))).to.equal(words)
      expect(existsSync(path.join(dir, 'zipf_plot.html'))).to.equal(true)
      corpus += words
    }
    const analyzed = await q.analysis.analyzedAnime()
    expect(analyzed.map((a) => a.mal_id).sort()).to.deep.equal(ANIME.map((a) => a.mal_id))
  } finally {
    await q.close()
  }
  // anime -> corpus, and the report's counts are the database's
  const agg = path.join(r.data, 'analysis', 'aggregated')
  expect(await csvWords(path.join(agg, 'all_anime_freq.csv'))).to.equal(corpus)
  expect(JSON.parse(readFileSync(path.join(agg, 'global_zipf.json'), 'utf8')).corpus).to.include({anime: ANIME.length, episodes, total_words: corpus})
  // the genre both categories share counts Kaze no Uta once
  const drama = ANIME.filter((a) => a.genres!.includes(8))
  expect(JSON.parse(readFileSync(path.join(agg, 'by_genre', 'drama_zipf.json'), 'utf8')).anime).to.equal(drama.length)
  const report = reportCorpus(path.join(r.data, 'analysis', 'reports', 'final_report.html'))
  expect(report).to.include({anime: ANIME.length, episodes, words: corpus})
  expect(readdirSync(path.join(r.data, 'analysis', 'per_anime')).sort()).to.deep.equal(ANIME.map((a) => String(a.mal_id)))

  // nothing left to retry or clean up
  expect(await ok(r, ['retry'])).to.include({failed: 0, revived: 0})
  const cleanup = await ok(r, ['cleanup'])
  expect(cleanup.actions, JSON.stringify(cleanup)).to.deep.equal([])
}

for (const backend of BACKENDS) {
  describe(`the full run, every command as the README says [${backend}]`, function () {
    this.timeout(600_000)
    let run: Run | undefined

    afterEach(async () => {
      await tearDown(run)
      run = undefined
    })

    it('doctor, scrape, select, download, transcribe, tokenize, analyze, status, retry, cleanup', async () => {
      const r = (run = await setUp(backend))
      const doctor = await ok(r, ['doctor'])
      expect(doctor.ok, JSON.stringify(doctor.checks.filter((c: {status: string}) => c.status !== 'ok'))).to.equal(true)

      const scraped = await ok(r, ['scrape', '--category', 'genre:Action', '--category', 'genre:Drama', '--limit', '5'])
      // Kaze no Uta is found in both genres and stored once
      expect(scraped).to.include({anime_found: ANIME.length + 1, unique_anime: ANIME.length, new_anime: ANIME.length, jobs_enqueued: ANIME.length * EPISODES})
      const selected = await ok(r, ['select'])
      expect(selected).to.include({selected: ANIME.length, with_call: 1})
      expect(r.api.requests).to.have.length(1)
      const downloaded = await ok(r, ['download', '--workers', '3', '--no-wait'])
      expect(downloaded).to.include({done: ANIME.length * EPISODES, failed: 0})
      // one anime through the real whisper.cpp with the generated model, the others through the stand-in
      const real = await ok(r, ['transcribe', '--anime-id', '9001', '--threads', '2'])
      expect(real).to.include({done: EPISODES, failed: 0})
      const rest = await ok(r, ['transcribe', '--workers', '2', '--threads', '1'], {ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: path.join(FAKES, 'whisper-fake')})
      expect(rest).to.include({done: (ANIME.length - 1) * EPISODES, failed: 0})
      expect(await ok(r, ['tokenize', '--workers', '2'])).to.include({done: ANIME.length * EPISODES, failed: 0})
      const analyzed = await ok(r, ['analyze'])
      expect(analyzed.analyzed).to.equal(ANIME.length)
      await expectFinished(r)
    })
  })
}

describe('the cron chain of the README: every stage again and again with --limit, interleaved, while status runs', function () {
  this.timeout(600_000)
  let run: Run | undefined

  after(async () => {
    await tearDown(run)
  })

  it('ends in the same finished state', async () => {
    const r = (run = await setUp('sqlite'))
    // whisper-fake for every anime here: the real binary has had its run above
    const env = {ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: path.join(FAKES, 'whisper-fake')}
    const order = [
      ['analyze', '--limit', '1'],
      ['tokenize', '--limit', '1'],
      ['transcribe', '--limit', '1', '--threads', '1'],
      ['download', '--limit', '1', '--no-wait'],
      ['select', '--limit', '1'],
      ['scrape', '--category', 'genre:Action', '--category', 'genre:Drama', '--limit', '5'],
    ]
    let watching = true
    const statuses: number[] = []
    const watcher = (async () => {
      while (watching) {
        const s = await cli(r, ['status', '--json'], env)
        statuses.push(s.code)
        if (s.code === 0) expect(() => JSON.parse(s.stdout)).to.not.throw()
      }
    })()
    const codes = new Map<string, Set<number>>()
    try {
      // downstream stages first, as cron fires them in any order; until a whole round changes nothing
      for (let round = 0; round < 20; round++) {
        for (const args of round % 2 === 0 ? order : [...order].reverse()) {
          const res = await cli(r, args, env)
          if (!codes.has(args[0]!)) codes.set(args[0]!, new Set())
          codes.get(args[0]!)!.add(res.code)
          // 0: done or nothing to do; 75: nothing can run now but will later (cron ignores it)
          expect([0, 75], `${args.join(' ')}: ${res.stderr.slice(-2000)}`).to.include(res.code)
        }
        const status = await ok(r, ['status'], env)
        if (status.jobs.total === ANIME.length * EPISODES && status.jobs.by_stage.complete === status.jobs.total) {
          // the next hourly analyze finds nothing new and leaves the aggregate as it is
          expect((await cli(r, ['analyze'], env)).code).to.equal(0)
          break
        }
      }
    } finally {
      watching = false
      await watcher
    }
    // every stage ended cleanly (exit 0) in some run, not only with "try later"
    for (const args of order) expect([...codes.get(args[0]!)!], args[0]).to.include(0)
    expect(statuses.length, 'status ran while the stages did').to.be.greaterThan(3)
    expect(
      statuses.every((c) => c === 0),
      `status exit codes ${[...new Set(statuses)].join(', ')}`,
    ).to.equal(true)
    await expectFinished({...r, env: {...r.env, ...env}})
  })
})
