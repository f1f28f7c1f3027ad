// What transcribe deletes after a transcript, and when it must not: `delete_video_after_transcription
// = false` keeps the video; a worker that lost its lease deletes nothing. The real CLI, real ffmpeg,
// the whisper stand-in, the real queue.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {testMedia} from '../fakes/media.js'
import {BIN, ROOT, filesUnder, openAt, runCliAsync, tempDir, withQueue} from '../helpers.js'

const FAKE_WHISPER = path.join(ROOT, 'test', 'fakes', 'bin', 'whisper-fake')
const HOST = 'test-host'

/** One downloaded episode with its video on this host; whisper hears `scenario`. */
async function setUp(scenario: string, slowMs = 0) {
  const work = tempDir()
  const data = path.join(work, 'data')
  const storage = path.join(work, 'storage')
  mkdirSync(path.join(data, 'models'), {recursive: true})
  writeFileSync(path.join(data, 'models', 'ggml-large-v3-turbo.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(1000)]))
  const target = path.join(data, 'jobs.db')
  const stored = 'videos/9/episodes/ep001.mp4'
  mkdirSync(path.dirname(path.join(storage, stored)), {recursive: true})
  copyFileSync(testMedia().episode, path.join(storage, stored))
  const q = await openAt(target)
  try {
    const animeId = await q.anime.upsert({mal_id: 9, title: 'Media Show'})
    await q.jobs.enqueue(
      [
        {
          animeId,
          malId: 9,
          animeTitle: 'Media Show',
          episode: 1,
          stage: 'downloaded',
          fields: {video_path: stored, video_size_bytes: statSync(path.join(storage, stored)).size, video_host: HOST, duration_seconds: 3},
        },
      ],
      2,
    )
  } finally {
    await q.close()
  }
  const whisperLog = path.join(work, 'whisper.log')
  const scenarios = path.join(work, 'whisper.json')
  writeFileSync(scenarios, JSON.stringify({scenarios: {'9/ep001.wav': scenario}, slowMs}))
  return {
    work,
    data,
    target,
    video: path.join(storage, stored),
    audio: path.join(data, 'audio', '9', 'ep001.wav'),
    whisperLog,
    env: {
      ANIMEZIPF_QUEUE_URL: `sqlite:${target}`,
      ANIMEZIPF_QUEUE_HOST_ID: HOST,
      ANIMEZIPF_DATA_STORAGE_DIR: storage,
      ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: FAKE_WHISPER,
      FAKE_WHISPER_DATA: scenarios,
      FAKE_WHISPER_LOG: whisperLog,
    },
  }
}

describe('transcribe: the media after the transcript (CLI)', function () {
  this.timeout(120_000)

  it('delete_video_after_transcription = false keeps the video and deletes the audio', async () => {
    const e = await setUp('normal')
    const r = await runCliAsync(['transcribe', '--data-dir', e.data, '--json'], {
      env: {...e.env, ANIMEZIPF_DISK_MANAGEMENT_CLEANUP_DELETE_VIDEO_AFTER_TRANSCRIPTION: 'false'},
      cwd: e.work,
    })
    expect(r.code, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout)).to.include({done: 1})
    expect(existsSync(e.video), 'the video is kept').to.equal(true)
    expect(existsSync(e.audio), 'the audio goes').to.equal(false)
    await withQueue(e, async (q) => expect((await q.jobs.getJob(1))!).to.include({stage: 'transcribed', video_deleted: 0, audio_deleted: 1}))
  })

  it('a worker that lost its lease while whisper ran deletes neither the video nor the audio', async () => {
    const e = await setUp('slow', 3000)
    const child = spawn(process.execPath, [BIN, 'transcribe', '--data-dir', e.data], {cwd: e.work, env: {...process.env, NO_COLOR: '1', ...e.env}})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
    // whisper is running (its usage probe, then the episode): another worker takes the job over
    while (!existsSync(e.whisperLog) || readFileSync(e.whisperLog, 'utf8').trim().split('\n').length < 2) await new Promise((r) => setTimeout(r, 20))
    await withQueue(e, (q) => q.sql.run(`UPDATE jobs SET lease_owner = 'other-host:1:0123abcd' WHERE id = 1`))
    await exited
    expect(existsSync(e.video), `the video is still there: ${stderr}`).to.equal(true)
    expect(existsSync(e.audio), 'the audio is still there').to.equal(true)
    expect(filesUnder(path.dirname(e.video))).to.deep.equal(['ep001.mp4'])
    await withQueue(e, async (q) =>
      expect((await q.jobs.getJob(1))!).to.include({stage: 'transcribing', lease_owner: 'other-host:1:0123abcd', video_deleted: 0}),
    )
  })
})
