// retry, cleanup and doctor: the real CLI on a real queue (both backends where it matters) and real files.
import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {filesUnder, freshQueueTarget, openAt, ROOT, runCliAsync, tempDir, withQueue} from '../helpers.js'
import {BACKENDS} from '../pg.js'

const HOST = 'test-host'

interface Env {
  work: string
  data: string
  target: string
  env: Record<string, string>
}

async function setUp(backend: 'sqlite' | 'postgres', episodes: number): Promise<Env> {
  const work = tempDir()
  const data = path.join(work, 'data')
  mkdirSync(data, {recursive: true})
  const target = backend === 'postgres' ? await freshQueueTarget('postgres') : path.join(data, 'jobs.db')
  const q = await openAt(target)
  try {
    const animeId = await q.anime.upsert({mal_id: 42, title: 'Show'})
    await q.jobs.enqueue(
      Array.from({length: episodes}, (_, i) => ({animeId, malId: 42, animeTitle: 'Show', episode: i + 1})),
      3,
    )
  } finally {
    await q.close()
  }
  return {work, data, target, env: {ANIMEZIPF_QUEUE_URL: backend === 'postgres' ? target : `sqlite:${target}`, ANIMEZIPF_QUEUE_HOST_ID: HOST}}
}

/** Set a job's row directly (the states a crash or a failure leaves). */
async function setJob(e: Env, id: number, fields: Record<string, string | number | null>): Promise<void> {
  await withQueue(e, (q) =>
    q.sql.run(
      `UPDATE jobs SET ${Object.keys(fields)
        .map((k) => `${k} = @${k}`)
        .join(', ')} WHERE id = @id`,
      {...fields, id},
    ),
  )
}

function write(file: string, bytes: number): string {
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, Buffer.alloc(bytes, 1))
  return file
}

/** Rows of jobs (and their events) as one digest: "the database is unchanged". */
async function digest(e: Env): Promise<string> {
  return withQueue(e, async (q) => {
    const jobs = await q.sql.all(`SELECT * FROM jobs ORDER BY id`)
    const events = await q.sql.all(`SELECT COUNT(*) AS n FROM job_events`)
    return createHash('sha1')
      .update(JSON.stringify([jobs, events]))
      .digest('hex')
  })
}

const cli = (e: Env, args: string[], extra: Record<string, string> = {}) =>
  runCliAsync([...args, '--data-dir', e.data], {env: {...e.env, ...extra}, cwd: e.work})

for (const backend of BACKENDS) {
  describe(`retry (CLI) [${backend}]`, function () {
    this.timeout(60_000)

    it('sends failed jobs back to the stage that failed, or earlier when its input is gone; --force, --reset-count and the filters', async () => {
      const e = await setUp(backend, 6)
      const video = write(path.join(e.data, 'videos', '42', 'episodes', 'ep001.mp4'), 1000)
      const transcript = write(path.join(e.data, 'transcripts', '42', 'ep004.json.gz'), 100)
      await setJob(e, 1, {
        stage: 'failed',
        failed_stage: 'transcribing',
        error_message: 'whisper exited 10: boom',
        retry_count: 1,
        video_path: 'videos/42/episodes/ep001.mp4',
        video_host: HOST,
      })
      await setJob(e, 2, {
        stage: 'failed',
        failed_stage: 'transcribing',
        error_message: 'whisper exited 10: boom',
        retry_count: 1,
        video_path: 'videos/42/episodes/ep002.mp4',
        video_host: HOST,
      })
      await setJob(e, 3, {stage: 'failed', failed_stage: 'downloading', error_message: 'ani-cli: Episode not released!', retry_count: 0})
      await setJob(e, 4, {
        stage: 'failed',
        failed_stage: 'tokenizing',
        error_message: 'transcript is empty',
        retry_count: 0,
        transcript_path: path.relative(e.data, transcript),
      })
      await setJob(e, 5, {stage: 'failed', failed_stage: 'downloading', error_message: 'HTTP 503', retry_count: 3})
      // failed by lease recovery: it kept killing its workers, its retry count untouched
      await setJob(e, 6, {
        stage: 'failed',
        failed_stage: 'tokenizing',
        error_message: 'lease of h:1:abcdef01 expired (worker died or hung) 4 times',
        retry_count: 0,
        expiries: 4,
      })
      expect(existsSync(video)).to.equal(true)

      const before = await digest(e)
      const dry = await cli(e, ['retry', '--dry-run', '--json'])
      expect(dry.code, dry.stderr).to.equal(0)
      const plan = JSON.parse(dry.stdout) as {would_revive: number; at_max_retries: number; jobs: {job_id: number; to: string}[]}
      expect(plan.would_revive).to.equal(4)
      expect(plan.at_max_retries).to.equal(2)
      // --error is plain text: a LIKE wildcard matches nothing
      const wild = await cli(e, ['retry', '--dry-run', '--json', '--error', '_'])
      expect((JSON.parse(wild.stdout) as {failed: number}).failed).to.equal(0)
      expect(Object.fromEntries(plan.jobs.map((j) => [j.job_id, j.to]))).to.deep.equal({1: 'downloaded', 2: 'queued', 3: 'queued', 4: 'transcribed'})
      expect(await digest(e), 'a dry run changes nothing').to.equal(before)

      const filtered = await cli(e, ['retry', '--stage', 'transcribe', '--error', 'BOOM'])
      expect(filtered.code, filtered.stderr).to.equal(0)
      expect(filtered.stdout).to.match(/revived 2 failed job/)
      expect(filtered.stdout).to.match(/2 {2}transcribing +whisper exited 10: boom {2}-> downloaded 1, queued 1/)
      await withQueue(e, async (q) => {
        const one = (await q.jobs.getJob(1))!
        expect(one).to.include({stage: 'downloaded', retry_count: 1, failed_stage: null, error_message: null, video_path: 'videos/42/episodes/ep001.mp4'})
        const two = (await q.jobs.getJob(2))!
        expect(two).to.include({stage: 'queued', video_path: null, video_host: null})
        const events = await q.jobs.events(1)
        expect(events.at(-1)).to.include({event: 'revived', stage: 'downloaded'})
        expect(events.at(-1)!.message).to.match(
          /failed in transcribing \(whisper exited 10: boom\): transcribed again; the video \(or its audio\) is still there/,
        )
        expect((await q.jobs.getJob(3))!.stage).to.equal('failed')
      })

      const rest = await cli(e, ['retry'])
      expect(rest.stdout).to.match(/revived 2 failed job/)
      expect(rest.stdout).to.match(/2 failed job\(s\) used up their retries \(max_retries, or their lease expired that often\): add --force/)
      const forced = await cli(e, ['retry', '--force', '--reset-count', '--anime-id', '42'])
      expect(forced.stdout).to.match(/revived 2 failed job/)
      await withQueue(e, async (q) => {
        expect((await q.jobs.getJob(4))!.stage).to.equal('transcribed')
        expect((await q.jobs.getJob(5))!).to.include({stage: 'queued', retry_count: 0})
      })
      const none = await cli(e, ['retry'])
      expect(none.stdout).to.match(/retry: nothing to do/)
      const unknown = await cli(e, ['retry', '--anime-id', '999999'])
      expect(unknown.code).to.equal(2)
      expect(unknown.stderr).to.match(/no anime with MyAnimeList id 999999/)
    })

    it('--stage select lets select try again the anime whose selection failed or found nothing', async () => {
      const e = await setUp(backend, 1)
      await withQueue(e, async (q) => {
        await q.anime.upsert({mal_id: 43, title: 'Nothing Found'})
        await q.selections.recordAttempt(42, 'ani-cli timed out', false, {baseMs: 3_600_000, maxMs: 3_600_000})
        await q.selections.record({
          mal_id: 43,
          anime_title: 'Nothing Found',
          search_query: 'Nothing Found',
          selected_index: 0,
          selected_title: '',
          confidence: 'no_candidates',
          reason: 'No results found!',
          mal_episodes: null,
          selected_episodes: null,
          episode_match: null,
          method: 'none',
          model: null,
          api_calls: 0,
          cost_usd: 0,
        })
      })
      const r = await cli(e, ['retry', '--stage', 'select'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/let select try 2 anime again/)
      await withQueue(e, async (q) => {
        expect(await q.selections.attempts(42)).to.equal(undefined)
        expect(await q.selections.get(43)).to.equal(undefined)
      })
    })
  })

  describe(`cleanup (CLI) [${backend}]`, function () {
    this.timeout(60_000)

    it('recovers jobs, frees media, temp and orphan files, lists it all in a dry run first, and touches nothing live', async () => {
      const e = await setUp(backend, 6)
      const d = e.data
      // 1: its worker died (lease expired long ago)
      await setJob(e, 1, {
        stage: 'transcribing',
        lease_owner: 'dead-host:1:abcdef01',
        lease_expires_at: '2000-01-01 00:00:00.000',
        video_path: 'videos/42/episodes/ep001.mp4',
        video_host: HOST,
      })
      write(path.join(d, 'videos', '42', 'episodes', 'ep001.mp4'), 1000)
      // 2: downloaded, but its video is gone
      await setJob(e, 2, {stage: 'downloaded', video_path: 'videos/42/episodes/ep002.mp4', video_host: HOST, video_size_bytes: 5000})
      // 3: transcribed, its video and audio still there (a --keep-media run)
      await setJob(e, 3, {stage: 'transcribed', video_path: 'videos/42/episodes/ep003.mp4', video_host: HOST, transcript_path: 'transcripts/42/ep003.json.gz'})
      write(path.join(d, 'videos', '42', 'episodes', 'ep003.mp4'), 3000)
      write(path.join(d, 'audio', '42', 'ep003.wav'), 2000)
      write(path.join(d, 'transcripts', '42', 'ep003.json.gz'), 100)
      // 4: downloading under a live lease, its file renamed into place a moment before the finish
      await setJob(e, 4, {stage: 'downloading', lease_owner: `${hostname()}:${process.pid}:live0001`, lease_expires_at: '2999-01-01 00:00:00.000'})
      write(path.join(d, 'videos', '42', 'episodes', 'ep004.mp4'), 4000)
      // orphans: a video and a transcript of an episode no job has; a transcript of a job is kept
      const aged = (file: string) => {
        const past = new Date(Date.now() - 2 * 3_600_000)
        utimesSync(file, past, past)
        return file
      }
      aged(write(path.join(d, 'videos', '42', 'episodes', 'ep099.mp4'), 9000))
      aged(write(path.join(d, 'transcripts', '42', 'ep099.json.gz'), 99))
      write(path.join(d, 'transcripts', '42', 'ep005.json.gz'), 55)
      // an orphan written a moment ago (an import between its files and its rows): left alone
      write(path.join(d, 'videos', '42', 'episodes', 'ep098.mp4'), 800)
      // temporary: a dead process's download folder and temp file; a live process's are kept
      write(path.join(d, 'videos', '.downloading', `j5-999999@${hostname()}-abcdef`, 'x.mp4.part'), 700)
      write(path.join(d, 'videos', '.downloading', `j6-${process.pid}@${hostname()}-ghijkl`, 'y.mp4.part'), 600)
      write(path.join(d, 'transcripts', '42', `.ep006.json.gz.999999@${hostname()}.0a1b2c3d.tmp`), 66)
      // another host's temp file on a shared folder: its own business
      write(path.join(d, 'transcripts', '42', '.ep007.json.gz.999999@another-host.0a1b2c3d.tmp'), 77)

      const treeBefore = filesUnder(d).filter((f) => !f.startsWith('jobs.db'))
      const before = await digest(e)
      const dry = await cli(e, ['cleanup', '--dry-run', '--orphans'])
      expect(dry.code, dry.stderr).to.equal(0)
      expect(dry.stdout).to.match(
        /would free 14\.9 KB \(media 5\.00 KB, temporary 766 B, orphans 9\.10 KB\); 1 job\(s\) would go back; 1 expired lease\(s\) would be recovered/,
      )
      expect(dry.stdout).to.match(/job 2: downloaded -> queued: its video videos\/42\/episodes\/ep002\.mp4 is gone/)
      expect(filesUnder(d).filter((f) => !f.startsWith('jobs.db'))).to.deep.equal(treeBefore)
      expect(await digest(e)).to.equal(before)

      const r = await cli(e, ['cleanup', '--json', '--vacuum', '--orphans'])
      expect(r.code, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout) as {bytes_freed: number; recovered: number; vacuumed: boolean; bytes_by_kind: Record<string, number>}
      expect(result).to.include({recovered: 1, vacuumed: true})
      expect(result.bytes_by_kind).to.deep.equal({media: 5000, temporary: 766, orphan: 9099})
      expect(filesUnder(d).filter((f) => !f.startsWith('jobs.db'))).to.deep.equal([
        'transcripts/42/.ep007.json.gz.999999@another-host.0a1b2c3d.tmp',
        'transcripts/42/ep003.json.gz',
        'transcripts/42/ep005.json.gz',
        `videos/.downloading/j6-${process.pid}@${hostname()}-ghijkl/y.mp4.part`,
        'videos/42/episodes/ep001.mp4',
        'videos/42/episodes/ep004.mp4',
        'videos/42/episodes/ep098.mp4',
      ])
      await withQueue(e, async (q) => {
        expect((await q.jobs.getJob(1))!).to.include({stage: 'downloaded', lease_owner: null})
        expect((await q.jobs.getJob(2))!).to.include({stage: 'queued', video_path: null})
        expect((await q.jobs.getJob(3))!).to.include({stage: 'transcribed', video_deleted: 1, audio_deleted: 1})
        expect((await q.jobs.getJob(4))!).to.include({stage: 'downloading'})
      })
      const again = await cli(e, ['cleanup'])
      expect(again.stdout).to.match(/^cleanup: nothing to delete$/m)
    })

    it('deletes only its own files inside the resolved data folders: never through a link, a row pointing outside, or a name it did not make', async () => {
      const e = await setUp(backend, 6)
      const d = e.data
      const outside = path.join(e.work, 'home')
      const aged = (file: string, days = 2) => {
        const past = new Date(Date.now() - days * 86_400_000)
        utimesSync(file, past, past)
        return file
      }
      // the user's folders linked in as an anime's episodes and audio, holding names cleanup would make
      const userVideos = path.join(outside, 'Videos')
      const userMusic = path.join(outside, 'Music')
      aged(write(path.join(userVideos, 'ep001.mp4'), 1000))
      aged(write(path.join(userVideos, 'ep009.mp4'), 1000))
      aged(write(path.join(userVideos, 'holiday.mp4'), 1000))
      aged(write(path.join(userMusic, 'ep001.wav'), 1000))
      aged(write(path.join(userMusic, 'song.wav'), 1000))
      mkdirSync(path.join(d, 'videos', '42'), {recursive: true})
      symlinkSync(userVideos, path.join(d, 'videos', '42', 'episodes'))
      mkdirSync(path.join(d, 'audio'), {recursive: true})
      symlinkSync(userMusic, path.join(d, 'audio', '42'))
      // 1: transcribed, its video and audio seemingly there (through the links)
      await setJob(e, 1, {stage: 'transcribed', video_path: 'videos/42/episodes/ep001.mp4', video_host: HOST, transcript_path: 'transcripts/42/ep001.json.gz'})
      // 2 and 3: rows naming files outside the data folder, absolute and relative
      const absolute = aged(write(path.join(outside, 'absolute.mp4'), 1000))
      const relative = aged(write(path.join(outside, 'ep003.mp4'), 1000))
      await setJob(e, 2, {stage: 'transcribed', video_path: absolute, video_host: HOST, transcript_path: 'transcripts/42/ep002.json.gz'})
      await setJob(e, 3, {stage: 'complete', video_path: path.relative(d, relative), video_host: HOST, transcript_path: 'transcripts/42/ep003.json.gz'})
      for (const ep of [1, 2, 3]) write(path.join(d, 'transcripts', '42', `ep00${ep}.json.gz`), 10)
      // inside the data folder: names it did not make, two days old, of an episode no job has
      const mine = [
        aged(write(path.join(d, 'transcripts', '42', 'ep099_mine.json'), 10)),
        aged(write(path.join(d, 'transcripts', '42', 'notes.txt'), 10)),
        aged(write(path.join(d, 'tokens', '42', 'ep099_freq.csv.bak'), 10)),
        aged(write(path.join(d, 'videos', '43', 'episodes', 'notes.txt'), 10)),
      ]
      // its own orphan beside them is still removed
      const own = aged(write(path.join(d, 'transcripts', '42', 'ep099.json.gz'), 10))

      const before = [...filesUnder(outside)]
      const dry = await cli(e, ['cleanup', '--dry-run', '--orphans', '--json'])
      expect(dry.code, dry.stderr).to.equal(0)
      const planned = (JSON.parse(dry.stdout) as {actions: {what: string}[]}).actions.map((a) => a.what)
      const r = await cli(e, ['cleanup', '--orphans', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const out = JSON.parse(r.stdout) as {actions: {what: string}[]; notes: string[]}
      expect(out.actions.map((a) => a.what)).to.deep.equal([`${own} (no job for this episode)`])
      expect(planned).to.deep.equal(out.actions.map((a) => a.what))
      expect(out.notes.filter((n) => /is not its episode's file/.test(n))).to.have.length(2)
      expect(filesUnder(outside)).to.deep.equal(before)
      for (const f of mine) expect(existsSync(f), f).to.equal(true)
      expect(existsSync(own)).to.equal(false)
      // the rows do not claim a deletion that did not happen
      await withQueue(e, async (q) => {
        for (const id of [1, 2, 3]) expect((await q.jobs.getJob(id))!, `job ${id}`).to.include({video_deleted: 0})
      })
    })

    it('touches no file when the queue is empty (a wrong --data-dir or [queue] url), and keeps the corpus without --orphans', async () => {
      const e = await setUp(backend, 1)
      const d = e.data
      const past = new Date(Date.now() - 2 * 3_600_000)
      for (const f of ['transcripts/42/ep050.json.gz', 'tokens/42/ep050_freq.csv', 'videos/42/episodes/ep050.mp4']) {
        write(path.join(d, f), 100)
        utimesSync(path.join(d, f), past, past)
      }
      const kept = await cli(e, ['cleanup', '--json'])
      const out = JSON.parse(kept.stdout) as {actions: {what: string}[]; notes: string[]}
      expect(out.actions.map((a) => a.what)).to.deep.equal([`${path.join(d, 'videos/42/episodes/ep050.mp4')} (no job for this episode)`])
      expect(out.notes).to.deep.equal(['2 transcript or tokens file(s) belong to no job: kept (`--orphans` removes them)'])
      expect(filesUnder(d).filter((f) => !f.startsWith('jobs.db'))).to.deep.equal(['tokens/42/ep050_freq.csv', 'transcripts/42/ep050.json.gz'])
      // another queue, empty: nothing at all is removed
      const elsewhere = backend === 'postgres' ? await freshQueueTarget('postgres') : path.join(tempDir(), 'empty.db')
      const empty = await runCliAsync(['cleanup', '--orphans', '--json', '--data-dir', d], {
        env: {...e.env, ANIMEZIPF_QUEUE_URL: backend === 'postgres' ? elsewhere : `sqlite:${elsewhere}`},
        cwd: e.work,
      })
      const none = JSON.parse(empty.stdout) as {actions: unknown[]; notes: string[]}
      expect(none.actions).to.deep.equal([])
      expect(none.notes[0]).to.match(/the queue has no jobs: files without a job were left alone/)
      expect(filesUnder(d).filter((f) => !f.startsWith('jobs.db'))).to.deep.equal(['tokens/42/ep050_freq.csv', 'transcripts/42/ep050.json.gz'])
    })
  })
}

describe('a busy queue (CLI)', function () {
  this.timeout(60_000)

  it('a write lock held too long by another process is exit 75, one line, nothing changed', async () => {
    const e = await setUp('sqlite', 2)
    // another process holds the write lock
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3'))}); const db = new D(${JSON.stringify(e.target)}); db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setTimeout(() => {}, 60000)`,
      ],
      {stdio: ['ignore', 'pipe', 'inherit']},
    )
    try {
      await new Promise<void>((resolve) => holder.stdout.on('data', () => resolve()))
      const r = await cli(e, ['retry', '--force'], {ANIMEZIPF_QUEUE_BUSY_TIMEOUT_SECONDS: '1'})
      expect(r.code).to.equal(75)
      expect(r.stderr.trim()).to.match(
        /^animezipf: the queue is busy: another animezipf process has held its write lock too long \(run again later, or raise \[queue\] busy_timeout_seconds\)$/,
      )
    } finally {
      holder.kill('SIGKILL')
    }
  })
})

describe('doctor (CLI)', function () {
  this.timeout(60_000)

  it('says what each stage needs, one line per check with its fix, exit 0 only when the required ones pass, never a key', async () => {
    const e = await setUp('sqlite', 1)
    const env = {
      PATH: `${path.join(ROOT, 'test', 'fakes', 'bin')}${path.delimiter}${process.env.PATH}`,
      ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: path.join(ROOT, 'test', 'fakes', 'bin', 'whisper-fake'),
      ANTHROPIC_API_KEY: 'sk-ant-doctor-SECRET-123456',
    }
    const missing = await cli(e, ['doctor', '--stage', 'transcribe'], env)
    expect(missing.code).to.equal(1)
    expect(missing.stdout).to.match(
      /FAIL {2}whisper model: whisper model "large-v3-turbo" is not at .* — run `animezipf transcribe --download-model large-v3-turbo`/,
    )
    expect(missing.stdout).to.match(/ok {4}ffmpeg: /)
    expect(missing.stdout).to.not.match(/ani-cli/)
    write(path.join(e.data, 'models', 'ggml-large-v3-turbo.bin'), 8)
    writeFileSync(path.join(e.data, 'models', 'ggml-large-v3-turbo.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(100)]))
    const ready = await cli(e, ['doctor', '--stage', 'transcribe', '--json'], env)
    expect(ready.code, ready.stdout).to.equal(0)
    const report = JSON.parse(ready.stdout) as {ok: boolean; checks: {name: string; status: string}[]}
    expect(report.ok).to.equal(true)
    expect(report.checks.map((c) => c.name)).to.include.members(['node', 'sqlite', 'root_dir', 'queue', 'ffmpeg', 'whisper', 'whisper model'])
    const all = await cli(e, ['doctor'], env)
    expect(all.stdout).to.match(/ok {4}ANTHROPIC_API_KEY: set \(its value is not shown\)/)
    expect(all.stdout + all.stderr + ready.stdout).to.not.include('SECRET')
    expect(all.stdout).to.match(/ani-cli: .*test\/fakes\/bin\/ani-cli/)
    // a data folder that is a file is one line with the fix, for doctor as for every command
    const bad = await runCliAsync(['doctor', '--data-dir', path.join(e.data, 'models', 'ggml-large-v3-turbo.bin')], {
      env: {...env, ANIMEZIPF_QUEUE_URL: ''},
      cwd: e.work,
    })
    expect(bad.code).to.equal(2)
    expect(bad.stderr.trim()).to.match(/^animezipf: --data-dir .* is a file, not a folder \(point --data-dir at a folder/)
  })
})
