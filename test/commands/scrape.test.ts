import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {DataPaths} from '../../src/paths.js'
import {FakeJikan} from '../fakes/jikan-server.js'
import {openDatabase, runCliAsync, tempDir} from '../helpers.js'

describe('scrape (CLI) against the local Jikan stand-in', function () {
  this.timeout(180_000)
  let server: FakeJikan
  let env: Record<string, string>

  beforeEach(async () => {
    server = new FakeJikan()
    const base = await server.start()
    env = {ANIMEZIPF_SCRAPE_BASE_URL: base, ANIMEZIPF_SCRAPE_TOP_STUDIOS: '2', ANIMEZIPF_SCRAPE_BACKOFF_BASE_MS: '50', ANIMEZIPF_SCRAPE_BACKOFF_MAX_MS: '400'}
  })
  afterEach(() => server.stop())

  it('stores the top anime of every category once, with one job per episode, through failures; a second run makes no request', async () => {
    server.scenario = {
      burst429: 2,
      upstream500Once: 'genres=8',
      errorBody200Once: '/genres/anime?filter=themes',
      truncatedOnce: '/producers',
      perSecondLimit: 3,
    }
    const data = path.join(tempDir(), 'data')
    const r = await runCliAsync(['scrape', '--limit', '6', '--data-dir', data, '--json'], {env})
    expect(r.code, r.stderr).to.equal(0)
    const s = JSON.parse(r.stdout)
    // Action, Drama, Comedy, Military, Shounen, and the top 2 producers (Aniplex, Bones)
    expect(s.categories_read).to.equal(7)
    expect(s.retries).to.be.at.least(5)
    expect(server.requests.filter((q) => q.status === 429).length).to.equal(2)

    // the pace: the server refuses more than 3 in a second (perSecondLimit) and refused none beyond the
    // scripted burst above (the exact spacing is the pacer's, tested on a fake clock)

    const db = openDatabase(path.join(data, 'jobs.db'))
    const anime = db.prepare(`SELECT mal_id, title, episodes_total FROM anime ORDER BY mal_id`).all() as {
      mal_id: number
      title: string
      episodes_total: number | null
    }[]
    expect(new Set(anime.map((a) => a.mal_id)).size).to.equal(anime.length)
    expect(s.unique_anime).to.equal(anime.length)
    expect(s.new_anime).to.equal(anime.length)
    expect(s.anime_found).to.be.greaterThan(anime.length)
    // unscored anime are skipped; a studio that is only a licensor does not count
    expect(anime.map((a) => a.mal_id)).to.not.include(30)
    const aniplex = db.prepare(`SELECT COUNT(*) AS n FROM anime_categories WHERE kind = 'studio' AND name = 'Aniplex'`).get() as {n: number}
    expect(aniplex.n).to.equal(0)
    const licensedOnly = db.prepare(`SELECT kind, name FROM anime_categories c JOIN anime a ON a.id = c.anime_id WHERE a.mal_id = 31 ORDER BY kind`).all()
    expect(licensedOnly).to.deep.equal([{kind: 'genre', name: 'Drama'}])
    // an anime in several categories keeps them all, each with its rank
    const multi = db.prepare(`SELECT COUNT(*) AS n FROM (SELECT anime_id FROM anime_categories GROUP BY anime_id HAVING COUNT(*) > 1)`).get() as {n: number}
    expect(multi.n).to.be.greaterThan(0)
    const ranks = db.prepare(`SELECT name, MIN(rank) AS lo, MAX(rank) AS hi, COUNT(*) AS n FROM anime_categories WHERE name = 'Action' GROUP BY name`).get()
    expect(ranks).to.deep.equal({name: 'Action', lo: 1, hi: 6, n: 6})

    // jobs: one per episode; the airing show (episodes null) by its episode list, recaps last
    const jobs = db.prepare(`SELECT a.mal_id, a.episodes_total, COUNT(j.id) AS n FROM anime a LEFT JOIN jobs j ON j.anime_id = a.id GROUP BY a.id`).all() as {
      mal_id: number
      episodes_total: number | null
      n: number
    }[]
    for (const j of jobs) expect(j.n, `anime ${j.mal_id}`).to.equal(j.mal_id === 21 ? 130 : j.episodes_total)
    const recaps = db.prepare(`SELECT episode FROM jobs WHERE mal_id = 21 AND priority < 0 ORDER BY episode`).all()
    expect(recaps).to.deep.equal([{episode: 54}, {episode: 55}])
    const total = (db.prepare(`SELECT COUNT(*) AS n FROM jobs`).get() as {n: number}).n
    expect(s.jobs_enqueued).to.equal(total)
    db.close()
    const meta = JSON.parse(readFileSync(new DataPaths(data).metadataFile(1002), 'utf8'))
    expect(meta).to.include({mal_id: 1002, title: 'Show "2" \'s story', score: 9.2, episodes: 14, duration_minutes: 24})
    expect(meta.genres).to.deep.equal(['Action'])
    expect(meta.studios).to.deep.equal(['Bones'])

    const before = server.requests.length
    const again = await runCliAsync(['scrape', '--limit', '6', '--data-dir', data, '--json'], {env})
    expect(again.code, again.stderr).to.equal(0)
    const s2 = JSON.parse(again.stdout)
    expect(server.requests.length).to.equal(before)
    expect(s2).to.include({requests: 0, new_anime: 0, jobs_enqueued: 0, unique_anime: anime.length})
  })

  it('--dry-run shows what it would store and changes nothing', async () => {
    const dir = tempDir()
    const data = path.join(dir, 'data')
    const r = await runCliAsync(
      ['scrape', '--limit', '3', '--category', 'genre:Action', '--category', 'studio:Bones', '--data-dir', data, '--dry-run', '--json'],
      {env},
    )
    expect(r.code, r.stderr).to.equal(0)
    const s = JSON.parse(r.stdout)
    expect(s).to.include({dry_run: true, categories_read: 2})
    expect(s.new_anime).to.be.greaterThan(0)
    expect(existsSync(data)).to.equal(false)
    const real = JSON.parse(
      (await runCliAsync(['scrape', '--limit', '3', '--category', 'genre:Action', '--category', 'studio:Bones', '--data-dir', data, '--json'], {env})).stdout,
    )
    expect(real).to.include({new_anime: s.new_anime, jobs_enqueued: s.jobs_enqueued, unique_anime: s.unique_anime})
  })

  it('a permanent error stops with a clear message and a non-zero exit, keeping what was stored', async () => {
    server.scenario = {permanent400: 'genres=8&'}
    const data = path.join(tempDir(), 'data')
    const r = await runCliAsync(['scrape', '--limit', '4', '--category', 'genre:Action', '--category', 'genre:Drama', '--data-dir', data], {env})
    expect(r.code).to.equal(1)
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.includes('scrape stopped'))
    expect(lines).to.have.length(1)
    expect(lines[0]).to.match(/genres=8.*HTTP 400 ValidationException/)
    expect(r.stderr).to.not.match(/\n\s+at /)
    const db = openDatabase(path.join(data, 'jobs.db'))
    const action = db.prepare(`SELECT COUNT(*) AS n FROM anime_categories WHERE name = 'Action'`).get() as {n: number}
    expect(action.n).to.equal(4)
    db.close()
  })

  it('--anime-id scrapes one anime; an unknown category or id is one line, exit 2', async () => {
    const data = path.join(tempDir(), 'data')
    const one = await runCliAsync(['scrape', '--anime-id', '21', '--data-dir', data, '--json'], {env})
    expect(one.code, one.stderr).to.equal(0)
    expect(JSON.parse(one.stdout)).to.include({unique_anime: 1, jobs_enqueued: 130})
    const bad = await runCliAsync(['scrape', '--category', 'genre:Nonsense', '--data-dir', data], {env})
    expect(bad.code).to.equal(2)
    expect(bad.stderr.trim().split('\n')).to.have.length(1)
    expect(bad.stderr).to.match(/no genre named "Nonsense" \(known: Action, Drama, Comedy\)/)
    const form = await runCliAsync(['scrape', '--category', 'Action', '--data-dir', data], {env})
    expect(form.code).to.equal(2)
    const missing = await runCliAsync(['scrape', '--anime-id', '424242', '--data-dir', data], {env})
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.match(/MyAnimeList has no anime 424242/)
  })
})

describe('import --mal-id looks the anime up through the scrape client', function () {
  this.timeout(60_000)
  it('fetches the metadata when Jikan answers, and needs --title when it does not', async () => {
    const server = new FakeJikan()
    const base = await server.start()
    try {
      const {ROOT} = await import('../helpers.js')
      const sub = path.join(ROOT, 'test', 'fixtures', 'subs', 'show-a-ep01.srt')
      const data = path.join(tempDir(), 'data')
      const r = await runCliAsync(['import', sub, '--mal-id', '1004', '--data-dir', data, '--json'], {env: {ANIMEZIPF_SCRAPE_BASE_URL: base}})
      expect(r.code, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout).anime).to.deep.equal({mal_id: 1004, title: 'Show "4" \'s story'})
      expect(existsSync(new DataPaths(data).metadataFile(1004))).to.equal(true)
      await server.stop()
      const offline = await runCliAsync(['import', sub, '--mal-id', '1005', '--data-dir', data], {env: {ANIMEZIPF_SCRAPE_BASE_URL: base}})
      expect(offline.code).to.equal(2)
      expect(offline.stderr).to.match(/add --title/)
      // the same file as MAL 1004's: a duplicate, imported on purpose here
      const titled = await runCliAsync(['import', sub, '--mal-id', '1005', '--title', 'Offline Show', '--allow-duplicate', '--data-dir', data, '--json'], {
        env: {ANIMEZIPF_SCRAPE_BASE_URL: base},
      })
      expect(titled.code, titled.stderr).to.equal(0)
      expect(JSON.parse(titled.stdout).anime).to.deep.equal({mal_id: 1005, title: 'Offline Show'})
    } finally {
      await server.stop().catch(() => {})
    }
  })
})
