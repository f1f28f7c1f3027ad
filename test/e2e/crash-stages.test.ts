// The proof of crash safety across the stages: download, transcribe, tokenize and analyze (with the
// stand-ins for ani-cli and whisper, real ffmpeg, kuromoji and SQLite) are killed with SIGKILL at
// seeded random moments, many times over; then cleanup, and two copies of each stage at once run
// everything to the end. Every job must end complete, every output valid and written once, no
// temp or orphan file left, and the sizes in the database equal to the files on disk.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Transcript} from '../../src/formats/transcript.js'
import {seededRandom} from '../../src/stages/analyze/optimize.js'
import {SINGLE_RESULT_TEXT} from '../../src/stages/select/ani-cli.js'
import {readTextFile} from '../../src/util/gzip-file.js'
import {testMedia} from '../fakes/media.js'
import {BIN, filesUnder, openAt, ROOT, runCliAsync, tempDir} from '../helpers.js'

const SHOWS = 3
const EPISODES = 6
const SEED = 20261122

describe('crash safety: kill -9 at random moments in every stage', function () {
  this.timeout(600_000)

  it('loses nothing and duplicates nothing; cleanup and the stages finish every job', async () => {
    const media = testMedia()
    const work = tempDir()
    const data = path.join(work, 'data')
    mkdirSync(path.join(data, 'models'), {recursive: true})
    writeFileSync(path.join(data, 'models', 'ggml-large-v3-turbo.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(100)]))
    const db = path.join(data, 'jobs.db')
    const q = await openAt(db)
    const searches: Record<string, unknown> = {}
    for (let s = 1; s <= SHOWS; s++) {
      const title = `Crash Show ${s}`
      const animeId = await q.anime.upsert({mal_id: 700 + s, title, episodes_total: EPISODES, genres: ['Drama'], studios: ['Test Studio']})
      await q.jobs.enqueue(
        Array.from({length: EPISODES}, (_, i) => ({animeId, malId: 700 + s, animeTitle: title, episode: i + 1})),
        50,
      )
      await q.selections.record({
        mal_id: 700 + s,
        anime_title: title,
        search_query: title,
        selected_index: 1,
        selected_title: SINGLE_RESULT_TEXT,
        confidence: 'high',
        reason: null,
        mal_episodes: EPISODES,
        selected_episodes: EPISODES,
        episode_match: 'exact',
        method: 'rule',
        model: null,
        api_calls: 0,
        cost_usd: 0,
      })
      searches[title] = [{title, episodes: EPISODES}]
    }
    await q.close()
    const fake = path.join(work, 'fake.json')
    writeFileSync(
      fake,
      JSON.stringify({
        searches,
        downloads: Object.fromEntries(Object.keys(searches).map((t) => [t, {random: {pad: [50_000, 400_000], ms: [300, 1200]}}])),
        media: media.episode,
      }),
    )
    const whisperData = path.join(work, 'whisper.json')
    writeFileSync(whisperData, JSON.stringify({default: 'slow', slowMs: 800}))
    const env: Record<string, string> = {
      PATH: `${path.join(ROOT, 'test', 'fakes', 'bin')}${path.delimiter}${process.env.PATH}`,
      FAKE_ANI_CLI_DATA: fake,
      FAKE_WHISPER_DATA: whisperData,
      ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: path.join(ROOT, 'test', 'fakes', 'bin', 'whisper-fake'),
      ANIMEZIPF_DOWNLOAD_MIN_BYTES: '2000',
      ANIMEZIPF_QUEUE_LEASE_SECONDS: '2',
      ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
      ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '0',
      NO_COLOR: '1',
    }
    const stages = [['download', '--workers', '3'], ['transcribe', '--workers', '2', '--threads', '1'], ['tokenize', '--workers', '1'], ['analyze']]
    const random = seededRandom(SEED)
    let kills = 0
    // the stages in pipeline order, over and over, each killed at a random moment (or left to end,
    // when it finishes first), until a dozen runs died mid-work (a busy machine needs more rounds)
    for (let round = 0; round < 80 && kills < 12; round++) {
      const args = stages[round % stages.length]!
      const delay = 100 + Math.floor(random() * 1800)
      const child = spawn(process.execPath, [BIN, ...args, '--data-dir', data], {cwd: work, env: {...process.env, ...env}, stdio: 'ignore'})
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
      let ended = false
      const timer = setTimeout(() => {
        if (ended) return
        kills++
        child.kill('SIGKILL')
      }, delay)
      await exited
      ended = true
      clearTimeout(timer)
    }
    expect(kills, 'runs killed mid-work').to.be.at.least(6)
    // the leases of the killed runs expire; cleanup recovers them and removes what they left
    await new Promise((r) => setTimeout(r, 2500))
    const cleaned = await runCliAsync(['cleanup', '--data-dir', data], {env, cwd: work})
    expect(cleaned.code, cleaned.stderr).to.equal(0)

    // two copies of each stage at once, in pipeline order, until everything is through
    for (const args of stages) {
      const [a, b] = await Promise.all([
        runCliAsync([...args, '--data-dir', data], {env, cwd: work}),
        runCliAsync([...args, '--data-dir', data], {env, cwd: work}),
      ])
      expect([a.code, b.code], a.stderr + b.stderr).to.satisfy((codes: number[]) => codes.every((c) => c === 0))
    }

    const check = await openAt(db)
    try {
      const byStage = await check.stats.jobsPerStage()
      expect(byStage, JSON.stringify(byStage)).to.include({complete: SHOWS * EPISODES})
      for (let id = 1; id <= SHOWS * EPISODES; id++) {
        const job = (await check.jobs.getJob(id))!
        expect(job.lease_owner).to.equal(null)
        const json = path.join(data, job.transcript_path!)
        const txt = json.replace('.json.gz', '.txt.gz')
        const transcript = JSON.parse(readTextFile(json)) as Transcript
        expect(transcript.segments.length).to.be.greaterThan(0)
        expect(job.transcript_size_bytes).to.equal(statSync(json).size + statSync(txt).size)
        const tokens = path.join(data, job.tokens_path!)
        const csv = tokens.replace(/_tokens\.json(\.gz)?$/, '_freq.csv')
        expect(job.tokens_size_bytes).to.equal(statSync(tokens).size + statSync(csv).size)
        expect(job.video_deleted).to.equal(1)
        expect(job.audio_deleted).to.equal(1)
        // finished once in each stage's last attempt: one 'finished' event per stage that counted
        const finishes = (await check.jobs.events(id)).filter((e) => e.event === 'finished').map((e) => e.stage)
        expect(
          finishes.filter((s) => s === 'complete'),
          `job ${id} completed once`,
        ).to.have.length(1)
      }
      // one analysis per anime, the aggregate once
      const analyzed = await check.analysis.analyzedAnime()
      expect(analyzed.map((a) => a.mal_id).sort()).to.deep.equal([701, 702, 703])
    } finally {
      await check.close()
    }
    // no temp, scratch or orphan file anywhere; the media are gone
    const all = filesUnder(data)
    expect(
      all.filter((f) => /\.tmp$|\.part$/.test(f)),
      'temp files',
    ).to.deep.equal([])
    expect(filesUnder(path.join(data, 'videos')), 'videos').to.deep.equal([])
    expect(filesUnder(path.join(data, 'audio')), 'audio').to.deep.equal([])
    expect(filesUnder(path.join(data, 'tmp')), 'scratch').to.deep.equal([])
    expect(filesUnder(path.join(data, 'transcripts')).filter((f) => f.endsWith('.json.gz'))).to.have.length(SHOWS * EPISODES)
    expect(filesUnder(path.join(data, 'tokens')).filter((f) => f.endsWith('_freq.csv'))).to.have.length(SHOWS * EPISODES)
    const again = await runCliAsync(['cleanup', '--data-dir', data, '--json'], {env, cwd: work})
    expect((JSON.parse(again.stdout) as {actions: unknown[]; moves: unknown[]}).actions, again.stdout).to.deep.equal([])
  })
})
