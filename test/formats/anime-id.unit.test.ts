import {expect} from 'chai'

import {LOCAL_ID_BASE, animeIdLabel} from '../../src/queue/anime.js'

describe('an anime id beside its title', () => {
  it('says MAL for a MyAnimeList id and imported for a local one, short and long', () => {
    expect(animeIdLabel(5114)).to.equal('MAL 5114')
    expect(animeIdLabel(5114, true)).to.equal('MyAnimeList id 5114')
    expect(animeIdLabel(LOCAL_ID_BASE + 1)).to.equal('imported 1000000001')
    expect(animeIdLabel(LOCAL_ID_BASE + 1, true)).to.equal('imported (local id 1000000001)')
    expect(animeIdLabel(null)).to.equal('-')
  })
})
