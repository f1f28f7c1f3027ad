import {expect} from 'chai'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {moveLegacyMetadata} from '../../src/formats/metadata.js'
import {DataPaths} from '../../src/paths.js'
import {tempDir} from '../helpers.js'

describe('metadata layout', () => {
  it('moves metadata.json from the temporary storage area to root_dir, once, keeping a newer copy', () => {
    const paths = new DataPaths(tempDir(), tempDir())
    for (const id of [5114, 9253]) {
      mkdirSync(path.dirname(paths.legacyMetadataFile(id)), {recursive: true})
      writeFileSync(paths.legacyMetadataFile(id), JSON.stringify({mal_id: id, old: true}))
    }
    mkdirSync(paths.metadataRoot, {recursive: true})
    writeFileSync(paths.metadataFile(9253), JSON.stringify({mal_id: 9253, old: false}))
    mkdirSync(path.join(paths.videosRoot, 'not-an-id'), {recursive: true})
    expect(moveLegacyMetadata(paths)).to.equal(2)
    expect(JSON.parse(readFileSync(paths.metadataFile(5114), 'utf8'))).to.deep.equal({mal_id: 5114, old: true})
    expect(JSON.parse(readFileSync(paths.metadataFile(9253), 'utf8'))).to.deep.equal({mal_id: 9253, old: false})
    expect(existsSync(paths.legacyMetadataFile(5114))).to.equal(false)
    expect(paths.metadataFile(1).startsWith(paths.root)).to.equal(true)
    expect(moveLegacyMetadata(paths)).to.equal(0)
  })
})
