// A full disk: tokenize writing into a small tmpfs that fills up fails the job with "disk full",
// stops claiming more, leaves no partial file and no half-updated row, and exits 75; once space is
// freed the next run completes it.
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdirSync, rmSync, statfsSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {filesUnder, openAt, runCliAsync, seedDatabase, tempDir} from '../helpers.js'

describe('a full disk', function () {
  this.timeout(120_000)
  let mountPoint: string | undefined

  before(function () {
    const dir = tempDir()
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], {stdio: 'pipe'})
      mountPoint = dir
    } catch (error) {
      console.log(`      (skipped: a small tmpfs cannot be mounted here: ${(error as Error).message.split('\n')[0]})`)
      this.skip()
    }
  })

  const readOnly: string[] = []
  after(() => {
    for (const m of [...readOnly, mountPoint]) if (m) execFileSync('umount', ['-l', m], {stdio: 'pipe'})
  })

  it('fails the job with "disk full", leaves nothing half-written, exits 75, and completes once space is freed', async () => {
    const data = mountPoint!
    const db = path.join(tempDir(), 'jobs.db')
    const q = await openAt(db)
    const animeId = await q.anime.upsert({mal_id: 1, title: 'Full Disk'})
    const lines = ['今日はいい天気ですね。', '俺は行くぞ！', 'ちょっと待ってよ、兄さん。', 'これが真実だ。']
    const jobs = []
    for (let ep = 1; ep <= 3; ep++) {
      const rel = `transcripts/1/ep00${ep}.json.gz`
      mkdirSync(path.join(data, 'transcripts', '1'), {recursive: true})
      const segments = Array.from({length: 40}, (_, i) => ({id: i, start: i, end: i + 1, text: lines[i % lines.length]!, confidence: null}))
      writeFileSync(
        path.join(data, rel),
        gzipSync(
          JSON.stringify({
            anime_id: 1,
            episode: ep,
            duration_seconds: 40,
            language: 'ja',
            model: 'subtitles',
            segments,
            transcribed_at: new Date().toISOString(),
          }),
        ),
      )
      jobs.push({animeId, malId: 1, animeTitle: 'Full Disk', episode: ep, stage: 'transcribed' as const, fields: {transcript_path: rel}})
    }
    await q.jobs.enqueue(jobs, 3)
    await q.close()
    // fill the disk
    const s = statfsSync(data)
    writeFileSync(path.join(data, 'filler'), Buffer.alloc(s.bavail * s.bsize))
    const env = {
      ANIMEZIPF_QUEUE_URL: `sqlite:${db}`,
      ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
      ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '0',
      ANIMEZIPF_DISK_MANAGEMENT_MIN_FREE_GB: '0',
    }
    const before = filesUnder(data)
    const full = await runCliAsync(['tokenize', '--data-dir', data, '--workers', '1', '--json'], {env})
    expect(full.code, full.stderr + full.stdout).to.equal(75)
    expect(full.stdout + full.stderr, full.stdout + full.stderr).to.match(/disk full \(.*tokens\/1\/ep001_tokens\.json\.gz\): no space left on the device/)
    expect(filesUnder(data), 'no partial file').to.deep.equal(before)
    const check = await openAt(db)
    const rows = await Promise.all([1, 2, 3].map(async (id) => (await check.jobs.getJob(id))!))
    await check.close()
    // the one that hit the wall says so; it and the others wait in 'transcribed', untouched otherwise
    expect(rows.map((r) => r.stage)).to.deep.equal(['transcribed', 'transcribed', 'transcribed'])
    expect(rows.filter((r) => /disk full/.test(r.error_message ?? ''))).to.have.length(1)
    expect(rows.every((r) => r.tokens_path === null && r.lease_owner === null)).to.equal(true)

    rmSync(path.join(data, 'filler'))
    const freed = await runCliAsync(['tokenize', '--data-dir', data, '--workers', '1', '--json'], {env})
    expect(freed.code, freed.stderr).to.equal(0)
    expect((JSON.parse(freed.stdout) as {done: number}).done).to.equal(3)
    expect(filesUnder(path.join(data, 'tokens')).filter((f) => f.endsWith('_freq.csv'))).to.have.length(3)
  })

  it('a read-only output folder releases the job untouched and stops the run with one line (exit 2)', async () => {
    const root = path.join(tempDir(), 'data')
    const db = path.join(tempDir(), 'jobs.db')
    const q = await openAt(db)
    const animeId = await q.anime.upsert({mal_id: 2, title: 'Read Only'})
    const rel = 'transcripts/2/ep001.json.gz'
    mkdirSync(path.join(root, 'transcripts', '2'), {recursive: true})
    const segments = [{id: 0, start: 0, end: 1, text: '今日はいい天気ですね。', confidence: null}]
    writeFileSync(
      path.join(root, rel),
      gzipSync(
        JSON.stringify({anime_id: 2, episode: 1, duration_seconds: 1, language: 'ja', model: 'subtitles', segments, transcribed_at: new Date().toISOString()}),
      ),
    )
    await q.jobs.enqueue([{animeId, malId: 2, animeTitle: 'Read Only', episode: 1, stage: 'transcribed', fields: {transcript_path: rel}}], 3)
    await q.close()
    const tokens = path.join(root, 'tokens')
    mkdirSync(tokens, {recursive: true})
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', tokens], {stdio: 'pipe'})
    readOnly.push(tokens)
    const r = await runCliAsync(['tokenize', '--data-dir', root, '--workers', '1'], {env: {ANIMEZIPF_QUEUE_URL: `sqlite:${db}`}})
    expect(r.code, r.stderr + r.stdout).to.equal(2)
    expect(r.stdout + r.stderr).to.match(/tokenize stopped: cannot write \(.*tokens.*\): the filesystem is read-only/)
    const check = await openAt(db)
    const job = (await check.jobs.getJob(1))!
    await check.close()
    expect(job).to.include({stage: 'transcribed', retry_count: 0, lease_owner: null, tokens_path: null})
  })

  it('read-only commands work on a queue on a read-only filesystem', async () => {
    const dir = tempDir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], {stdio: 'pipe'})
    readOnly.push(dir)
    const data = path.join(dir, 'data')
    await seedDatabase(path.join(data, 'jobs.db'), 2, 3, 'transcribed')
    execFileSync('mount', ['-o', 'remount,ro', dir], {stdio: 'pipe'})
    const st = await runCliAsync(['status', '--data-dir', data, '--json'])
    expect(st.code, st.stderr).to.equal(0)
    expect((JSON.parse(st.stdout) as {jobs: {total: number}}).jobs.total).to.equal(6)
    const dry = await runCliAsync(['tokenize', '--data-dir', data, '--dry-run', '--json'])
    expect(dry.code, dry.stderr).to.equal(0)
    expect((JSON.parse(dry.stdout) as {would_claim: number}).would_claim).to.equal(6)
    // a writing command says what is wrong in one line
    const write = await runCliAsync(['retry', '--data-dir', data])
    expect(write.code).to.equal(2)
    expect(write.stderr.trim().split('\n')).to.have.length(1)
    expect(write.stderr).to.match(/cannot open the queue database .*jobs\.db for writing|read-only/)
  })
})
