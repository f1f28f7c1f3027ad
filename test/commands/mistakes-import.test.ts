// `import` given hostile or impossible input (issue #20): numbers out of range, impossible cue
// times, markup that once took minutes to strip. Each is one line, exit 2, nothing written, on
// SQLite (the catalogue's harness) and on PostgreSQL (where these were internal errors that left
// an anime row with no jobs). A cue with an impossible time among good ones is left out with a warning.
import {expect} from 'chai'
import {mkdirSync, renameSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {type MistakeCase, mistakeCases} from '../fixtures/mistakes.js'
import {BACKENDS} from '../pg.js'
import {HOSTILE_SHAPES, seededRandom} from '../fakes/hostile-subtitles.js'
import {readTextFile} from '../../src/util/gzip-file.js'
import {filesUnder, freshQueueTarget, runCliAsync, seedDatabase, tempDir, withQueue} from '../helpers.js'

const GOOD = '1\n00:00:01,000 --> 00:00:02,000\nこんにちは、世界。\n'

function write(dir: string, name: string, content: string | Buffer): string {
  const file = path.join(dir, name)
  writeFileSync(file, content)
  return file
}

/** The bad imports both engines must refuse, as [name, args after `import`, message]. */
function badImports(scratch: string): [string, string[], RegExp][] {
  const sub = write(scratch, 'ep01.srt', GOOD)
  return [
    [
      '--episode-from 3000000000',
      [sub, '--title', 'Big', '--episode-from', '3000000000'],
      /Parsing --episode-from: Expected an integer less than or equal to 100000 but received: 3000000000/,
    ],
    [
      '--year 99999999999',
      [sub, '--title', 'Big', '--year', '99999999999'],
      /Parsing --year: Expected an integer less than or equal to 2100 but received: 99999999999/,
    ],
    ['--year -40000', [sub, '--title', 'Big', '--year=-40000'], /Parsing --year: Expected an integer greater than or equal to 1900 but received: -40000/],
    [
      'a cue whose hour has 400 digits',
      [write(scratch, 'ep02.srt', `1\n${'9'.repeat(400)}:00:00,000 --> ${'9'.repeat(400)}:00:01,000\nこんにちは。\n`), '--title', 'Long'],
      /no file could be imported: ep02\.srt: no usable cue: line 2: start: impossible time 9{24}… \(over 99 hours\)/,
    ],
    [
      'a cue that ends before it starts',
      [write(scratch, 'ep03.srt', '1\n00:00:05,000 --> 00:00:01,000\nこんにちは。\n'), '--title', 'Backwards'],
      /no file could be imported: ep03\.srt: no usable cue: line 2: end 00:00:01,000 before start 00:00:05,000/,
    ],
    [
      'a cue at a negative time',
      [write(scratch, 'ep04.srt', '1\n-00:00:05,000 --> 00:00:06,000\nこんにちは。\n'), '--title', 'Negative'],
      /no file could be imported: ep04\.srt: no usable cue: line 2: start: negative time -00:00:05,000/,
    ],
  ]
}

describe('import mistakes: one line, exit 2, nothing written', function () {
  // also the hang guard for the hostile files below (they once took minutes to hours)
  this.timeout(120_000)
  let data: string
  let db: string
  const scratch = tempDir()
  before(async () => {
    data = path.join(tempDir(), 'data')
    db = path.join(data, 'jobs.db')
    await seedDatabase(db, 2, 3, 'transcribed')
  })
  const shape = (name: string, bytes: number) => HOSTILE_SHAPES.find((s) => s.name === name)!.make(bytes, seededRandom(20))

  const cases: MistakeCase[] = [
    // a refused file comes after its warning ("skipped …"); a refused flag is the only line
    ...badImports(scratch).map(([name, args, message]): MistakeCase => ({
      name: `import with ${name}`,
      args: () => ['import', '--data-dir', data, ...args],
      message,
      warnings: !name.startsWith('--'),
    })),
    {
      name: 'import of an .ass Dialogue of {\\p1 × 20,000 (80 KB)',
      args: () => ['import', '--data-dir', data, write(scratch, 'ep05.ass', shape('ass-drawing-repeated', 80_000)), '--title', 'Drawing'],
      message: /no file could be imported: ep05\.ass: line 6: a cue of 80\d{3} characters with its markup, over 8 × \[import\] max_line_chars \(2000\)/,
      warnings: true,
    },
    {
      name: 'import of an .srt cue of lines of {\\ × 900 (726 KB)',
      args: () => ['import', '--data-dir', data, write(scratch, 'ep06.srt', shape('srt-override-lines', 726_000)), '--title', 'Braces'],
      message: /no file could be imported: ep06\.srt: line 2: a cue of \d+ characters with its markup, over 8 × \[import\] max_line_chars/,
      warnings: true,
    },
    {
      name: 'import of an .srt cue of lines of <a × 900 (726 KB)',
      args: () => ['import', '--data-dir', data, write(scratch, 'ep07.srt', shape('srt-angle-lines', 726_000)), '--title', 'Angles'],
      message: /no file could be imported: ep07\.srt: line 2: a cue of \d+ characters with its markup, over 8 × \[import\] max_line_chars/,
      warnings: true,
    },
  ]
  mistakeCases(cases, () => db)
})

for (const backend of BACKENDS) {
  describe(`import [${backend}]: a refused or failed import writes nothing`, function () {
    this.timeout(120_000)

    async function counts(target: string): Promise<{anime: number; jobs: number}> {
      return withQueue({target}, async (q) => ({
        anime: (await q.sql.get<{n: number}>('SELECT COUNT(*) AS n FROM anime'))!.n,
        jobs: (await q.sql.get<{n: number}>('SELECT COUNT(*) AS n FROM jobs'))!.n,
      }))
    }
    /** A queue with one imported anime (so its tables exist), and the CLI's environment for it. */
    async function setUp(): Promise<{target: string; data: string; env: Record<string, string>}> {
      const target = await freshQueueTarget(backend)
      const data = path.join(tempDir(), 'data')
      const env: Record<string, string> = backend === 'postgres' ? {ANIMEZIPF_QUEUE_URL: target} : {ANIMEZIPF_QUEUE_URL: `sqlite:${target}`}
      const first = await runCliAsync(
        ['import', '--data-dir', data, write(tempDir(), 'ep01.srt', '1\n00:00:01,000 --> 00:00:02,000\n最初の番組です。\n'), '--title', 'First'],
        {env},
      )
      expect(first.code, first.stderr).to.equal(0)
      return {target, data, env}
    }

    it('numbers out of range and impossible cue times: exit 2, one line, no anime row, no job', async () => {
      const {target, data, env} = await setUp()
      const before = await counts(target)
      expect(before).to.deep.equal({anime: 1, jobs: 1})
      for (const [name, args, message] of badImports(tempDir())) {
        const r = await runCliAsync(['import', '--data-dir', data, ...args], {env})
        expect(r.code, `${name}: ${r.stderr}`).to.equal(2)
        const lines = r.stderr.trim().split('\n')
        expect(
          lines.slice(0, -1).every((l) => l.startsWith('warning: ')),
          `${name}: ${r.stderr}`,
        ).to.equal(true)
        expect(lines.at(-1), name).to.match(message)
        expect(r.stderr, name).to.not.match(/internal error|\n\s+at /)
        expect(await counts(target), name).to.deep.equal(before)
      }
    })

    it('an import that fails after its anime row was written (the transcripts folder is a file) leaves no anime row', async () => {
      const {target, data, env} = await setUp()
      const before = await counts(target)
      const transcripts = path.join(data, 'transcripts')
      const kept = filesUnder(transcripts)
      // what the first import wrote moves aside; a file takes the folder's place
      mkdirSync(path.join(data, 'moved'), {recursive: true})
      writeFileSync(path.join(data, 'transcripts.tmp'), 'not a folder')
      renameSync(transcripts, path.join(data, 'moved', 'transcripts'))
      renameSync(path.join(data, 'transcripts.tmp'), transcripts)
      const r = await runCliAsync(['import', '--data-dir', data, write(tempDir(), 'ep01.srt', GOOD), '--title', 'Second', '--genre', 'Drama'], {env})
      expect(r.code, r.stderr).to.not.equal(0)
      expect(await counts(target)).to.deep.equal(before)
      expect(kept.length).to.be.above(0)
      await withQueue({target}, async (q) => {
        expect(await q.anime.byTitle('Second')).to.equal(undefined)
        expect((await q.sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM anime_categories WHERE name = 'Drama'`))!.n).to.equal(0)
      })
    })

    it('a cue with an impossible time among good ones is left out with its line, the rest imported', async () => {
      const {target, data, env} = await setUp()
      const sub = write(tempDir(), 'ep01.srt', `${GOOD}\n2\n00:00:09,000 --> 00:00:05,000\n逆の時間。\n\n3\n00:00:10,000 --> 00:00:11,000\nさようなら。\n`)
      const r = await runCliAsync(['import', '--data-dir', data, sub, '--title', 'Mixed'], {env})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stderr.trim()).to.match(/^warning: .*ep01\.srt: 1 cue\(s\) left out: line 6: end 00:00:05,000 before start 00:00:09,000$/)
      const json = filesUnder(path.join(data, 'transcripts')).filter((f) => f.endsWith('.json') || f.endsWith('.json.gz'))
      const mine = await withQueue({target}, async (q) => (await q.anime.byTitle('Mixed'))!.mal_id)
      const file = json.find((f) => f.startsWith(`${mine}/`))!
      expect(file, json.join(', ')).to.be.a('string')
      const transcript = JSON.parse(readTextFile(path.join(data, 'transcripts', file))) as {segments: {text: string; start: number; end: number}[]}
      expect(transcript.segments.map((s) => [s.start, s.end, s.text])).to.deep.equal([
        [1, 2, 'こんにちは、世界。'],
        [10, 11, 'さようなら。'],
      ])
      expect((await counts(target)).jobs).to.equal(2)
    })
  })
}
