// cleanup on more jobs than one batch of its set-based statements: every eligible row changed, one
// event per job, nothing leased touched. In process (the service, not the CLI), on both backends.
import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Writable} from 'node:stream'

import {AppContext} from '../../src/app/context.js'
import {Output} from '../../src/app/output.js'
import {type Config, DEFAULTS} from '../../src/config/defaults.js'
import {cleanup} from '../../src/ops/cleanup.js'
import {DataPaths, episodeStem} from '../../src/paths.js'
import {BATCH} from '../../src/queue/maintenance.js'
import type {Queue} from '../../src/queue/index.js'
import {freshQueueTarget, openAt, tempDir} from '../helpers.js'
import {BACKENDS} from '../pg.js'

const HOST = 'test-host'
const MAL = 42
const JOBS = 1200
const LEASED = JOBS + 1
const DOWNLOADED = JOBS + 2

function write(file: string): string {
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, 'x')
  return file
}

function context(dataDir: string, target: string): AppContext {
  const config = structuredClone(DEFAULTS) as Config
  config.data.root_dir = dataDir
  config.data.storage_dir = dataDir
  config.queue.url = target.startsWith('postgres') ? target : `sqlite:${target}`
  config.queue.host_id = HOST
  const sink = new Writable({write: (_chunk, _enc, done) => done()})
  return new AppContext(config, undefined, new DataPaths(dataDir, dataDir), new Output({json: true, verbose: false, stdout: sink, stderr: sink}))
}

async function digestOf(q: Queue, sql: string): Promise<string> {
  return createHash('sha1')
    .update(JSON.stringify(await q.sql.all(sql)))
    .digest('hex')
}

for (const backend of BACKENDS) {
  describe(`cleanup in batches [${backend}]`, function () {
    this.timeout(120_000)

    it(`marks and frees the media of ${JOBS} jobs and sends back those whose tokens are gone (more than one batch of ${BATCH}), one event per job, nothing leased touched`, async () => {
      expect(JOBS / 2).to.be.greaterThan(BATCH)
      const data = path.join(tempDir(), 'data')
      const paths = new DataPaths(data, data)
      const target = await freshQueueTarget(backend)
      const videoOf = (ep: number) => write(path.join(paths.videoDir(MAL), `${episodeStem(ep)}.mp4`))
      const audioOf = (ep: number) => write(paths.audioFile(MAL, ep))
      // even episodes complete; odd ones tokenized with their tokens gone (sent back to transcribed,
      // then their media go too); every third has no audio, every fifth (else) no video recorded
      const q = await openAt(target)
      let leasedFiles: string[]
      let downloadedFiles: string[]
      try {
        const animeId = await q.anime.upsert({mal_id: MAL, title: 'Show'})
        const jobs = Array.from({length: JOBS}, (_, i) => {
          const ep = i + 1
          const noAudio = ep % 3 === 0
          const noVideo = !noAudio && ep % 5 === 0
          if (!noAudio) audioOf(ep)
          const fields = noVideo ? {} : {video_path: paths.storedVideo(videoOf(ep)), video_host: HOST}
          return {
            animeId,
            malId: MAL,
            animeTitle: 'Show',
            episode: ep,
            stage: ep % 2 === 0 ? ('complete' as const) : ('tokenized' as const),
            fields: {...fields, tokens_path: ep % 2 === 0 ? null : `tokens/${MAL}/${episodeStem(ep)}_tokens.json.gz`},
          }
        })
        // held by a live worker of another host (mid-tokenize): its row and files stay as they are
        leasedFiles = [videoOf(LEASED), audioOf(LEASED)]
        jobs.push({
          animeId,
          malId: MAL,
          animeTitle: 'Show',
          episode: LEASED,
          stage: 'tokenized',
          fields: {video_path: paths.storedVideo(leasedFiles[0]!), video_host: HOST, tokens_path: null},
        })
        // not transcribed yet: its media are its input
        downloadedFiles = [videoOf(DOWNLOADED), audioOf(DOWNLOADED)]
        jobs.push({
          animeId,
          malId: MAL,
          animeTitle: 'Show',
          episode: DOWNLOADED,
          stage: 'complete',
          fields: {video_path: paths.storedVideo(downloadedFiles[0]!), video_host: HOST, tokens_path: null},
        })
        await q.jobs.enqueue(jobs, 3)
        await q.sql.run(
          `UPDATE jobs SET stage = 'tokenizing', lease_owner = 'other-host:4242:live0001', lease_expires_at = '2999-01-01 00:00:00.000' WHERE episode = @ep`,
          {ep: LEASED},
        )
        await q.sql.run(`UPDATE jobs SET stage = 'downloaded' WHERE episode = @ep`, {ep: DOWNLOADED})
      } finally {
        await q.close()
      }
      const untouched = `SELECT * FROM jobs WHERE episode IN (${LEASED}, ${DOWNLOADED}) ORDER BY id`
      const before = await (async () => {
        const r = await openAt(target)
        try {
          return {
            rows: await digestOf(r, untouched),
            all: await digestOf(r, `SELECT * FROM jobs ORDER BY id`),
            events: (await r.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events`))!.n,
          }
        } finally {
          await r.close()
        }
      })()
      const files = (ep: number) => ({video: ep % 3 === 0 || ep % 5 !== 0, audio: ep % 3 !== 0})
      const expectedFiles = Array.from({length: JOBS}, (_, i) => files(i + 1)).reduce((n, f) => n + Number(f.video) + Number(f.audio), 0)

      // a dry run lists the same and changes nothing
      const dryCtx = context(data, target)
      const dry = (await cleanup(dryCtx, {dryRun: true, vacuum: false})).result as {moves: unknown[]; actions: {what: string}[]}
      await dryCtx.close()
      expect(dry.moves).to.have.length(JOBS / 2)
      const check = await openAt(target)
      try {
        expect(await digestOf(check, `SELECT * FROM jobs ORDER BY id`)).to.equal(before.all)
      } finally {
        await check.close()
      }

      const ctx = context(data, target)
      const r = (await cleanup(ctx, {dryRun: false, vacuum: false})).result as {moves: {job: number; to: string}[]; actions: {kind: string; what: string}[]}
      await ctx.close()
      expect(r.moves).to.have.length(JOBS / 2)
      expect(r.moves.every((m) => m.to === 'transcribed')).to.equal(true)
      expect(r.actions.filter((a) => a.kind === 'media')).to.have.length(expectedFiles)
      // the same files as the dry run listed (there the jobs sent back were still tokenized)
      const file = (a: {what: string}) => a.what.replace(/ \((?:tokenized|transcribed)\)/, '')
      expect(r.actions.map(file)).to.deep.equal(dry.actions.map(file))

      const q2 = await openAt(target)
      try {
        const rows = await q2.sql.all<{id: number; episode: number; stage: string; video_deleted: number; audio_deleted: number; tokens_path: string | null}>(
          `SELECT id, episode, stage, video_deleted, audio_deleted, tokens_path FROM jobs WHERE episode <= @n ORDER BY episode`,
          {n: JOBS},
        )
        expect(rows).to.have.length(JOBS)
        for (const row of rows) {
          const f = files(row.episode)
          expect({ep: row.episode, stage: row.stage, video: row.video_deleted, audio: row.audio_deleted, tokens: row.tokens_path}).to.deep.equal({
            ep: row.episode,
            stage: row.episode % 2 === 0 ? 'complete' : 'transcribed',
            video: f.video ? 1 : 0,
            audio: f.audio ? 1 : 0,
            tokens: null,
          })
        }
        // one cleanup event per job, with the stage it was seen in and what went; one move event per job sent back
        const events = await q2.sql.all<{job_id: number; stage: string; message: string; n: number}>(
          `SELECT e.job_id, e.stage, e.message, COUNT(*) OVER (PARTITION BY e.job_id) AS n FROM job_events e WHERE e.event = 'cleanup' ORDER BY e.job_id`,
        )
        expect(events).to.have.length(JOBS)
        const episodeOf = new Map(rows.map((row) => [row.id, row.episode]))
        for (const e of events) {
          const ep = episodeOf.get(e.job_id)!
          const f = files(ep)
          expect({n: e.n, stage: e.stage, message: e.message}).to.deep.equal({
            n: 1,
            stage: ep % 2 === 0 ? 'complete' : 'transcribed',
            message: `cleanup deleted the ${f.video && f.audio ? 'video and audio' : f.video ? 'video' : 'audio'}`,
          })
        }
        const recovered = await q2.sql.all<{job_id: number; stage: string; message: string}>(
          `SELECT job_id, stage, message FROM job_events WHERE event = 'recovered' ORDER BY job_id`,
        )
        expect(recovered).to.have.length(JOBS / 2)
        expect(new Set(recovered.map((e) => e.job_id)).size).to.equal(JOBS / 2)
        expect(recovered.every((e) => e.stage === 'transcribed' && e.message === 'cleanup: its tokens are gone: tokenized again')).to.equal(true)
        expect((await q2.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events`))!.n).to.equal(before.events + JOBS + JOBS / 2)
        // the leased job and the downloaded one: rows as they were, files there
        expect(await digestOf(q2, untouched)).to.equal(before.rows)
      } finally {
        await q2.close()
      }
      for (const f of [...leasedFiles, ...downloadedFiles]) expect(existsSync(f), f).to.equal(true)
      for (let ep = 1; ep <= JOBS; ep++) {
        expect(existsSync(path.join(paths.videoDir(MAL), `${episodeStem(ep)}.mp4`)), `video ${ep}`).to.equal(false)
        expect(existsSync(paths.audioFile(MAL, ep)), `audio ${ep}`).to.equal(false)
      }
    })

    it('the batch statements keep their fences: a job that moved on or is held is left out, and gets no event', async () => {
      const q = await openAt(await freshQueueTarget(backend))
      try {
        const animeId = await q.anime.upsert({mal_id: MAL, title: 'Show'})
        await q.jobs.enqueue(
          Array.from({length: JOBS}, (_, i) => ({animeId, malId: MAL, animeTitle: 'Show', episode: i + 1, stage: 'complete' as const})),
          3,
        )
        const ids = (await q.sql.all<{id: number}>(`SELECT id FROM jobs ORDER BY id`)).map((r) => r.id)
        // seen complete, then sent back (no longer past transcription); seen unleased, then claimed
        await q.sql.run(`UPDATE jobs SET stage = 'queued' WHERE id = @id`, {id: ids[700]})
        await q.sql.run(`UPDATE jobs SET lease_owner = 'other-host:4242:live0001', lease_expires_at = '2999-01-01 00:00:00.000' WHERE id = @id`, {id: ids[900]})
        const marked = await q.maintenance.markMediaDeleted(
          ids.map((id) => ({id, stage: 'complete' as const, video: true, audio: false, message: 'cleanup deleted the video'})),
        )
        expect(marked.size).to.equal(JOBS - 1)
        expect(marked.has(ids[700]!)).to.equal(false)
        expect(await q.sql.get(`SELECT video_deleted, audio_deleted FROM jobs WHERE id = @id`, {id: ids[700]})).to.deep.equal({
          video_deleted: 0,
          audio_deleted: 0,
        })
        expect(
          (await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM jobs WHERE video_deleted = @yes AND audio_deleted = @no`, {yes: 1, no: 0}))!.n,
        ).to.equal(JOBS - 1)

        const moved = await q.maintenance.moveJobs(
          ids
            .filter((id) => id !== ids[700])
            .map((id) => ({id, from: 'complete' as const, to: 'transcribed' as const, message: `cleanup: test ${id}`, clear: ['tokens' as const]})),
          {event: 'recovered'},
        )
        expect(moved.size).to.equal(JOBS - 2)
        expect(moved.has(ids[900]!)).to.equal(false)
        expect(await q.sql.get(`SELECT stage, lease_owner FROM jobs WHERE id = @id`, {id: ids[900]})).to.deep.equal({
          stage: 'complete',
          lease_owner: 'other-host:4242:live0001',
        })
        const events = await q.sql.all<{job_id: number; event: string; message: string}>(
          `SELECT job_id, event, message FROM job_events WHERE event IN ('cleanup', 'recovered') ORDER BY id`,
        )
        expect(events.filter((e) => e.event === 'cleanup').map((e) => e.job_id)).to.deep.equal(ids.filter((id) => id !== ids[700]))
        const recovered = events.filter((e) => e.event === 'recovered')
        expect(recovered.map((e) => e.job_id)).to.deep.equal(ids.filter((id) => id !== ids[700] && id !== ids[900]))
        expect(recovered.every((e) => e.message === `cleanup: test ${e.job_id}`)).to.equal(true)
      } finally {
        await q.close()
      }
    })
  })
}
