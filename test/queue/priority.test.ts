// The claim's order on both engines: the highest priority first when fewer are claimed than wait,
// then the oldest.
import {expect} from 'chai'

import type {Queue} from '../../src/queue/index.js'
import {STAGES} from '../../src/queue/stages.js'
import {freshQueueTarget, openAt} from '../helpers.js'
import {BACKENDS} from '../pg.js'

async function seed(q: Queue): Promise<void> {
  // the ordinary episodes come first; the urgent ones, and the recaps (negative priority), later
  const plain = await q.anime.upsert({mal_id: 100, title: 'Plain'})
  await q.jobs.enqueue(
    Array.from({length: 6}, (_, i) => ({animeId: plain, malId: 100, animeTitle: 'Plain', episode: i + 1})),
    3,
  )
  const recap = await q.anime.upsert({mal_id: 200, title: 'Recaps'})
  await q.jobs.enqueue(
    [1, 2].map((episode) => ({animeId: recap, malId: 200, animeTitle: 'Recaps', episode, priority: -1})),
    3,
  )
  const urgent = await q.anime.upsert({mal_id: 300, title: 'Urgent'})
  await q.jobs.enqueue(
    [1, 2, 3].map((episode) => ({animeId: urgent, malId: 300, animeTitle: 'Urgent', episode, priority: 5})),
    3,
  )
}

for (const backend of BACKENDS) {
  describe(`queue: claim order [${backend}]`, function () {
    this.timeout(60_000)

    it('takes the highest priority first when fewer are claimed than wait, then the oldest; the lowest last', async () => {
      const q = await openAt(await freshQueueTarget(backend))
      try {
        await seed(q)
        const stage = STAGES.download
        const take = async (count: number) => (await q.jobs.claim({stage, owner: 'w', count, leaseMs: 60_000})).map((j) => `${j.mal_id}#${j.episode}`)
        expect(await take(2)).to.deep.equal(['300#1', '300#2'])
        expect(await take(1)).to.deep.equal(['300#3'])
        expect(await take(4)).to.deep.equal(['100#1', '100#2', '100#3', '100#4'])
        expect(await take(3)).to.deep.equal(['100#5', '100#6', '200#1'])
        expect(await take(5)).to.deep.equal(['200#2'])
      } finally {
        await q.close()
      }
    })
  })
}
