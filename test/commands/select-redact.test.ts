// The API key never comes back out, even when an error message carries it (a proxy echoing request
// headers): the real CLI, the fake ani-cli, the real SDK against the stand-in made to echo the key.
import {expect} from 'chai'
import {readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {AnthropicStandIn} from '../fakes/anthropic-server.js'
import {openAt, ROOT, runCliAsync, tempDir} from '../helpers.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')
const KEY = 'sk-ant-test-echoed-0123456789-SECRET'

function allBytes(dir: string): string {
  let out = ''
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    out += statSync(p).isDirectory() ? allBytes(p) : readFileSync(p).toString('latin1')
  }
  return out
}

describe('select: the API key in an error message (CLI)', function () {
  this.timeout(120_000)
  let api: AnthropicStandIn

  beforeEach(async () => {
    api = new AnthropicStandIn(KEY)
    await api.start()
  })
  afterEach(() => api.stop())

  it('is redacted from what is printed and stored, the error itself kept', async () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const q = await openAt(path.join(data, 'jobs.db'))
    const animeId = await q.anime.upsert({mal_id: 9253, title: 'Steins;Gate', episodes_total: 24})
    await q.jobs.enqueue([{animeId, malId: 9253, animeTitle: 'Steins;Gate', episode: 1}], 3)
    await q.close()
    const searches = path.join(work, 'searches.json')
    writeFileSync(
      searches,
      JSON.stringify({
        searches: {
          'Steins;Gate': [
            {title: 'Steins;Gate', episodes: 24},
            {title: 'Steins;Gate', episodes: 1},
          ],
        },
      }),
    )
    api.script('Steins;Gate', [
      {status: 500, echoKey: true},
      {status: 500, echoKey: true},
    ])
    const env = {
      PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
      FAKE_ANI_CLI_DATA: searches,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: api.url,
      ANIMEZIPF_SELECT_API_MAX_RETRIES: '0',
      ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '3600',
    }
    const r = await runCliAsync(['select', '--data-dir', data, '--json'], {env, cwd: work})
    const human = await runCliAsync(['select', '--data-dir', data, '--anime-id', '9253'], {env, cwd: work})
    // the stand-in did echo the key: the test would see it if it got through
    expect(api.requests.filter((x) => x.replied === 500)).to.have.length.at.least(1)
    const q2 = await openAt(path.join(data, 'jobs.db'))
    const attempts = (await q2.selections.attempts(9253))!
    await q2.close()
    expect(attempts.last_error, 'the error is kept, the key replaced').to.match(/upstream refused the request with headers x-api-key: \[key\]/)
    for (const text of [r.stdout, r.stderr, human.stdout, human.stderr, allBytes(data)]) expect(text).to.not.include(KEY)
    expect(r.stdout + r.stderr + human.stdout + human.stderr).to.include('[key]')
  })
})
