// analyze's Vuong test names the distribution a sample came from, not only the sign of its ratio.
import {expect} from 'chai'

import {seededRandom} from '../../src/stages/analyze/optimize.js'
import {compareLognormal, countTable, drawPowerLaw, fitDiscretePowerLaw} from '../../src/stages/analyze/powerlaw.js'

const normal = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())

describe('power law against a lognormal: favours', () => {
  it('a sample drawn from a power law favours the power law, one from a lognormal the lognormal, each clearly (p ≤ 0.1)', () => {
    for (const seed of [11, 12, 13]) {
      // enough words for the two to differ clearly on the fitted tail
      const pl = seededRandom(seed)
      const powerLaw = countTable(Array.from({length: 80_000}, () => drawPowerLaw(2.3, 1, pl())))
      const a = compareLognormal(powerLaw, fitDiscretePowerLaw(powerLaw)!)
      expect(a.p_value, `power law, seed ${seed}`).to.be.at.most(0.1)
      expect(a.favours, `power law, seed ${seed}`).to.equal('power_law')
      // a lognormal's tail alone can pass for a power law: compared from xmin 1, where its body shows
      const ln = seededRandom(seed + 100)
      const lognormal = countTable(Array.from({length: 5000}, () => Math.max(1, Math.round(Math.exp(2 + normal(ln))))))
      const b = compareLognormal(lognormal, fitDiscretePowerLaw(lognormal, {xmin: 1})!)
      expect(b.p_value, `lognormal, seed ${seed}`).to.be.at.most(0.1)
      expect(b.favours, `lognormal, seed ${seed}`).to.equal('lognormal')
    }
  })
})
