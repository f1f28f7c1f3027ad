// The exit codes the README promises, where they could quietly become 0 or 2: a run that could only
// push jobs back to wait (75), a run with nothing ready but jobs waiting in backoff (75), an internal
// error (1). The real CLI, the fake ani-cli on PATH, the real queue.
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {SINGLE_RESULT_TEXT} from '../../src/stages/select/ani-cli.js'
import {testMedia} from '../fakes/media.js'
import {ROOT, openAt, runCliAsync, spawnFixture, tempDir, withQueue} from '../helpers.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')

/** One selected anime of two queued episodes whose downloads keep failing in a way worth retrying. */
async function setUp(): Promise<{work: string; data: string; target: string; env: Record<string, string>}> {
  const work = tempDir()
  const data = path.join(work, 'data')
  const target = path.join(work, 'jobs.db')
  const q = await openAt(target)
  try {
    const animeId = await q.anime.upsert({mal_id: 61, title: 'Flaky Show', episodes_total: 2})
    await q.jobs.enqueue(
      [1, 2].map((episode) => ({animeId, malId: 61, animeTitle: 'Flaky Show', episode})),
      3,
    )
    await q.selections.record({
      mal_id: 61,
      anime_title: 'Flaky Show',
      search_query: 'Flaky Show',
      selected_index: 1,
      selected_title: SINGLE_RESULT_TEXT,
      confidence: 'high',
      reason: 'test',
      mal_episodes: 2,
      selected_episodes: 2,
      episode_match: 'exact',
      method: 'rule',
      model: null,
      api_calls: 0,
      cost_usd: 0,
    })
  } finally {
    await q.close()
  }
  const searches = path.join(work, 'searches.json')
  // ani-cli exits 0 without writing a file (its downloader failed): a transient failure
  writeFileSync(
    searches,
    JSON.stringify({searches: {'Flaky Show': [{title: 'Flaky Show', episodes: 2}]}, downloads: {'Flaky Show': 'nofile'}, media: testMedia().episode}),
  )
  return {
    work,
    data,
    target,
    env: {
      PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
      FAKE_ANI_CLI_DATA: searches,
      FAKE_ANI_CLI_STATE: work,
      ANIMEZIPF_QUEUE_URL: `sqlite:${target}`,
      ANIMEZIPF_DATA_STORAGE_DIR: path.join(work, 'storage'),
      // the retry waits an hour: no run of this test can reach it
      ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '3600',
      ANIMEZIPF_QUEUE_BACKOFF_MAX_SECONDS: '3600',
      ANIMEZIPF_DOWNLOAD_MIN_BYTES: '2000',
    },
  }
}

describe('exit codes (CLI)', function () {
  this.timeout(120_000)

  it('75 for a run that could only push its jobs back to wait, and 75 for a run with nothing ready but jobs in backoff', async () => {
    const e = await setUp()
    const first = await runCliAsync(['download', '--data-dir', e.data, '--workers', '2', '--json'], {env: e.env, cwd: e.work})
    expect(first.code, first.stderr).to.equal(75)
    expect(JSON.parse(first.stdout)).to.include({done: 0, failed: 0, retried: 2})
    await withQueue(e, async (q) => {
      for (const id of [1, 2]) {
        const job = (await q.jobs.getJob(id))!
        expect(job).to.include({stage: 'queued', retry_count: 1})
        expect(job.run_after, 'waits in backoff').to.be.a('string')
      }
    })

    const second = await runCliAsync(['download', '--data-dir', e.data, '--json'], {env: e.env, cwd: e.work})
    expect(second.code, second.stderr).to.equal(75)
    expect(JSON.parse(second.stdout)).to.include({claimed: 0, waiting_in_backoff: 2})
    const human = await runCliAsync(['download', '--data-dir', e.data], {env: e.env, cwd: e.work})
    expect(human.code).to.equal(75)
    expect(human.stdout).to.match(/nothing to do now; 2 job\(s\) wait in retry backoff until .* \(exit 75: run again later\)/)

    // what is not waiting is done: a stage with no job at all exits 0
    const empty = await runCliAsync(['tokenize', '--data-dir', e.data], {env: e.env, cwd: e.work})
    expect(empty.code, empty.stderr).to.equal(0)
    expect(empty.stdout).to.match(/tokenize: nothing to do/)
  })

  it('1 for an internal error (a bug, not a mistake of the user), one line, with --json too', async () => {
    const data = path.join(tempDir(), 'data')
    const run = (flags: string[]) =>
      new Promise<{code: number | null; stdout: string; stderr: string}>((resolve) => {
        const child = spawnFixture('internal-error.ts', [data, ...flags], {NO_COLOR: '1'})
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        child.on('exit', (code) => resolve({code, stdout, stderr}))
      })
    const plain = await run([])
    expect(plain.code, plain.stderr).to.equal(1)
    expect(plain.stderr.trim().split('\n')).to.deep.equal([
      "animezipf: internal error: Cannot read properties of undefined (reading 'stage') (run again with --verbose for the stack trace)",
    ])
    const json = await run(['--json'])
    expect(json.code, json.stderr).to.equal(1)
    expect(JSON.parse(json.stdout).error).to.include({code: 1, message: "internal error: Cannot read properties of undefined (reading 'stage')"})
  })
})
