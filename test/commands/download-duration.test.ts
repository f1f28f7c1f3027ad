// download's check of a file against MyAnimeList's episode length: over three times it (plus two
// minutes) is a wrong selection, failed at once for review; within it, the file is kept. The real
// CLI, the fake ani-cli serving a 400-second file made with ffmpeg, the real ffprobe and queue.
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {SINGLE_RESULT_TEXT} from '../../src/stages/select/ani-cli.js'
import {ROOT, filesUnder, openAt, runCliAsync, tempDir, withQueue} from '../helpers.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')

describe('download: a file far longer than MyAnimeList says (CLI)', function () {
  this.timeout(120_000)

  it('fails at once, pointing at select --review; a file within three times the length is kept', async () => {
    const work = tempDir()
    const long = path.join(work, 'long.mp4')
    execFileSync(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        'color=c=black:s=16x16:r=1:d=400',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=8000:duration=400',
        '-shortest',
        '-c:v',
        'mpeg4',
        '-c:a',
        'aac',
        '-b:a',
        '8k',
        long,
      ],
      {stdio: 'pipe'},
    )
    const target = path.join(work, 'jobs.db')
    const q = await openAt(target)
    try {
      // 1 min per episode: 400 s is over 3 × 60 s + 2 min; 2 min per episode: 400 s is within 3 × 120 s + 2 min
      for (const [malId, title, minutes] of [
        [71, 'One Minute Show', 1],
        [72, 'Two Minute Show', 2],
      ] as const) {
        const animeId = await q.anime.upsert({mal_id: malId, title, episodes_total: 1, duration_minutes: minutes})
        await q.jobs.enqueue([{animeId, malId, animeTitle: title, episode: 1}], 3)
        await q.selections.record({
          mal_id: malId,
          anime_title: title,
          search_query: title,
          selected_index: 1,
          selected_title: SINGLE_RESULT_TEXT,
          confidence: 'high',
          reason: 'test',
          mal_episodes: 1,
          selected_episodes: 1,
          episode_match: 'exact',
          method: 'rule',
          model: null,
          api_calls: 0,
          cost_usd: 0,
        })
      }
    } finally {
      await q.close()
    }
    const searches = path.join(work, 'searches.json')
    writeFileSync(
      searches,
      JSON.stringify({
        searches: {'One Minute Show': [{title: 'One Minute Show', episodes: 1}], 'Two Minute Show': [{title: 'Two Minute Show', episodes: 1}]},
        downloads: {},
        media: long,
      }),
    )
    const storage = path.join(work, 'storage')
    const r = await runCliAsync(['download', '--data-dir', path.join(work, 'data'), '--json'], {
      cwd: work,
      env: {
        PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
        FAKE_ANI_CLI_DATA: searches,
        FAKE_ANI_CLI_STATE: work,
        ANIMEZIPF_QUEUE_URL: `sqlite:${target}`,
        ANIMEZIPF_DATA_STORAGE_DIR: storage,
        ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
        ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '0',
        ANIMEZIPF_DOWNLOAD_MIN_BYTES: '2000',
      },
    })
    expect(r.code, r.stderr).to.equal(1)
    expect(JSON.parse(r.stdout)).to.include({done: 1, failed: 1})
    await withQueue({target}, async (q2) => {
      const wrong = (await q2.jobs.getJob(1))!
      expect(wrong).to.include({stage: 'failed', attempts: 1, video_path: null})
      expect(wrong.error_message).to.match(
        /lasts 6:40, over three times MyAnimeList's 1 min per episode: is the selection the right show\? \(`animezipf select --review`\)/,
      )
      expect((await q2.jobs.getJob(2))!).to.include({stage: 'downloaded', duration_seconds: 400})
    })
    expect(filesUnder(path.join(storage, 'videos'))).to.deep.equal(['72/episodes/ep001.mp4'])
  })
})
