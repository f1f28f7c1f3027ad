import {expect} from 'chai'
import path from 'node:path'

import {fixtureResult, openDatabase, seedDatabase, spawnFixture, tempDir} from '../helpers.js'

const collect = (child: ReturnType<typeof spawnFixture>) => fixtureResult<{claimed: number[]; finished: number[]}>(child)

describe('queue: many processes claiming at once', () => {
  it('hands every job to exactly one of 6 processes and loses none', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'jobs.db')
    const total = 40 * 75
    await seedDatabase(file, 40, 75)

    const children = Array.from({length: 6}, (_, i) => spawnFixture('claimer.ts', [file, String(i), String((i % 3) + 1)]))
    const results = await Promise.all(children.map(collect))

    const claimed = results.flatMap((r) => r.claimed)
    const finished = results.flatMap((r) => r.finished)
    expect(claimed).to.have.length(total)
    expect(new Set(claimed).size).to.equal(total)
    expect(finished).to.have.length(total)
    // more than one process got work: the test really ran concurrently
    expect(results.filter((r) => r.claimed.length > 0).length).to.be.greaterThan(1)

    const db = openDatabase(file)
    const byStage = db.prepare(`SELECT stage, COUNT(*) AS n FROM jobs GROUP BY stage`).all() as {stage: string; n: number}[]
    expect(byStage).to.deep.equal([{stage: 'downloaded', n: total}])
    const claims = db.prepare(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'claimed'`).get() as {n: number}
    const finishes = db.prepare(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'finished'`).get() as {n: number}
    expect(claims.n).to.equal(total)
    expect(finishes.n).to.equal(total)
    const attempts = db.prepare(`SELECT MAX(attempts) AS m, MIN(attempts) AS n FROM jobs`).get() as {m: number; n: number}
    expect(attempts).to.deep.equal({m: 1, n: 1})
    db.close()
  })
})
