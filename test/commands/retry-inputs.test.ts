// retry goes back past a stage whose input is gone: a failed tokenize without its transcript, a
// failed analyze without its tokens. The real CLI on a real queue (both backends), real files.
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {freshQueueTarget, runCliAsync, tempDir, withQueue} from '../helpers.js'
import {BACKENDS} from '../pg.js'

const HOST = 'test-host'

function write(root: string, rel: string): string {
  const file = path.join(root, rel)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, Buffer.alloc(100, 1))
  return rel
}

for (const backend of BACKENDS) {
  describe(`retry: jobs whose input is gone (CLI) [${backend}]`, function () {
    this.timeout(60_000)

    it('a failed tokenize whose transcript is gone goes back further than transcribed, a failed analyze whose tokens are gone further than tokenized', async () => {
      const work = tempDir()
      const data = path.join(work, 'data')
      mkdirSync(data, {recursive: true})
      const target = await freshQueueTarget(backend)
      const e = {target}
      const env = {ANIMEZIPF_QUEUE_URL: backend === 'postgres' ? target : `sqlite:${target}`, ANIMEZIPF_QUEUE_HOST_ID: HOST}
      const rel = (kind: 'video' | 'transcript' | 'tokens', ep: number) =>
        kind === 'video'
          ? `videos/42/episodes/ep00${ep}.mp4`
          : kind === 'transcript'
            ? `transcripts/42/ep00${ep}.json.gz`
            : `tokens/42/ep00${ep}_tokens.json.gz`
      await withQueue(e, async (q) => {
        const animeId = await q.anime.upsert({mal_id: 42, title: 'Show'})
        await q.jobs.enqueue(
          Array.from({length: 6}, (_, i) => ({animeId, malId: 42, animeTitle: 'Show', episode: i + 1})),
          3,
        )
        const fail = (id: number, failed: string, fields: Record<string, string | null>) =>
          q.sql.run(
            `UPDATE jobs SET stage = 'failed', failed_stage = @failed, error_message = 'boom', retry_count = 0, video_host = @host${Object.keys(fields)
              .map((k) => `, ${k} = @${k}`)
              .join('')} WHERE id = @id`,
            {...fields, failed, host: HOST, id},
          )
        // 1: tokenize failed, transcript and video gone -> downloaded again
        await fail(1, 'tokenizing', {video_path: rel('video', 1), transcript_path: rel('transcript', 1)})
        // 2: tokenize failed, transcript gone, the video still there -> transcribed again
        await fail(2, 'tokenizing', {video_path: write(data, rel('video', 2)), transcript_path: rel('transcript', 2)})
        // 3: analyze failed, tokens gone, the transcript there -> tokenized again
        await fail(3, 'analyzing', {video_path: rel('video', 3), transcript_path: write(data, rel('transcript', 3)), tokens_path: rel('tokens', 3)})
        // 4: analyze failed, tokens and transcript gone, the video too -> downloaded again
        await fail(4, 'analyzing', {video_path: rel('video', 4), transcript_path: rel('transcript', 4), tokens_path: rel('tokens', 4)})
        // 5 and 6: their inputs are there -> back to the stage that failed
        await fail(5, 'tokenizing', {transcript_path: write(data, rel('transcript', 5))})
        await fail(6, 'analyzing', {transcript_path: write(data, rel('transcript', 6)), tokens_path: write(data, rel('tokens', 6))})
      })
      const expected = {1: 'queued', 2: 'downloaded', 3: 'transcribed', 4: 'queued', 5: 'transcribed', 6: 'tokenized'}

      const dry = await runCliAsync(['retry', '--dry-run', '--json', '--data-dir', data], {env, cwd: work})
      expect(dry.code, dry.stderr).to.equal(0)
      const plan = JSON.parse(dry.stdout) as {jobs: {job_id: number; to: string}[]}
      expect(Object.fromEntries(plan.jobs.map((j) => [j.job_id, j.to]))).to.deep.equal(expected)

      const r = await runCliAsync(['retry', '--json', '--data-dir', data], {env, cwd: work})
      expect(r.code, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout).revived).to.equal(6)
      await withQueue(e, async (q) => {
        const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map(async (id) => (await q.jobs.getJob(id))!))
        expect(Object.fromEntries(jobs.map((j) => [j.id, j.stage]))).to.deep.equal(expected)
        // what is gone is no longer named
        expect(jobs[0]).to.include({transcript_path: null, video_path: null})
        expect(jobs[1]).to.include({transcript_path: null, video_path: rel('video', 2)})
        expect(jobs[2]).to.include({tokens_path: null, transcript_path: rel('transcript', 3)})
        expect(jobs[3]).to.include({tokens_path: null, transcript_path: null, video_path: null})
        expect(jobs[5]).to.include({tokens_path: rel('tokens', 6)})
      })
    })
  })
}
