// download end to end: the real CLI in its own process, the fake ani-cli on PATH (the 5.x contract,
// writing real media files made with ffmpeg), the real ffprobe, the real queue on both backends.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Queue} from '../../src/queue/index.js'
import type {AnimeRecord} from '../../src/queue/rows.js'
import type {Decision} from '../../src/queue/selections.js'
import {SINGLE_RESULT_TEXT} from '../../src/stages/select/ani-cli.js'
import {testMedia} from '../fakes/media.js'
import {BIN, filesUnder, freshQueueTarget, openAt, processRunning, ROOT, runCliAsync, tempDir, withQueue} from '../helpers.js'
import {BACKENDS} from '../pg.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')

interface Show {
  record: AnimeRecord
  episodes: number
  /** What select decided; undefined: not selected yet. */
  selection?: Partial<Decision> & {selected_index: number; selected_title: string}
}

const FMA: Show = {
  record: {mal_id: 5114, title: 'Fullmetal Alchemist: Brotherhood', episodes_total: 64},
  episodes: 3,
  selection: {selected_index: 1, selected_title: 'Fullmetal Alchemist: Brotherhood', confidence: 'high'},
}
const KINO: Show = {
  record: {mal_id: 486, title: `Kino's "Journey" $(touch pwned) \`touch pwned2\``, episodes_total: 13},
  episodes: 2,
  selection: {selected_index: 2, selected_title: 'Kino&#039;s &quot;Journey&quot; $(touch pwned) `touch pwned2`', confidence: 'medium'},
}
const HARUHI: Show = {
  record: {mal_id: 849, title: '涼宮ハルヒの憂鬱', episodes_total: 14},
  episodes: 2,
  // one search result: ani-cli shows no title, select stores what it could see
  selection: {selected_index: 1, selected_title: SINGLE_RESULT_TEXT, confidence: 'low', method: 'manual'},
}

const SEARCHES: Record<string, unknown> = {
  'Fullmetal Alchemist: Brotherhood': [
    {title: 'Fullmetal Alchemist: Brotherhood', episodes: 64},
    {title: 'Fullmetal Alchemist: Brotherhood Specials', episodes: 4},
  ],
  [KINO.record.title]: [
    {title: 'Kino&#039;s Journey: the Beautiful World', episodes: 12},
    {title: 'Kino&#039;s &quot;Journey&quot; $(touch pwned) `touch pwned2`', episodes: 13},
  ],
  涼宮ハルヒの憂鬱: [{title: '涼宮ハルヒの憂鬱', episodes: 14}],
}

function decision(show: Show): Decision {
  const s = show.selection!
  return {
    mal_id: show.record.mal_id,
    anime_title: show.record.title,
    search_query: show.record.title,
    selected_index: s.selected_index,
    selected_title: s.selected_title,
    confidence: s.confidence ?? 'high',
    reason: 'test',
    mal_episodes: show.record.episodes_total ?? null,
    selected_episodes: s.selected_episodes ?? null,
    episode_match: 'exact',
    method: s.method ?? 'rule',
    model: null,
    api_calls: 0,
    cost_usd: 0,
  }
}

async function seed(target: string, shows: Show[]): Promise<void> {
  const q = await openAt(target)
  try {
    for (const s of shows) {
      const animeId = await q.anime.upsert(s.record)
      await q.jobs.enqueue(
        Array.from({length: s.episodes}, (_, i) => ({animeId, malId: s.record.mal_id, animeTitle: s.record.title, episode: i + 1})),
        2,
      )
      if (s.selection) await q.selections.record(decision(s))
    }
  } finally {
    await q.close()
  }
}

interface Env {
  work: string
  data: string
  storage: string
  target: string
  env: Record<string, string>
  calls: string
  searches: string
}

async function setUp(
  backend: 'sqlite' | 'postgres',
  shows: Show[],
  extra: {downloads?: Record<string, unknown>; searches?: Record<string, unknown>} = {},
): Promise<Env> {
  const media = testMedia()
  const work = tempDir()
  const data = path.join(work, 'data')
  const storage = path.join(work, 'storage')
  mkdirSync(data, {recursive: true})
  const target = backend === 'postgres' ? await freshQueueTarget('postgres') : path.join(work, 'queue', 'jobs.db')
  mkdirSync(path.join(work, 'queue'), {recursive: true})
  await seed(target, shows)
  const calls = path.join(work, 'ani-cli-calls.log')
  const searches = path.join(work, 'searches.json')
  writeFileSync(
    searches,
    JSON.stringify({searches: {...SEARCHES, ...extra.searches}, downloads: extra.downloads ?? {}, media: media.episode, videoOnly: media.videoOnly}),
  )
  const env = {
    PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
    FAKE_ANI_CLI_DATA: searches,
    FAKE_ANI_CLI_LOG: calls,
    FAKE_ANI_CLI_STATE: work,
    ANIMEZIPF_QUEUE_URL: backend === 'postgres' ? target : `sqlite:${target}`,
    ANIMEZIPF_DATA_STORAGE_DIR: storage,
    ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
    ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '0',
    ANIMEZIPF_DOWNLOAD_MIN_BYTES: '2000',
  }
  return {work, data, storage, target, env, calls, searches}
}

const download = (e: Env, args: string[], extra: Record<string, string> = {}) =>
  runCliAsync(['download', '--data-dir', e.data, ...args], {env: {...e.env, ...extra}, cwd: e.work})

const aniCalls = (e: Env): {args: string[]; player: string | null; hist: string | null}[] =>
  existsSync(e.calls)
    ? readFileSync(e.calls, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as {args: string[]; player: string | null; hist: string | null})
    : []

for (const backend of BACKENDS) {
  describe(`download (CLI) [${backend}]`, function () {
    this.timeout(120_000)

    it('downloads every episode to the documented path, verified, with arguments that reach ani-cli intact', async () => {
      const e = await setUp(backend, [FMA, KINO, HARUHI], {downloads: {'Fullmetal Alchemist: Brotherhood': {noise: true, pad: 5000}}})
      const r = await download(e, ['--workers', '3', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout) as {done: number; failed: number; bytes_written: number; waiting_for_select: {anime: number}}
      expect(result.done).to.equal(7)
      expect(result.failed).to.equal(0)
      expect(result.waiting_for_select.anime).to.equal(0)

      // no shell ever saw a title: the markers a shell would have created do not exist
      expect(existsSync(path.join(e.work, 'pwned'))).to.equal(false)
      expect(existsSync(path.join(e.work, 'pwned2'))).to.equal(false)
      const downloads = aniCalls(e).filter((c) => c.args.includes('-d'))
      expect(downloads).to.have.length(7)
      const kino = downloads.filter((c) => c.args.at(-1) === KINO.record.title)
      expect(kino.map((c) => c.args.slice(0, -1))).to.have.deep.members([
        ['-d', '-q', 'worst', '-S', '2', '-e', '1'],
        ['-d', '-q', 'worst', '-S', '2', '-e', '2'],
      ])
      for (const c of downloads) {
        expect(c.player).to.equal('download')
        expect(c.hist, "history in a folder of the data folder's tmp/, named by the run's pid").to.match(/[/]tmp[/]ani\d+-\d+@/)
      }
      // one index check (a search without -d) per anime and run
      expect(aniCalls(e).filter((c) => !c.args.includes('-d'))).to.have.length(3)

      const videos = path.join(e.storage, 'videos')
      expect(filesUnder(videos)).to.deep.equal([
        '486/episodes/ep001.mp4',
        '486/episodes/ep002.mp4',
        '5114/episodes/ep001.mp4',
        '5114/episodes/ep002.mp4',
        '5114/episodes/ep003.mp4',
        '849/episodes/ep001.mp4',
        '849/episodes/ep002.mp4',
      ])
      expect(readdirSync(path.join(videos, '.downloading')), 'no download folder left').to.deep.equal([])
      await withQueue(e, async (q) => {
        let total = 0
        for (const id of [1, 2, 3, 4, 5, 6, 7]) {
          const job = (await q.jobs.getJob(id))!
          expect(job.stage).to.equal('downloaded')
          const file = path.join(e.storage, job.video_path!)
          expect(job.video_path).to.equal(`videos/${job.mal_id}/episodes/ep00${job.episode}.mp4`)
          expect(job.video_size_bytes).to.equal(statSync(file).size)
          expect(job.duration_seconds).to.equal(3)
          expect(job.video_host).to.be.a('string').and.not.equal('')
          total += job.video_size_bytes!
          const events = await q.jobs.events(id)
          const note = events.find((ev) => ev.event === 'note' && /exited 0/.test(ev.message ?? ''))
          expect(note, 'each attempt is in the history').to.not.equal(undefined)
          expect(note!.message, 'no terminal codes stored').to.not.match(/\u001B/)
        }
        expect(result.bytes_written).to.equal(total)
        // the padded show's files carry the padding
        expect((await q.jobs.getJob(1))!.video_size_bytes).to.be.greaterThan((await q.jobs.getJob(4))!.video_size_bytes! + 4000)
        const sel = (await q.selections.get(5114))!
        expect(sel.index_checked_at).to.be.a('string')
      })
    })

    it('uses the new index when the title moved in the list, and fails the anime whose title is gone', async () => {
      const steins: Show = {
        record: {mal_id: 9253, title: 'Steins;Gate', episodes_total: 24},
        episodes: 2,
        selection: {selected_index: 1, selected_title: 'Steins;Gate', selected_episodes: 24, confidence: 'high'},
      }
      const gone: Show = {
        record: {mal_id: 77, title: 'Vanished Show', episodes_total: 12},
        episodes: 3,
        selection: {selected_index: 2, selected_title: 'Vanished Show', confidence: 'high'},
      }
      const e = await setUp(backend, [steins, gone], {
        searches: {
          // a new entry with the same title came first; the menu shows counts, which tell them apart
          'Steins;Gate': [
            {title: 'Steins;Gate 0', episodes: 23},
            {title: 'Steins;Gate', episodes: 1},
            {title: 'Steins;Gate', episodes: 24},
          ],
          'Vanished Show': [
            {title: 'Vanished Show Recap', episodes: 1},
            {title: 'Something Else', episodes: 12},
          ],
        },
      })
      const data = JSON.parse(readFileSync(e.searches, 'utf8')) as {countsInMenu?: boolean}
      data.countsInMenu = true
      writeFileSync(e.searches, JSON.stringify(data))
      const r = await download(e, ['--workers', '2'])
      expect(r.code, r.stderr).to.equal(1)
      expect(r.stderr).to.match(/"Steins;Gate" moved from #1 to #3/)
      const steinsCalls = aniCalls(e).filter((c) => c.args.includes('-d') && c.args.at(-1) === 'Steins;Gate')
      expect(steinsCalls.map((c) => c.args[4])).to.deep.equal(['3', '3'])
      expect(aniCalls(e).filter((c) => c.args.includes('-d') && c.args.at(-1) === 'Vanished Show')).to.have.length(0)
      await withQueue(e, async (q) => {
        const sel = (await q.selections.get(9253))!
        expect(sel.selected_index).to.equal(3)
        expect(sel.moved_from_index).to.equal(1)
        for (const id of [1, 2]) expect((await q.jobs.getJob(id))!.stage).to.equal('downloaded')
        for (const id of [3, 4, 5]) {
          const job = (await q.jobs.getJob(id))!
          expect(job.stage).to.equal('failed')
          expect(job.error_message).to.match(/"Vanished Show" is no longer in ani-cli's results.*select --force --anime-id 77/)
        }
      })
    })

    it('leaves anime without a usable selection queued and counts them; --anime-id touches one anime; --dry-run changes nothing', async () => {
      const low: Show = {
        record: {mal_id: 300, title: 'Low Show', episodes_total: 2},
        episodes: 2,
        selection: {selected_index: 1, selected_title: 'Low Show', confidence: 'low'},
      }
      const none: Show = {record: {mal_id: 301, title: 'Unselected Show', episodes_total: 2}, episodes: 2}
      const e = await setUp(backend, [FMA, KINO, low, none])
      const dry = await download(e, ['--dry-run', '--workers', '2'])
      expect(dry.code, dry.stderr).to.equal(0)
      expect(dry.stdout).to.include(`ani-cli ["-d","-q","worst","-S","2","-e","1",${JSON.stringify(KINO.record.title)}]`)
      expect(dry.stdout).to.include('ANI_CLI_PLAYER=download')
      expect(dry.stdout).to.match(/2 anime \(4 episode\(s\)\) wait for `animezipf select`: 1 not selected yet, 1 below min_confidence medium/)
      expect(dry.stdout).to.match(/would claim 5 job/)
      expect(aniCalls(e), 'a dry run runs no ani-cli').to.have.length(0)
      await withQueue(e, async (q) => expect(await q.stats.jobsPerStage()).to.include({queued: 9, downloaded: 0}))

      const one = await download(e, ['--anime-id', '486', '--json'])
      expect(one.code, one.stderr).to.equal(0)
      expect(JSON.parse(one.stdout)).to.include({done: 2})
      await withQueue(e, async (q) => expect(await q.stats.jobsPerStage()).to.include({queued: 7, downloaded: 2}))
      expect(filesUnder(path.join(e.storage, 'videos')).every((f) => f.startsWith('486/'))).to.equal(true)

      const rest = await download(e, [])
      expect(rest.code, rest.stderr).to.equal(0)
      expect(rest.stdout).to.match(/download: 3 done/)
      expect(rest.stdout).to.match(/2 anime \(4 episode\(s\)\) wait for `animezipf select`/)
      await withQueue(e, async (q) => expect(await q.stats.jobsPerStage()).to.include({queued: 4, downloaded: 5}))
      const unknown = await download(e, ['--anime-id', '999999'])
      expect(unknown.code).to.equal(2)
      expect(unknown.stderr).to.match(/no anime with MyAnimeList id 999999/)
    })
  })
}

describe('download failures (CLI)', function () {
  this.timeout(120_000)

  it('retries bad downloads with the reason in the history, then fails them; never marks a bad file downloaded', async () => {
    const shows: Show[] = ['Empty', 'Playlist', 'Flaky', 'Unreleased', 'Outage', 'Mute', 'Short', 'Sourceless'].map((t, i) => ({
      record: {mal_id: 1000 + i, title: t, episodes_total: 12, duration_minutes: t === 'Short' ? 24 : null},
      episodes: 1,
      selection: {selected_index: 1, selected_title: SINGLE_RESULT_TEXT, confidence: 'high'},
    }))
    const searches = Object.fromEntries(shows.map((s) => [s.record.title, [{title: s.record.title, episodes: 12}]]))
    const e = await setUp('sqlite', shows, {
      searches,
      downloads: {
        Empty: 'nofile',
        Playlist: 'playlist',
        Flaky: {flaky: 2, fail: 'nofile', then: 'ok'},
        Unreleased: 'notreleased',
        Outage: 'http503',
        Mute: {kind: 'noaudio', pad: 5000},
        Short: 'ok',
        Sourceless: 'nosources',
      },
    })
    const r = await download(e, ['--workers', '4', '--json'])
    expect(r.code, r.stderr).to.equal(1)
    const result = JSON.parse(r.stdout) as {done: number; failed: number; retried: number}
    expect(result.done).to.equal(1)
    expect(result.failed).to.equal(7)
    await withQueue(e, async (q) => {
      const byTitle = new Map<string, Awaited<ReturnType<Queue['jobs']['getJob']>>>()
      for (let id = 1; id <= 8; id++) {
        const job = await q.jobs.getJob(id)
        byTitle.set(job!.anime_title, job)
      }
      const expectFailed = (title: string, pattern: RegExp, attempts: number) => {
        const job = byTitle.get(title)!
        expect(job.stage, title).to.equal('failed')
        expect(job.error_message, title).to.match(pattern)
        expect(job.attempts, `${title} attempts`).to.equal(attempts)
        expect(job.video_path, title).to.equal(null)
      }
      // max_retries 2: three attempts for what may pass later, one for what cannot
      expectFailed('Empty', /exited 0 but wrote no file \(ani-cli said: ERROR: unable to download video data: HTTP Error 403/, 3)
      expectFailed('Playlist', /wrote only \d+ bytes .*an error page or a playlist/, 3)
      expectFailed('Unreleased', /Episode not released!/, 1)
      expectFailed('Outage', /HTTP 503/, 3)
      expectFailed('Mute', /no audio stream/, 3)
      expectFailed('Short', /lasts 0:03, MyAnimeList says 24 min per episode: truncated/, 3)
      expectFailed('Sourceless', /Episode is released, but no valid sources!/, 3)
      const flaky = byTitle.get('Flaky')!
      expect(flaky.stage).to.equal('downloaded')
      expect(flaky.attempts).to.equal(3)
      const events = await q.jobs.events(flaky.id)
      expect(events.filter((ev) => ev.event === 'note' && /exited 0/.test(ev.message ?? ''))).to.have.length(3)
      expect(events.filter((ev) => ev.event === 'retry').map((ev) => ev.message)).to.have.length(2)
      const empty = await q.jobs.events(byTitle.get('Empty')!.id)
      expect(empty.filter((ev) => ev.event === 'note').map((ev) => ev.message)).to.satisfy(
        (m: string[]) => m.length === 3 && m.every((x) => /HTTP Error 403/.test(x)),
      )
    })
    expect(filesUnder(path.join(e.storage, 'videos'))).to.deep.equal(['1002/episodes/ep001.mp4'])
  })

  it('kills a hung ani-cli and everything it started at the timeout, and removes its folder', async () => {
    const hung: Show = {
      record: {mal_id: 42, title: 'Hung', episodes_total: 3},
      episodes: 1,
      selection: {selected_index: 1, selected_title: SINGLE_RESULT_TEXT, confidence: 'high'},
    }
    const e = await setUp('sqlite', [hung], {searches: {Hung: [{title: 'Hung', episodes: 3}]}, downloads: {Hung: 'hang'}})
    const pids = path.join(e.work, 'pids')
    const r = await download(e, ['--json'], {ANIMEZIPF_DOWNLOAD_TIMEOUT_SECONDS: '1', FAKE_ANI_CLI_PIDS: pids})
    expect(r.code, r.stderr).to.equal(1)
    await withQueue(e, async (q) => {
      const job = (await q.jobs.getJob(1))!
      expect(job.stage).to.equal('failed')
      expect(job.error_message).to.match(/did not finish in 1s \(killed with everything it started\); it last said: Checking dependencies/)
    })
    // three attempts (max_retries 2), each an ani-cli and the helper it started
    const started = readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number)
    expect(started).to.have.length(6)
    for (const pid of started) expect(processRunning(pid), `pid ${pid}`).to.equal(false)
    expect(filesUnder(path.join(e.storage, 'videos'))).to.deep.equal([])
  })

  it('stops the run with one line when ani-cli cannot download on this machine, leaving the jobs as they were', async () => {
    const e = await setUp('sqlite', [FMA], {downloads: {'Fullmetal Alchemist: Brotherhood': 'nodownloader'}})
    const r = await download(e, ['--workers', '1'])
    expect(r.code).to.equal(2)
    expect(r.stdout + r.stderr).to.match(/download stopped: ani-cli cannot download here: Neither yt-dlp nor ffmpeg found \(install yt-dlp or ffmpeg/)
    expect(r.stderr).to.not.match(/\n\s+at /)
    expect(aniCalls(e).filter((c) => c.args.includes('-d'))).to.have.length(1)
    await withQueue(e, async (q) => {
      for (const id of [1, 2, 3]) {
        const job = (await q.jobs.getJob(id))!
        expect(job.stage).to.equal('queued')
        expect(job.retry_count).to.equal(0)
      }
    })
  })

  it('on Ctrl-C mid-download leaves no partial file and puts the job back in queued', async () => {
    const slow: Show = {
      record: {mal_id: 55, title: 'Slow', episodes_total: 3},
      episodes: 1,
      selection: {selected_index: 1, selected_title: SINGLE_RESULT_TEXT, confidence: 'high'},
    }
    const e = await setUp('sqlite', [slow], {searches: {Slow: [{title: 'Slow', episodes: 3}]}, downloads: {Slow: {ms: 60_000, pad: 200_000}}})
    const child = spawn(process.execPath, [BIN, 'download', '--data-dir', e.data], {
      cwd: e.work,
      env: {...process.env, NO_COLOR: '1', ...e.env, ANIMEZIPF_QUEUE_SHUTDOWN_GRACE_SECONDS: '1'},
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)))
    const partial = path.join(e.storage, 'videos', '.downloading')
    const t0 = Date.now()
    while (!filesUnder(partial).some((f) => f.endsWith('.part'))) {
      if (Date.now() - t0 > 30_000) throw new Error(`no partial file appeared: ${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGINT')
    const code = await exited
    expect(code, stderr).to.equal(130)
    expect(filesUnder(path.join(e.storage, 'videos')), 'nothing left under videos/').to.deep.equal([])
    await withQueue(e, async (q) => {
      const job = (await q.jobs.getJob(1))!
      expect(job.stage).to.equal('queued')
      expect(job.lease_owner).to.equal(null)
      expect(job.retry_count).to.equal(0)
    })
  })

  it('on a second Ctrl-C exits at once, giving the job back and marking its workers stopped', async () => {
    // the download would take an hour and the grace period is a day: only the second Ctrl-C can end
    // the run before this test's timeout (the hang guard; no wall time is asserted)
    const slow: Show = {
      record: {mal_id: 56, title: 'Slower', episodes_total: 3},
      episodes: 1,
      selection: {selected_index: 1, selected_title: SINGLE_RESULT_TEXT, confidence: 'high'},
    }
    const e = await setUp('sqlite', [slow], {searches: {Slower: [{title: 'Slower', episodes: 3}]}, downloads: {Slower: {ms: 3_600_000, pad: 200_000}}})
    const child = spawn(process.execPath, [BIN, 'download', '--data-dir', e.data], {
      cwd: e.work,
      env: {...process.env, NO_COLOR: '1', ...e.env, ANIMEZIPF_QUEUE_SHUTDOWN_GRACE_SECONDS: '86400'},
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)))
    const partial = path.join(e.storage, 'videos', '.downloading')
    const t0 = Date.now()
    while (!filesUnder(partial).some((f) => f.endsWith('.part'))) {
      if (Date.now() - t0 > 30_000) throw new Error(`no partial file appeared: ${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGINT')
    await new Promise((r) => setTimeout(r, 200))
    child.kill('SIGINT')
    expect(await exited, stderr).to.equal(130)
    await withQueue(e, async (q) => {
      expect((await q.jobs.getJob(1))!).to.include({stage: 'queued', lease_owner: null, retry_count: 0})
      const workers = await q.sql.all<{status: string}>(`SELECT status FROM workers`)
      expect(workers.map((w) => w.status)).to.deep.equal(['stopped'])
    })
  })

  it('removes the download folder a killed process left behind', async () => {
    const e = await setUp('sqlite', [HARUHI])
    const stale = path.join(e.storage, 'videos', '.downloading', `j1-999999@${(await import('node:os')).hostname()}-abcdef`)
    mkdirSync(stale, {recursive: true})
    writeFileSync(path.join(stale, 'x.mp4.part'), Buffer.alloc(1000))
    const r = await download(e, [])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.match(/removed the download folder of a process that died/)
    expect(existsSync(stale)).to.equal(false)
  })
})

describe('download and the disk (CLI)', function () {
  this.timeout(180_000)

  it('pauses at the threshold, resumes when space is freed, and never passes the hard limit', async () => {
    const shows: Show[] = [
      {
        record: {mal_id: 7, title: 'Big Show', episodes_total: 12},
        episodes: 12,
        selection: {selected_index: 1, selected_title: SINGLE_RESULT_TEXT, confidence: 'high'},
      },
    ]
    const e = await setUp('sqlite', shows, {searches: {'Big Show': [{title: 'Big Show', episodes: 12}]}, downloads: {'Big Show': {pad: 300_000, ms: 400}}})
    const videos = path.join(e.storage, 'videos')
    const usage = () => {
      let n = 0
      for (const dir of [videos, e.data]) {
        const walk = (d: string) => {
          if (!existsSync(d)) return
          for (const x of readdirSync(d, {withFileTypes: true})) {
            const p = path.join(d, x.name)
            try {
              if (x.isDirectory()) walk(p)
              else n += statSync(p).size
            } catch {
              // deleted meanwhile
            }
          }
        }
        walk(dir)
      }
      return n
    }
    let peak = 0
    let deleted = 0
    const sampler = setInterval(() => (peak = Math.max(peak, usage())), 10)
    // the transcriber's part: free one episode every 600 ms
    const transcriber = setInterval(() => {
      const done = filesUnder(videos).filter((f) => /episodes\/ep\d+\.mp4$/.test(f))
      if (done.length > 0) {
        rmSync(path.join(videos, done[0]!))
        deleted++
      }
    }, 600)
    const hard = 1.6e6
    const r = await download(e, ['--workers', '4', '--json'], {
      ANIMEZIPF_DISK_MANAGEMENT_HARD_LIMIT_GB: String(hard / 1e9),
      ANIMEZIPF_DISK_MANAGEMENT_PAUSE_THRESHOLD_GB: String(1.2e6 / 1e9),
      ANIMEZIPF_DISK_MANAGEMENT_RESUME_THRESHOLD_GB: String(0.7e6 / 1e9),
      ANIMEZIPF_DISK_MANAGEMENT_MIN_FREE_GB: '0',
      ANIMEZIPF_DISK_MANAGEMENT_CACHE_DURATION_SECONDS: '0',
      ANIMEZIPF_DISK_MANAGEMENT_CHECK_INTERVAL_SECONDS: '1',
      ANIMEZIPF_DOWNLOAD_TYPICAL_EPISODE_MB: '1',
    })
    clearInterval(sampler)
    clearInterval(transcriber)
    expect(r.code, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout) as {done: number; disk: {pauses: number; paused_seconds: number}}
    expect(result.done).to.equal(12)
    expect(result.disk.pauses).to.be.greaterThan(0)
    expect(r.stderr).to.match(/downloads paused: .*(pause threshold|hard limit)/)
    expect(r.stderr).to.match(/downloads resume/)
    expect(deleted).to.be.greaterThan(0)
    expect(peak, `peak ${peak} bytes`).to.be.at.most(hard)
    expect(peak).to.be.greaterThan(0.5e6)
    await withQueue(e, async (q) => {
      const pauses = await q.pauses.recent(100)
      expect(pauses.length).to.equal(result.disk.pauses)
      expect(pauses.every((p) => p.ended_at !== null)).to.equal(true)
    })
  })

  it('ends when its limit is reached or nothing is left, even while the disk is over the threshold', async () => {
    const show: Show = {
      record: {mal_id: 8, title: 'Filler', episodes_total: 3},
      episodes: 3,
      selection: {selected_index: 1, selected_title: SINGLE_RESULT_TEXT, confidence: 'high'},
    }
    const e = await setUp('sqlite', [show], {searches: {Filler: [{title: 'Filler', episodes: 3}]}, downloads: {Filler: {pad: 600_000}}})
    // one episode takes the disk over the pause threshold; the run must not wait for space it will never use
    // a run that waited for space would look again only after a day: past this test's timeout (the
    // hang guard; no wall time is asserted)
    const over = {
      ANIMEZIPF_DISK_MANAGEMENT_PAUSE_THRESHOLD_GB: '0.0005',
      ANIMEZIPF_DISK_MANAGEMENT_RESUME_THRESHOLD_GB: '0.0004',
      ANIMEZIPF_DISK_MANAGEMENT_MIN_FREE_GB: '0',
      ANIMEZIPF_DISK_MANAGEMENT_CACHE_DURATION_SECONDS: '0',
      ANIMEZIPF_DOWNLOAD_TYPICAL_EPISODE_MB: '1',
      ANIMEZIPF_DISK_MANAGEMENT_CHECK_INTERVAL_SECONDS: '86400',
    }
    const limited = await download(e, ['--limit', '1', '--workers', '1', '--json'], over)
    expect(limited.code, limited.stderr).to.equal(0)
    expect(JSON.parse(limited.stdout)).to.include({done: 1})
    // the rest: one is fetched, then the threshold holds the other back while nothing runs; with
    // the other two gone (failed elsewhere) nothing is left to wait for
    await withQueue(e, (q) => q.sql.run(`UPDATE jobs SET stage = 'failed', failed_stage = 'downloading' WHERE id IN (2, 3)`))
    const empty = await download(e, ['--workers', '2'], over)
    expect(empty.code, empty.stderr).to.equal(0)
  })

  it('closes the pause a killed process left open, and kills what it left running in its folder', async () => {
    const e = await setUp('sqlite', [HARUHI])
    const {hostname} = await import('node:os')
    await withQueue(e, (q) => q.pauses.start(hostname(), `${hostname()}:999999`, 'left open by a kill -9', 123))
    const folder = path.join(e.storage, 'videos', '.downloading', `j1-999998@${hostname()}-zzzzzz`)
    mkdirSync(folder, {recursive: true})
    // an orphan of the killed process: its group leader names the folder in its environment
    const orphan = spawn('sleep', ['300'], {detached: true, stdio: 'ignore', env: {...process.env, ANI_CLI_DOWNLOAD_DIR: folder}})
    writeFileSync(path.join(folder, '.pgid'), String(orphan.pid))
    // and one that is not ours, under a recorded pid it does not match: left alone
    const stranger = spawn('sleep', ['300'], {detached: true, stdio: 'ignore'})
    const other = path.join(e.storage, 'videos', '.downloading', `j2-999997@${hostname()}-yyyyyy`)
    mkdirSync(other, {recursive: true})
    writeFileSync(path.join(other, '.pgid'), String(stranger.pid))
    try {
      const r = await download(e, [], {ANIMEZIPF_QUEUE_HOST_ID: hostname()})
      expect(r.code, r.stderr).to.equal(0)
      await new Promise((res) => setTimeout(res, 200))
      expect(processRunning(orphan.pid!), 'the orphan is killed').to.equal(false)
      expect(processRunning(stranger.pid!), 'a process that is not ours is left alone').to.equal(true)
      expect(existsSync(folder)).to.equal(false)
      expect(existsSync(other)).to.equal(false)
      await withQueue(e, async (q) => {
        const [pause] = await q.pauses.recent(1)
        expect(pause!.ended_at).to.not.equal(null)
      })
    } finally {
      for (const p of [orphan, stranger]) {
        try {
          process.kill(-p.pid!, 'SIGKILL')
        } catch {
          // gone
        }
      }
    }
  })

  it('with --no-wait exits 75 over the pause threshold, records the pause, and leaves the jobs queued', async () => {
    const e = await setUp('sqlite', [FMA])
    mkdirSync(path.join(e.storage, 'videos', '1', 'episodes'), {recursive: true})
    writeFileSync(path.join(e.storage, 'videos', '1', 'episodes', 'ep001.mp4'), Buffer.alloc(3_000_000))
    const r = await download(e, ['--no-wait'], {
      ANIMEZIPF_DISK_MANAGEMENT_PAUSE_THRESHOLD_GB: '0.002',
      ANIMEZIPF_DISK_MANAGEMENT_RESUME_THRESHOLD_GB: '0.001',
      ANIMEZIPF_DISK_MANAGEMENT_MIN_FREE_GB: '0',
    })
    expect(r.code, r.stderr).to.equal(75)
    expect(r.stdout, r.stdout).to.match(/downloads stopped for disk space \(--no-wait\): 3\.\d+ MB used, at or over the pause threshold of 2\.00 MB/)
    await withQueue(e, async (q) => {
      expect(await q.stats.jobsPerStage()).to.include({queued: 3})
      const [pause] = await q.pauses.recent(1)
      expect(pause!.reason).to.match(/pause threshold/)
      expect(pause!.ended_at).to.not.equal(null)
    })
    const st = await runCliAsync(['status', '--data-dir', e.data, '--json'], {env: e.env, cwd: e.work})
    const status = JSON.parse(st.stdout) as {downloads: {pauses_last_day: number; last_pause: {reason: string} | null}}
    expect(status.downloads.pauses_last_day).to.equal(1)
    expect(status.downloads.last_pause!.reason).to.match(/pause threshold/)
  })
})
