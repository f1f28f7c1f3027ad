import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {hostname} from 'node:os'

import {isDeadLocalOwner, newRunId} from '../../src/queue/workers.js'

describe('lease owners', () => {
  it('knows an owner of this host whose process is gone, and nothing else', () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
    const deadPid = Number(gone.stdout)
    expect(isDeadLocalOwner(`${hostname()}:${deadPid}:0123abcd:aggregate`)).to.equal(true)
    expect(isDeadLocalOwner(`${newRunId()}:w1`)).to.equal(false)
    expect(isDeadLocalOwner(`${hostname()}:${process.ppid}:0123abcd`)).to.equal(false)
    expect(isDeadLocalOwner(`other-host:${deadPid}:0123abcd`)).to.equal(false)
    expect(isDeadLocalOwner('thief')).to.equal(false)
  })
})
