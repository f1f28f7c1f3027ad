// Claims made at the same instant on PostgreSQL, each on a connection of its own as on several
// machines: two selectors never take one anime, two analyzers never race on one (each claim of a
// round gets an anime of its own, whole, while enough are left).
import {expect} from 'chai'

import type {Queue} from '../../src/queue/index.js'
import {STAGES} from '../../src/queue/stages.js'
import {openAt} from '../helpers.js'
import {BACKENDS, freshPgDatabase} from '../pg.js'

const CLAIMERS = 8
const ANIME = 48

async function seedAnime(url: string, stage: 'queued' | 'tokenized', episodes: number): Promise<void> {
  const q = await openAt(url)
  try {
    for (let a = 1; a <= ANIME; a++) {
      const animeId = await q.anime.upsert({mal_id: 7000 + a, title: `Show ${a}`})
      await q.jobs.enqueue(
        Array.from({length: episodes}, (_, i) => ({animeId, malId: 7000 + a, animeTitle: `Show ${a}`, episode: i + 1, stage})),
        3,
      )
    }
  } finally {
    await q.close()
  }
}

/** Rounds in which every claimer claims at once, until a round claims nothing. */
async function rounds<T>(queues: Queue[], claim: (q: Queue, owner: string) => Promise<T | undefined>): Promise<(T | undefined)[][]> {
  const out: (T | undefined)[][] = []
  for (;;) {
    const round = await Promise.all(queues.map((q, i) => claim(q, `host-${i}:1:abcdef0${i}`)))
    out.push(round)
    if (round.every((r) => r === undefined)) return out
  }
}

if (BACKENDS.includes('postgres')) {
  describe('queue on PostgreSQL: claims at the same instant [postgres]', function () {
    this.timeout(120_000)
    let queues: Queue[] = []

    afterEach(async () => {
      for (const q of queues) await q.close()
      queues = []
    })

    it('two selectors never take one anime: every anime is claimed once, every claim of a full round gets one', async () => {
      const url = await freshPgDatabase()
      await seedAnime(url, 'queued', 1)
      queues = await Promise.all(Array.from({length: CLAIMERS}, () => openAt(url)))
      const all = await rounds(queues, async (q, owner) => (await q.selections.claim(owner, 600_000, {after: 0}))?.mal_id)
      const claimed = all.flat().filter((m): m is number => m !== undefined)
      expect(claimed, 'each anime once').to.have.length(ANIME)
      expect(new Set(claimed).size).to.equal(ANIME)
      // while enough were left, no claimer came back empty-handed
      for (const round of all.slice(0, ANIME / CLAIMERS))
        expect(
          round.every((m) => m !== undefined),
          `round ${JSON.stringify(round)}`,
        ).to.equal(true)
      // each lease names the one claimer that got the anime
      const owners = await queues[0]!.sql.all<{name: string; n: number}>(
        `SELECT name, COUNT(DISTINCT owner) AS n FROM run_locks WHERE name LIKE 'select:%' GROUP BY name`,
      )
      expect(owners).to.have.length(ANIME)
    })

    it('two analyzers never race on one anime: each claim of a full round gets a whole anime of its own', async () => {
      const url = await freshPgDatabase()
      await seedAnime(url, 'tokenized', 3)
      queues = await Promise.all(Array.from({length: CLAIMERS}, () => openAt(url)))
      const all = await rounds(queues, async (q, owner) => {
        const jobs = await q.jobs.claimAnime({stage: STAGES.analyze, owner, leaseMs: 600_000, whole: true})
        return jobs.length === 0 ? undefined : jobs
      })
      const claims = all.flat().filter((j): j is NonNullable<typeof j> => j !== undefined)
      expect(claims, 'one claim per anime').to.have.length(ANIME)
      for (const jobs of claims) {
        expect(
          jobs.map((j) => j.episode),
          `anime ${jobs[0]!.mal_id}`,
        ).to.deep.equal([1, 2, 3])
        expect(new Set(jobs.map((j) => j.mal_id)).size).to.equal(1)
      }
      expect(new Set(claims.map((jobs) => jobs[0]!.mal_id)).size).to.equal(ANIME)
      for (const round of all.slice(0, ANIME / CLAIMERS))
        expect(
          round.every((r) => r !== undefined),
          'no claimer came back empty while anime were left',
        ).to.equal(true)
      const claimedEvents = await queues[0]!.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'claimed'`)
      expect(claimedEvents!.n).to.equal(ANIME * 3)
    })
  })
}
