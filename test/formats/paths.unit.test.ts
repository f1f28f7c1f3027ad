// File names from outside: groups whose names make the same slug, names with control characters.
import {expect} from 'chai'

import {DataPaths, groupStem} from '../../src/paths.js'
import {printable} from '../../src/util/process.js'

describe('paths: group files and printable names', () => {
  it('gives genres whose names make the same slug files of their own', () => {
    const names = ['Sci-Fi', 'sci fi', 'Slice of Life']
    const stems = names.map((n) => groupStem(n, names))
    expect(new Set(stems).size).to.equal(3)
    expect(stems[0]).to.match(/^sci_fi_[0-9a-f]{6}$/)
    expect(stems[1]).to.match(/^sci_fi_[0-9a-f]{6}$/)
    expect(stems[2], 'no clash, the plain slug').to.equal('slice_of_life')
    const paths = new DataPaths('/d')
    expect(paths.groupFreq('genre', 'Sci-Fi', names)).to.not.equal(paths.groupFreq('genre', 'sci fi', names))
    expect(paths.groupFreq('genre', 'Drama')).to.equal('/d/analysis/aggregated/by_genre/drama_freq.csv')
  })

  it('quotes names with newlines or escape codes before they reach a terminal', () => {
    expect(printable('ep01.srt')).to.equal('ep01.srt')
    expect(printable('ep01\u001B[2J.srt')).to.equal('"ep01\\x1b[2J.srt"')
    expect(printable('two\nlines.srt')).to.equal('"two\\nlines.srt"')
  })
})
