import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {gunzipSync} from 'node:zlib'

import {BIN, openDatabase, runCli, tempDir, writeShowSubtitles} from '../helpers.js'

describe('crash safety: kill -9 in the middle of tokenize', function () {
  this.timeout(300_000)

  it("loses nothing and duplicates nothing; the next run recovers the dead worker's jobs", async () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const files = writeShowSubtitles(path.join(work, 'subs'), 40, 77, 400)
    expect(runCli(['import', ...files, '--title', 'Crash Show', '--data-dir', data]).code).to.equal(0)
    const env = {...process.env, NO_COLOR: '1', ANIMEZIPF_QUEUE_LEASE_SECONDS: '2'}
    const child = spawn(process.execPath, [BIN, 'tokenize', '--workers', '1', '--data-dir', data], {env, stdio: 'ignore'})
    const db = openDatabase(path.join(data, 'jobs.db'))
    const count = (stage: string) => (db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE stage = ?`).get(stage) as {n: number}).n
    for (let i = 0; i < 600 && count('tokenized') === 0; i++) await sleep(20)
    child.kill('SIGKILL')
    await new Promise((resolve) => child.on('exit', resolve))
    const doneAtKill = count('tokenized')
    expect(doneAtKill, 'the kill came mid-run').to.be.within(1, 39)
    // the dead worker held one job, unless it died between finishing one and claiming the next
    const held = count('tokenizing')
    expect(held).to.be.within(0, 1)

    // every row that says tokenized points at complete files
    const check = () => {
      const rows = db.prepare(`SELECT episode, tokens_path, word_count FROM jobs WHERE stage = 'tokenized'`).all() as {
        episode: number
        tokens_path: string
        word_count: number
      }[]
      for (const r of rows) {
        const tokens = JSON.parse(gunzipSync(readFileSync(path.join(data, r.tokens_path))).toString())
        expect(tokens.word_count).to.equal(r.word_count)
        const csv = path.join(data, 'tokens', path.basename(path.dirname(r.tokens_path)), `ep${String(r.episode).padStart(3, '0')}_freq.csv`)
        expect(existsSync(csv)).to.equal(true)
      }
      return rows.length
    }
    expect(check()).to.equal(doneAtKill)

    await sleep(2500)
    const again = runCli(['tokenize', '--workers', '1', '--data-dir', data, '--json'], {env: {ANIMEZIPF_QUEUE_LEASE_SECONDS: '2'}})
    expect(again.code, again.stderr).to.equal(0)
    expect(JSON.parse(again.stdout).done).to.equal(40 - doneAtKill)
    expect(count('tokenized')).to.equal(40)
    expect(check()).to.equal(40)
    const finished = db.prepare(`SELECT job_id, COUNT(*) AS n FROM job_events WHERE event = 'finished' GROUP BY job_id HAVING n != 1`).all()
    expect(finished).to.deep.equal([])
    const recovered = db.prepare(`SELECT COUNT(*) AS n FROM job_events WHERE event = 'recovered'`).get() as {n: number}
    expect(recovered.n).to.equal(held)
    // no half-written file carries a real name
    const names = readdirSync(path.join(data, 'tokens'), {recursive: true}) as string[]
    for (const n of names.filter((x) => x.endsWith('.gz'))) expect(() => gunzipSync(readFileSync(path.join(data, 'tokens', n)))).to.not.throw()
    db.close()
  })
})
