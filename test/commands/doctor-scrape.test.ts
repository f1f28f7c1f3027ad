// doctor --stage scrape asks the Jikan API once: "ready" means reachable. Against the local stand-in,
// and against a port nothing listens on (what no network looks like to the check, without a network).
import {expect} from 'chai'
import {createServer} from 'node:net'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import {FakeJikan} from '../fakes/jikan-server.js'
import {runCliAsync, tempDir} from '../helpers.js'

/** A local port that refuses connections: opened, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('doctor --stage scrape', function () {
  this.timeout(60_000)

  it('is ready when the API answers, and says which host answered', async () => {
    const jikan = new FakeJikan()
    const base = await jikan.start()
    try {
      const data = path.join(tempDir(), 'data')
      const r = await runCliAsync(['doctor', '--stage', 'scrape', '--data-dir', data, '--json'], {env: {ANIMEZIPF_SCRAPE_BASE_URL: base}})
      const out = JSON.parse(r.stdout) as {ok: boolean; checks: {name: string; status: string; detail: string}[]}
      const api = out.checks.find((c) => c.name === 'Jikan API')
      expect(api?.status, r.stderr).to.equal('ok')
      expect(api?.detail).to.include(new URL(base).host)
      expect(jikan.requests.length).to.equal(1)
    } finally {
      await jikan.stop()
    }
  })

  it('fails with the reason when the API cannot be reached (exit 1), and a plain doctor does not ask it', async () => {
    const port = await closedPort()
    const data = path.join(tempDir(), 'data')
    const env = {ANIMEZIPF_SCRAPE_BASE_URL: `http://127.0.0.1:${port}/v4`}
    const r = await runCliAsync(['doctor', '--stage', 'scrape', '--data-dir', data], {env})
    expect(r.code).to.equal(1)
    expect(r.stdout).to.match(/FAIL {2}Jikan API: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED — check the network/)
    expect(r.stdout).to.match(/doctor: 1 required check\(s\) failed for scrape/)
    const plain = await runCliAsync(['doctor', '--data-dir', data], {env})
    expect(plain.stdout).not.to.include('Jikan API')
  })
})
