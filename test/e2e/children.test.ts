// The programs animezipf starts (ani-cli, ffprobe, ffmpeg, whisper): what of our environment they
// are given, where their scratch folders go, and that none outlives a run killed with SIGKILL.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {SINGLE_RESULT_TEXT} from '../../src/stages/select/ani-cli.js'
import {testMedia} from '../fakes/media.js'
import {BIN, openAt, processRunning, ROOT, runCliAsync, tempDir} from '../helpers.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')
const ENV_BIN = path.join(ROOT, 'test', 'fakes', 'env-bin')
const KEY = 'sk-ant-api03-children-SECRET'
const SECRETS = {ANTHROPIC_API_KEY: KEY, PGPASSWORD: 'pg-password-SECRET', MY_SERVICE_TOKEN: 'token-SECRET', AWS_SECRET_ACCESS_KEY: 'aws-SECRET'}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Wait for a file to hold a line (a stand-in saying it started); the mocha timeout guards a hang. */
async function firstLine(file: string): Promise<string> {
  for (;;) {
    if (existsSync(file)) {
      const line = readFileSync(file, 'utf8').split('\n')[0]!
      if (line.trim()) return line
    }
    await sleep(50)
  }
}

/** Wait until none of these processes runs (the reaper needs a moment); the mocha timeout guards a hang. */
async function allGone(pids: number[]): Promise<void> {
  while (pids.some((p) => processRunning(p))) await sleep(50)
}

function killGroups(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL')
    } catch {
      // gone
    }
  }
}

async function setUp(searches: Record<string, unknown>, downloads: Record<string, unknown> = {}) {
  const media = testMedia()
  const work = tempDir()
  const data = path.join(work, 'data')
  const tmp = path.join(work, 'tmpdir')
  mkdirSync(tmp, {recursive: true})
  mkdirSync(path.join(data, 'models'), {recursive: true})
  writeFileSync(path.join(data, 'models', 'ggml-large-v3-turbo.bin'), Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.alloc(100)]))
  const fake = path.join(work, 'fake.json')
  writeFileSync(fake, JSON.stringify({searches, downloads, media: media.episode}))
  const whisperData = path.join(work, 'whisper.json')
  writeFileSync(whisperData, JSON.stringify({default: 'normal'}))
  const env: Record<string, string> = {
    PATH: `${ENV_BIN}${path.delimiter}${FAKES}${path.delimiter}${process.env.PATH}`,
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    FAKE_ANI_CLI_DATA: fake,
    FAKE_ANI_CLI_PIDS: path.join(work, 'pids'),
    FAKE_WHISPER_DATA: whisperData,
    ANIMEZIPF_TRANSCRIBE_WHISPER_BIN: path.join(FAKES, 'whisper-fake'),
    ANIMEZIPF_DOWNLOAD_MIN_BYTES: '2000',
    ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
    ...SECRETS,
  }
  return {work, data, tmp, env}
}

async function seedShow(data: string, malId: number, title: string, selected: boolean): Promise<void> {
  const q = await openAt(path.join(data, 'jobs.db'))
  const animeId = await q.anime.upsert({mal_id: malId, title, episodes_total: 1, type: 'TV', genres: ['Drama'], studios: ['Test Studio']})
  await q.jobs.enqueue([{animeId, malId, animeTitle: title, episode: 1}], 3)
  if (selected) {
    await q.selections.record({
      mal_id: malId,
      anime_title: title,
      search_query: title,
      selected_index: 1,
      selected_title: SINGLE_RESULT_TEXT,
      confidence: 'high',
      reason: null,
      mal_episodes: 1,
      selected_episodes: 1,
      episode_match: 'exact',
      method: 'rule',
      model: null,
      api_calls: 0,
      cost_usd: 0,
    })
  }
  await q.close()
}

describe('child processes', function () {
  this.timeout(240_000)

  it('ani-cli, ffprobe, ffmpeg and whisper get PATH, HOME and the locale, never the API key or another secret', async () => {
    const {work, data, env} = await setUp({'Env Show': [{title: 'Env Show', episodes: 1}]})
    await seedShow(data, 5001, 'Env Show', true)
    const dumps = path.join(work, 'dumps')
    mkdirSync(dumps)
    const e = {...env, FAKE_ENV_DUMP: dumps}
    const down = await runCliAsync(['download', '--data-dir', data], {env: e, cwd: work})
    expect(down.code, down.stderr).to.equal(0)
    const tr = await runCliAsync(['transcribe', '--data-dir', data, '--threads', '1'], {env: e, cwd: work})
    expect(tr.code, tr.stderr).to.equal(0)
    const files = readdirSync(dumps)
    for (const tool of ['ani-cli', 'ffprobe', 'ffmpeg', 'whisper'])
      expect(
        files.some((f) => f.startsWith(`${tool}-`)),
        `${tool} ran (${files.join(', ')})`,
      ).to.equal(true)
    for (const f of files) {
      const seen = JSON.parse(readFileSync(path.join(dumps, f), 'utf8')) as Record<string, string>
      for (const name of Object.keys(SECRETS)) expect(seen, `${f}: ${name}`).to.not.have.property(name)
      const all = JSON.stringify(seen)
      for (const value of Object.values(SECRETS)) expect(all, f).to.not.include(value)
      // none of our settings either: ani-cli gets only the log of its menu hook
      expect(
        Object.keys(seen).filter((k) => /^(ANIMEZIPF_|FAKE_)/.test(k) && k !== 'ANIMEZIPF_MENU_LOG'),
        f,
      ).to.deep.equal([])
      expect(seen.PATH, f).to.include(ENV_BIN)
      expect(seen.LANG, f).to.equal('C.UTF-8')
      if (process.env.HOME) expect(seen.HOME, f).to.equal(process.env.HOME)
    }
  })

  it('a select killed with SIGKILL: its ani-cli and what that started die with it; nothing in $TMPDIR; cleanup removes its folder under tmp/', async () => {
    const {work, data, tmp, env} = await setUp({'Hang Show': 'hang'})
    await seedShow(data, 5002, 'Hang Show', false)
    const child = spawn(process.execPath, [BIN, 'select', '--data-dir', data], {cwd: work, env: {...process.env, NO_COLOR: '1', ...env}, stdio: 'ignore'})
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    const pids = (await firstLine(path.join(work, 'pids'))).split(' ').map(Number)
    try {
      // the search runs: its folder is under the data folder's tmp/, named by the run's pid
      const ours = (name: string) => name.startsWith('ani') && name.includes(`-${child.pid}@${hostname()}-`)
      expect(readdirSync(path.join(data, 'tmp')).filter(ours)).to.have.length(1)
      child.kill('SIGKILL')
      await exited
      // ani-cli and the helper it started (one group) end with the run
      await allGone(pids)
      expect(
        readdirSync(tmp).filter((n) => n.startsWith('animezipf-')),
        '$TMPDIR',
      ).to.deep.equal([])
      const cleaned = await runCliAsync(['cleanup', '--data-dir', data], {env, cwd: work})
      expect(cleaned.code, cleaned.stderr).to.equal(0)
      expect(readdirSync(path.join(data, 'tmp')).filter(ours), 'tmp/ after cleanup').to.deep.equal([])
    } finally {
      killGroups(pids)
    }
  })

  it('a download killed with SIGKILL: ani-cli and its helper die with it, nothing is left in $TMPDIR, and the next download removes its folders', async () => {
    const {work, data, tmp, env} = await setUp({'Slow Show': [{title: 'Slow Show', episodes: 1}]}, {'Slow Show': 'hang'})
    await seedShow(data, 5003, 'Slow Show', true)
    const child = spawn(process.execPath, [BIN, 'download', '--data-dir', data], {cwd: work, env: {...process.env, NO_COLOR: '1', ...env}, stdio: 'ignore'})
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    const pids = (await firstLine(path.join(work, 'pids'))).split(' ').map(Number)
    try {
      child.kill('SIGKILL')
      await exited
      await allGone(pids)
      expect(
        readdirSync(tmp).filter((n) => n.startsWith('animezipf-')),
        '$TMPDIR',
      ).to.deep.equal([])
      const ours = (name: string) => name.includes(`-${child.pid}@${hostname()}-`)
      expect(readdirSync(path.join(data, 'tmp')).filter(ours), "the killed run's menu-hook folder").to.have.length(1)
      // the next download (the scenario now finishes) removes the dead run's folders before it starts
      writeFileSync(env.FAKE_ANI_CLI_DATA!, JSON.stringify({...JSON.parse(readFileSync(env.FAKE_ANI_CLI_DATA!, 'utf8')), downloads: {}}))
      const next = await runCliAsync(['download', '--data-dir', data], {env, cwd: work})
      expect(next.code, next.stderr).to.equal(0)
      expect(readdirSync(path.join(data, 'tmp')).filter(ours), 'tmp/ after the next run').to.deep.equal([])
      expect(readdirSync(path.join(data, 'videos', '.downloading')).filter(ours), 'downloads in progress').to.deep.equal([])
    } finally {
      killGroups(pids)
    }
  })
})
