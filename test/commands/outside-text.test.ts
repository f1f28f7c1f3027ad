// Text from outside (Jikan's titles, ani-cli's lists, --title, file names) on its way into the
// queue and out to a terminal: a NUL must not break either database, and nothing a title holds
// (ESC sequences, carriage returns, newlines, bidi overrides) may reach stdout or stderr raw.
import {expect} from 'chai'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {cleanText, printable} from '../../src/util/text.js'
import {AnthropicStandIn} from '../fakes/anthropic-server.js'
import {FakeJikan} from '../fakes/jikan-server.js'
import {type CliResult, openAt, ROOT, runCliAsync, tempDir, writeShowSubtitles} from '../helpers.js'
import {PG_URL, freshPgDatabase} from '../pg.js'

const FAKES = path.join(ROOT, 'test', 'fakes', 'bin')
const KEY = 'sk-ant-test-outside-text'

/** What a terminal would obey: C0 but tab and newline, DEL, C1, bidi controls, line and paragraph separators. */
const RAW = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028-\u202E\u2066-\u2069]/

function noRawControls(r: CliResult, what: string): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    const m = RAW.exec(text)
    expect(
      m,
      `${what}: a raw U+${m ? m[0].codePointAt(0)!.toString(16).padStart(4, '0') : ''} in ${stream}: ${JSON.stringify(m ? text.slice(Math.max(0, m.index - 60), m.index + 60) : '')}`,
    ).to.equal(null)
  }
}

describe('text from outside: cleaned where it comes in, escaped where it is printed', function () {
  this.timeout(300_000)

  it('cleanText and printable: NUL and controls gone from stored text, every control and bidi mark escaped in printed text', () => {
    expect(cleanText('A\u0000B\u001b[2J\r\nC\tD\u0085E\u007f')).to.equal('AB[2J C DE')
    expect(cleanText('line 1\r\nline\u0000 2\tx', {multiline: true})).to.equal('line 1\nline 2\tx')
    expect(cleanText('a\ud800b')).to.equal('a\ufffdb')
    expect(printable('plain 名前.srt')).to.equal('plain 名前.srt')
    expect(printable('A\u001b[2J\u202eB\r\n"C"')).to.equal('"A\\x1b[2J\\u202eB\\r\\n\\"C\\""')
    expect(printable('one\ntwo\u2066\u009b', 'line')).to.equal('one\\ntwo\\u2066\\x9b')
    expect(printable('kept\n\tlines\u001b[31m', 'lines')).to.equal('kept\n\tlines\\x1b[31m')
  })

  const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)
  for (const backend of backends) {
    it(`[${backend}] a Jikan title with NUL, ESC, CR/LF and U+202E: scrape and select succeed, store the cleaned title, and print nothing raw`, async () => {
      const jikan = new FakeJikan()
      const api = new AnthropicStandIn(KEY)
      const base = await jikan.start()
      await api.start()
      try {
        jikan.anime = [
          {mal_id: 9001, title: 'Null\u0000 Show\u001b[2J\r\nTwo', score: 9.9, episodes: 2, genres: [1], studios: [4]},
          {mal_id: 9002, title: 'Mirror \u202eworld', score: 9.8, episodes: 3, genres: [1], studios: [4]},
          {mal_id: 9003, title: 'Quiet\u0007 Bell', score: 9.7, episodes: 2, genres: [1], studios: [4]},
        ]
        const work = tempDir()
        const data = path.join(work, 'data')
        const searches = path.join(work, 'searches.json')
        writeFileSync(
          searches,
          JSON.stringify({
            searches: {
              'Null Show[2J Two': [
                {title: 'Null Show[2J Two', episodes: 2},
                {title: 'Null Show\u0007 Movie', episodes: 1},
              ],
              'Mirror \u202eworld': [
                {title: 'Mirror \u202eworld', episodes: 3},
                {title: 'Mirror \u202eworld OVA', episodes: 1},
              ],
              'Quiet Bell': 'outage',
            },
          }),
        )
        const env: Record<string, string> = {
          PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
          FAKE_ANI_CLI_DATA: searches,
          ANTHROPIC_API_KEY: KEY,
          ANTHROPIC_BASE_URL: api.url,
          ANIMEZIPF_SCRAPE_BASE_URL: base,
          ANIMEZIPF_SCRAPE_TOP_STUDIOS: '1',
          ANIMEZIPF_SCRAPE_BACKOFF_BASE_MS: '50',
          ANIMEZIPF_QUEUE_BACKOFF_BASE_SECONDS: '0',
          ANIMEZIPF_SELECT_NO_RESULTS_CONFIRMATIONS: '1',
        }
        const target = backend === 'postgres' ? await freshPgDatabase() : path.join(data, 'jobs.db')
        if (backend === 'postgres') env.ANIMEZIPF_QUEUE_URL = target
        const cli = (args: string[]) => runCliAsync([...args, '--data-dir', data], {env, cwd: work})

        for (let run = 1; run <= 2; run++) {
          const scrape = await cli(['scrape', '--limit', '5', '--category', 'genre:Action'])
          expect(scrape.code, scrape.stderr).to.equal(0)
          noRawControls(scrape, `scrape run ${run}`)
        }
        const q = await openAt(target)
        try {
          expect((await q.anime.byMalId(9001))!.title).to.equal('Null Show[2J Two')
          expect((await q.anime.byMalId(9002))!.title).to.equal('Mirror \u202eworld')
          expect((await q.anime.byMalId(9003))!.title).to.equal('Quiet Bell')
        } finally {
          await q.close()
        }

        for (let run = 1; run <= 2; run++) {
          const sel = await cli(['select'])
          expect(sel.code, sel.stderr).to.equal(0)
          noRawControls(sel, `select run ${run}`)
        }
        const check = await openAt(target)
        try {
          expect((await check.selections.get(9001))!).to.include({selected_index: 1, selected_title: 'Null Show[2J Two'})
          const candidates = await check.selections.candidates(9001, 'Null Show[2J Two')
          expect(candidates.map((c) => c.text)).to.deep.equal(['Null Show[2J Two', 'Null Show Movie'])
        } finally {
          await check.close()
        }
        for (const args of [['select', '--review'], ['select', '--review', '--json'], ['status'], ['status', '--json'], ['select', '--dry-run', '--force']]) {
          const r = await cli(args)
          expect(r.code, r.stderr).to.be.oneOf([0, 75])
          noRawControls(r, args.join(' '))
        }
      } finally {
        await api.stop()
        await jikan.stop()
      }
    })
  }

  it('import --title/--genre/--studio and a file name with ESC, CR/LF and U+202E: import, tokenize, analyze, status and word print nothing raw', async () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const subs = path.join(work, 'subs')
    writeShowSubtitles(subs, 2, 7)
    const title = 'Evil\u001b[2J\u001b]0;pwned\u0007 \u202eTitle\r\nSecond line'
    const cli = (args: string[]) => runCliAsync([...args, '--data-dir', data], {cwd: work})
    const imported = await cli(['import', subs, '--title', title, '--genre', 'Gen\u001b[31mre', '--studio', 'Stu\u2066dio\u0085'])
    noRawControls(imported, 'import')
    if (imported.code === 0) {
      for (const args of [
        ['tokenize'],
        ['analyze'],
        ['status'],
        ['status', '--json'],
        ['word', 'の'],
        ['word', 'の', '--json'],
        ['import', subs, '--title', title, '--dry-run', '--allow-duplicate'],
      ]) {
        const r = await cli(args)
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.be.oneOf([0, 75])
        noRawControls(r, args.join(' '))
      }
    } else {
      // refused: one line saying why, still nothing raw in it
      expect(imported.code, imported.stderr).to.equal(2)
      expect(imported.stderr.trim().split('\n')).to.have.length(1)
    }
    // a file whose name steers the terminal, and whose content is no subtitle: the refusal quotes the name
    const bad = path.join(work, 'bad')
    mkdirSync(bad)
    writeFileSync(path.join(bad, 'ep03\u001b[2J\u202e.srt'), 'not a subtitle file\n')
    const refused = await cli(['import', bad, '--title', 'Other'])
    expect(refused.code, refused.stderr).to.equal(2)
    noRawControls(refused, 'import of a badly named file')
    // an error that quotes what was typed: one line, escaped
    const typo = await runCliAsync(['stat\u001b[2Jus'], {cwd: work})
    expect(typo.code).to.equal(2)
    noRawControls(typo, 'a misspelt command')
    const badAnime = await cli(['word', 'の', '--anime-id', '424242', '--json'])
    noRawControls(badAnime, 'word for an unknown anime')
  })

  for (const backend of backends) {
    it(`[${backend}] import stores --title, --genre, --studio and the subtitle text without control characters or terminal escape sequences`, async () => {
      const work = tempDir()
      const data = path.join(work, 'data')
      const target = backend === 'postgres' ? await freshPgDatabase() : path.join(data, 'jobs.db')
      const srt = path.join(work, 'ep01.srt')
      writeFileSync(
        srt,
        '1\n00:00:01,000 --> 00:00:02,000\nこんにちは、\u001b[31m世界\u001b[0m。\u0007元気ですか。\n\n2\n00:00:03,000 --> 00:00:04,000\n\u001b[0m\u0007\n\n3\n00:00:05,000 --> 00:00:06,000\nまた\u0000明日。\n',
      )
      const env: Record<string, string> = backend === 'postgres' ? {ANIMEZIPF_QUEUE_URL: target} : {}
      const r = await runCliAsync(
        [
          'import',
          srt,
          '--title',
          'Evil\u001b]0;x\u0007 Title\tTwo',
          '--genre',
          'Dra\u0007ma',
          '--genre',
          '\u001b',
          '--studio',
          'Stu\ndio',
          '--data-dir',
          data,
        ],
        {env},
      )
      expect(r.code, r.stderr).to.equal(0)
      const q = await openAt(target)
      try {
        const anime = (await q.anime.byMalId(1_000_000_001))!
        expect(anime.title).to.equal('Evil]0;x Title Two')
        expect(JSON.parse(anime.genres as unknown as string)).to.deep.equal(['Drama'])
        expect(JSON.parse(anime.studios as unknown as string)).to.deep.equal(['Stu dio'])
        const job = await q.jobs.episodesOf({animeId: anime.id})
        expect(job).to.deep.equal([1])
      } finally {
        await q.close()
      }
      const {readTextFile} = await import('../../src/util/gzip-file.js')
      const transcript = JSON.parse(readTextFile(path.join(data, 'transcripts', String(1_000_000_001), 'ep001.json.gz'))) as {segments: {text: string}[]}
      // the cue that held only escapes is gone; the others keep their words, not the escapes
      expect(transcript.segments.map((s) => s.text)).to.deep.equal(['こんにちは、世界。元気ですか。', 'また明日。'])
    })
  }

  it('ani-cli: a title that is one of its options ("-d", "--help", "-e") is searched for, not taken as the option', async () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const searches = path.join(work, 'searches.json')
    const calls = path.join(work, 'calls.log')
    writeFileSync(
      searches,
      JSON.stringify({
        searches: {
          '-d': [
            {title: '-d', episodes: 12},
            {title: '-d Movie', episodes: 1},
          ],
          '--help': [
            {title: '--help', episodes: 10},
            {title: '--help Specials', episodes: 2},
          ],
        },
      }),
    )
    const q = await openAt(path.join(data, 'jobs.db'))
    for (const [malId, t, episodes] of [
      [8101, '-d', 12],
      [8102, '--help', 10],
    ] as const) {
      const animeId = await q.anime.upsert({mal_id: malId, title: t, episodes_total: episodes, type: 'TV'})
      await q.jobs.enqueue([{animeId, malId, animeTitle: t, episode: 1}], 3)
    }
    await q.close()
    const env = {
      PATH: `${FAKES}${path.delimiter}${process.env.PATH}`,
      FAKE_ANI_CLI_DATA: searches,
      FAKE_ANI_CLI_LOG: calls,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
    }
    const r = await runCliAsync(['select', '--data-dir', data, '--json'], {env, cwd: work})
    expect(r.code, r.stderr).to.equal(0)
    const check = await openAt(path.join(data, 'jobs.db'))
    try {
      expect((await check.selections.get(8101))!).to.include({selected_index: 1, selected_title: '-d', method: 'rule'})
      expect((await check.selections.get(8102))!).to.include({selected_index: 1, selected_title: '--help', method: 'rule'})
      expect((await check.selections.candidates(8101, '-d')).map((c) => c.text)).to.deep.equal(['-d', '-d Movie'])
    } finally {
      await check.close()
    }
    // every call searched: none ran as a download or printed the help
    const logged = readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {args: string[]; query: string})
    expect(logged.length).to.be.greaterThan(0)
    for (const call of logged) expect(['-d', '--help'], JSON.stringify(call.args)).to.include(call.query)
  })
})
