// status figures that a wrong sum or a wrong threshold would change: waiting per anime leaves failed
// jobs out, and the disk state says paused between the pause threshold and the hard limit.
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {STAGES} from '../../src/queue/stages.js'
import {freshQueueTarget, runCliAsync, seedDatabase, tempDir, withQueue} from '../helpers.js'
import {BACKENDS} from '../pg.js'

for (const backend of BACKENDS) {
  describe(`status: progress per anime [${backend}]`, function () {
    this.timeout(60_000)

    it('waiting counts neither the failed, nor the running, nor the complete jobs', async () => {
      const target = await freshQueueTarget(backend)
      await seedDatabase(target, 1, 10, 'tokenized')
      await withQueue({target}, async (q) => {
        const stage = STAGES.analyze
        const [a, b, c] = await q.jobs.claim({stage, owner: 'w', count: 3, leaseMs: 600_000})
        await q.jobs.fail(a!.id, 'w', stage, 'boom', false, {baseMs: 1000, maxMs: 1000})
        await q.jobs.fail(b!.id, 'w', stage, 'boom', false, {baseMs: 1000, maxMs: 1000})
        await q.jobs.finish(c!.id, 'w', stage, {})
        await q.jobs.claim({stage, owner: 'w', count: 1, leaseMs: 600_000})
        const [progress] = await q.stats.animeProgress(10)
        expect(progress).to.include({total: 10, failed: 2, complete: 1, running: 1, waiting: 6})
      })
      const data = path.join(tempDir(), 'data')
      const r = await runCliAsync(['status', '--json', '--data-dir', data], {env: {ANIMEZIPF_QUEUE_URL: backend === 'postgres' ? target : `sqlite:${target}`}})
      expect(r.code, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout).anime_progress[0]).to.include({total: 10, failed: 2, complete: 1, running: 1, waiting: 6})
    })
  })
}

describe('status: the disk state', function () {
  this.timeout(60_000)

  it('ok under the pause threshold, paused between it and the hard limit, over_limit past the hard limit', async () => {
    const data = path.join(tempDir(), 'data')
    await seedDatabase(path.join(data, 'jobs.db'), 1, 1)
    // 3 MB of video: the temporary part of the use
    mkdirSync(path.join(data, 'videos', '1001', 'episodes'), {recursive: true})
    writeFileSync(path.join(data, 'videos', '1001', 'episodes', 'ep001.mp4'), Buffer.alloc(3_000_000))
    const state = async (pauseMb: number, hardMb: number) => {
      const r = await runCliAsync(['status', '--json', '--data-dir', data], {
        env: {
          ANIMEZIPF_DISK_MANAGEMENT_PAUSE_THRESHOLD_GB: String(pauseMb / 1000),
          ANIMEZIPF_DISK_MANAGEMENT_RESUME_THRESHOLD_GB: String(pauseMb / 2000),
          ANIMEZIPF_DISK_MANAGEMENT_HARD_LIMIT_GB: String(hardMb / 1000),
        },
      })
      expect(r.code, r.stderr).to.equal(0)
      const disk = JSON.parse(r.stdout).disk as {state: string; total_bytes: number}
      expect(disk.total_bytes).to.be.within(3_000_000, 3_900_000)
      return disk.state
    }
    expect(await state(10, 20)).to.equal('ok')
    expect(await state(2, 20)).to.equal('paused')
    expect(await state(1, 2)).to.equal('over_limit')
    const text = await runCliAsync(['status', '--data-dir', data], {
      env: {
        NO_COLOR: '1',
        ANIMEZIPF_DISK_MANAGEMENT_PAUSE_THRESHOLD_GB: '0.002',
        ANIMEZIPF_DISK_MANAGEMENT_RESUME_THRESHOLD_GB: '0.001',
        ANIMEZIPF_DISK_MANAGEMENT_HARD_LIMIT_GB: '0.02',
      },
    })
    expect(text.stdout).to.match(/total .*: downloads pause/)
  })
})
