// cleanup --dry-run lists exactly what the real run then deletes, on the same tree: no more (a file
// the real run would keep) and no less. The real CLI, a real queue and real files of every kind.
import {expect} from 'chai'
import {mkdirSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {STAGES} from '../../src/queue/stages.js'
import {filesUnder, openAt, runCliAsync, tempDir, tree} from '../helpers.js'

const HOST = 'test-host'

interface Action {
  kind: string
  what: string
  bytes: number
}

describe('cleanup --dry-run (CLI)', function () {
  this.timeout(60_000)

  it('lists only and all of what the real run deletes, with the same sizes and moves', async () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000)
    const file = (rel: string, bytes: number, old = true) => {
      const p = path.join(data, rel)
      mkdirSync(path.dirname(p), {recursive: true})
      writeFileSync(p, Buffer.alloc(bytes, 1))
      if (old) utimesSync(p, twoHoursAgo, twoHoursAgo)
      return rel
    }
    const target = path.join(data, 'jobs.db')
    mkdirSync(data, {recursive: true})
    const q = await openAt(target)
    try {
      const animeId = await q.anime.upsert({mal_id: 42, title: 'Show'})
      await q.jobs.enqueue(
        Array.from({length: 6}, (_, i) => ({animeId, malId: 42, animeTitle: 'Show', episode: i + 1})),
        3,
      )
      const set = (id: number, fields: Record<string, string | number | null>) =>
        q.sql.run(
          `UPDATE jobs SET ${Object.keys(fields)
            .map((k) => `${k} = @${k}`)
            .join(', ')} WHERE id = @id`,
          {...fields, id},
        )
      // 1: transcribed, its video and audio still there: media to free
      await set(1, {
        stage: 'transcribed',
        video_host: HOST,
        video_path: file('videos/42/episodes/ep001.mp4', 3000),
        transcript_path: file('transcripts/42/ep001.json.gz', 100),
      })
      file('audio/42/ep001.wav', 2000)
      // 2: queued, with an old video of an earlier download: an orphan
      file('videos/42/episodes/ep002.mp4', 1500)
      // 3: being transcribed under a live lease: its video is left alone
      await set(3, {stage: 'downloaded', video_host: HOST, video_path: file('videos/42/episodes/ep003.mp4', 1200)})
      await q.jobs.claim({stage: STAGES.transcribe, owner: `${HOST}:1:live0001`, count: 1, leaseMs: 3_600_000})
      // 4: queued, with audio written a moment ago: too young to be an orphan
      file('audio/42/ep004.wav', 900, false)
      // 5: downloaded, but its video is gone: back to queued
      await set(5, {stage: 'downloaded', video_host: HOST, video_path: 'videos/42/episodes/ep005.mp4'})
      // 6: tokenized, its tokens gone: back to transcribed
      await set(6, {stage: 'tokenized', transcript_path: file('transcripts/42/ep006.json.gz', 100), tokens_path: 'tokens/42/ep006_tokens.json.gz'})
    } finally {
      await q.close()
    }
    // no job for episode 9: an orphan video; a transcript without a job is kept without --orphans
    file('videos/42/episodes/ep009.mp4', 1100)
    file('transcripts/42/ep099.json.gz', 100)
    // an interrupted write of a process of this host that is gone, and a dead download's folder
    file(`transcripts/42/.ep001.json.gz.999999@${hostname()}.abcdef01.tmp`, 50)
    file(`videos/.downloading/j1-999999@${hostname()}-abcdef/x.mp4.part`, 700)
    // a file that is not the project's, beside the videos
    file('videos/42/episodes/notes.txt', 10)

    const env = {ANIMEZIPF_QUEUE_URL: `sqlite:${target}`, ANIMEZIPF_QUEUE_HOST_ID: HOST}
    const before = tree(data)
    const dry = await runCliAsync(['cleanup', '--dry-run', '--json', '--data-dir', data], {env, cwd: work})
    expect(dry.code, dry.stderr).to.equal(0)
    expect(tree(data), 'a dry run changes nothing').to.deep.equal(before)
    const planned = JSON.parse(dry.stdout) as {actions: Action[]; moves: {job: number; to: string}[]}
    // the tree holds something of every kind, so the comparison below compares something
    expect(planned.actions.filter((a) => a.kind === 'media')).to.have.length(2)
    expect(planned.actions.filter((a) => a.kind === 'orphan').length).to.be.at.least(2)
    expect(planned.actions.filter((a) => a.kind === 'temporary').length).to.be.at.least(2)

    const filesBefore = filesUnder(data)
    const real = await runCliAsync(['cleanup', '--json', '--data-dir', data], {env, cwd: work})
    expect(real.code, real.stderr).to.equal(0)
    const done = JSON.parse(real.stdout) as {actions: Action[]; moves: {job: number; to: string}[]}
    const key = (a: Action) => `${a.kind} ${a.bytes} ${a.what}`
    expect(done.actions.map(key).sort()).to.deep.equal(planned.actions.map(key).sort())
    expect(done.moves).to.deep.equal(planned.moves)

    // what went is exactly what the dry run named; the rest is still there
    const filesAfter = new Set(filesUnder(data))
    const gone = filesBefore.filter((f) => !filesAfter.has(f) && f !== 'jobs.db-wal' && f !== 'jobs.db-shm')
    const named = (f: string) =>
      planned.actions.some((a) => a.what.includes(path.join(data, f)) || path.join(data, f).startsWith(a.what.replace(/ \(.*$/, '') + path.sep))
    expect(
      gone.filter((f) => !named(f)),
      'deleted without being listed',
    ).to.deep.equal([])
    expect(
      filesBefore.filter((f) => named(f) && filesAfter.has(f)),
      'listed but kept',
    ).to.deep.equal([])
    for (const kept of ['videos/42/episodes/ep003.mp4', 'audio/42/ep004.wav', 'transcripts/42/ep099.json.gz', 'transcripts/42/ep001.json.gz'])
      expect(filesAfter.has(kept), kept).to.equal(true)
  })
})
