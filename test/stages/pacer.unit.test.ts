// The pacer on a clock of its own: exact, whatever the machine is doing.
import {expect} from 'chai'

import {Pacer} from '../../src/stages/scrape/pacer.js'

/** A clock that moves only when the pacer waits. */
function fakeClock() {
  let t = 0
  return {now: () => t, wait: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms)}
}

function maxInWindow(times: number[], windowMs: number): number {
  let best = 0
  for (let i = 0; i < times.length; i++) best = Math.max(best, times.filter((t) => t >= times[i]! && t < times[i]! + windowMs).length)
  return best
}

describe('pacer', () => {
  it('keeps every sliding window of every limit at once (3 per second and 60 per minute), and no slower than needed', async () => {
    const clock = fakeClock()
    const pacer = new Pacer(
      [
        {count: 3, windowMs: 1000},
        {count: 60, windowMs: 60_000},
      ],
      clock.now,
      clock.wait,
    )
    const sent: number[] = []
    for (let i = 0; i < 130; i++) {
      await pacer.take()
      sent.push(clock.now())
    }
    expect(maxInWindow(sent, 1000)).to.equal(3)
    expect(maxInWindow(sent, 60_000)).to.equal(60)
    // the 61st waits for the first minute to pass, and not much longer
    expect(sent[60]! - sent[0]!).to.be.within(60_000, 60_002)
    // within a minute's budget, three a second
    expect(sent[3]! - sent[0]!).to.be.within(1000, 1002)
  })

  it('two limits at once (2 per 600 ms, 4 per 2 s), as the Jikan client is set up in its tests: exact windows and span', async () => {
    const clock = fakeClock()
    const pacer = new Pacer(
      [
        {count: 2, windowMs: 600},
        {count: 4, windowMs: 2000},
      ],
      clock.now,
      clock.wait,
    )
    const sent: number[] = []
    await Promise.all(Array.from({length: 9}, () => pacer.take().then(() => sent.push(clock.now()))))
    expect(sent).to.have.length(9)
    expect(maxInWindow(sent, 600)).to.equal(2)
    expect(maxInWindow(sent, 2000)).to.equal(4)
    // the 5th and the 9th wait for the 2-second window: two windows and a millisecond each
    expect(sent[8]! - sent[0]!).to.be.within(4000, 4004)
  })

  it('serialises concurrent takers in the order they asked', async () => {
    const clock = fakeClock()
    const pacer = new Pacer([{count: 2, windowMs: 500}], clock.now, clock.wait)
    const order: number[] = []
    await Promise.all(Array.from({length: 6}, (_, i) => pacer.take().then(() => order.push(i))))
    expect(order).to.deep.equal([0, 1, 2, 3, 4, 5])
  })

  it('sends at once after a quiet spell', async () => {
    const clock = fakeClock()
    const pacer = new Pacer([{count: 1, windowMs: 1000}], clock.now, clock.wait)
    await pacer.take()
    clock.advance(5000)
    const before = clock.now()
    await pacer.take()
    expect(clock.now()).to.equal(before)
  })
})
