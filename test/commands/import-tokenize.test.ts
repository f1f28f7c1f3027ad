import {expect} from 'chai'
import {cpSync, existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'

import {ROOT, openDatabase, runCli, tempDir, tree} from '../helpers.js'

const SUBS = path.join(ROOT, 'test', 'fixtures', 'subs')

describe('import and tokenize (CLI)', () => {
  it('imports SRT, ASS and VTT files, reports bad ones, and tokenizes them', () => {
    const work = tempDir()
    const data = path.join(work, 'data')
    const files = ['show-a-ep01.srt', 'show-a-ep02.ass', 'show-a-ep03.vtt', 'not-subs.srt', 'empty.vtt', 'binary.ass'].map((f) => path.join(SUBS, f))
    const imp = runCli(['import', ...files, '--title', 'Show A', '--genre', 'Drama', '--studio', 'Studio Q', '--data-dir', data, '--json'])
    expect(imp.code, imp.stderr).to.equal(1)
    const r = JSON.parse(imp.stdout)
    expect(r.imported).to.equal(3)
    expect(r.bad.map((b: {file: string}) => path.basename(b.file)).sort()).to.deep.equal(['binary.ass', 'empty.vtt', 'not-subs.srt'])
    expect(r.files.map((f: {episode: number}) => f.episode)).to.deep.equal([1, 2, 3])
    // one line per bad file, no stack traces
    const warnings = imp.stderr.trim().split('\n')
    expect(warnings).to.have.length(3)
    for (const w of warnings) expect(w).to.match(/^warning: skipped .*: /)

    const malId = r.anime.mal_id as number
    const t1 = JSON.parse(gunzipSync(readFileSync(path.join(data, 'transcripts', String(malId), 'ep001.json.gz'))).toString())
    expect(t1.segments.map((s: {text: string}) => s.text)).to.deep.equal([
      '（雨の音）',
      '（ハルカ）今日は学校に行かない。',
      'どうして？　弱(よえ)えな、お前は。',
      '♪～',
      '明日は晴れるといいね',
    ])
    expect(t1.segments[1]).to.include({start: 3.5, end: 6})

    // importing again changes nothing
    const again = JSON.parse(runCli(['import', ...files.slice(0, 3), '--title', 'Show A', '--data-dir', data, '--json']).stdout)
    expect(again).to.include({imported: 0, already_imported: 3})

    const tok = runCli(['tokenize', '--workers', '2', '--data-dir', data, '--json'])
    expect(tok.code, tok.stderr).to.equal(0)
    const summary = JSON.parse(tok.stdout)
    expect(summary).to.include({done: 3, failed: 0, interrupted: false})

    const csv = readFileSync(path.join(data, 'tokens', String(malId), 'ep001_freq.csv'), 'utf8')
      .trim()
      .split('\n')
    expect(csv[0]).to.equal('word,count,pos,reading')
    const words = csv.slice(1).map((l) => l.split(',')[0])
    // cleaning removed the note, the label, the music mark and the ruby
    for (const gone of ['雨', '音', 'ハルカ', '♪', 'よえ']) expect(words).to.not.include(gone)
    for (const kept of ['今日', '学校', '行く', 'お前', '晴れる']) expect(words).to.include(kept)
    for (const word of words) expect(word).to.not.match(/^[\p{P}\p{S}\s]+$/u)
    const tokens = JSON.parse(gunzipSync(readFileSync(path.join(data, 'tokens', String(malId), 'ep001_tokens.json.gz'))).toString())
    expect(tokens).to.include({anime_id: malId, episode: 1, tokenizer: 'kuromoji', dictionary: 'ipadic'})
    expect(tokens.tokens[0]).to.have.all.keys('surface', 'pos', 'pos_detail', 'reading', 'base_form')
    const counted = csv.slice(1).reduce((n, l) => n + Number(l.split(',')[1]), 0)
    expect(tokens.word_count).to.equal(counted)
    expect(tokens.total_tokens).to.equal(tokens.tokens.length)
    expect(tokens.total_tokens).to.be.greaterThan(tokens.word_count)

    const db = openDatabase(path.join(data, 'jobs.db'))
    const rows = db.prepare(`SELECT episode, stage, word_count, token_count, tokens_path FROM jobs ORDER BY episode`).all() as {
      stage: string
      word_count: number
      episode: number
      tokens_path: string
    }[]
    expect(rows.map((x) => x.stage)).to.deep.equal(['tokenized', 'tokenized', 'tokenized'])
    expect(rows[0]!.word_count).to.equal(tokens.word_count)
    expect(rows[0]!.tokens_path).to.equal(path.join('tokens', String(malId), 'ep001_tokens.json.gz'))
    const cats = db.prepare(`SELECT kind, name FROM anime_categories ORDER BY kind`).all()
    expect(cats).to.deep.equal([
      {kind: 'genre', name: 'Drama'},
      {kind: 'studio', name: 'Studio Q'},
    ])
    db.close()
  })

  it('imports Shift-JIS and UTF-16 files, numbering from --episode-from', () => {
    const data = path.join(tempDir(), 'data')
    const r = runCli([
      'import',
      path.join(SUBS, 'show-b-ep1.srt'),
      path.join(SUBS, 'show-b-ep2.srt'),
      '--title',
      'Show B',
      '--episode-from',
      '5',
      '--data-dir',
      data,
      '--json',
    ])
    expect(r.code, r.stderr).to.equal(0)
    const out = JSON.parse(r.stdout)
    expect(out.files.map((f: {episode: number; encoding: string}) => [f.episode, f.encoding])).to.deep.equal([
      [5, 'shift_jis'],
      [6, 'utf-16le'],
    ])
  })

  it('refuses the same subtitles imported under another title (--allow-duplicate to insist), and adds genres named on a re-import', () => {
    const data = path.join(tempDir(), 'data')
    const ep1 = path.join(SUBS, 'show-a-ep01.srt')
    expect(runCli(['import', ep1, '--title', 'First Name', '--genre', 'Drama', '--data-dir', data]).code).to.equal(0)
    const again = runCli(['import', ep1, '--title', 'Second Name', '--data-dir', data, '--json'])
    expect(again.code).to.equal(2)
    expect(again.stderr).to.match(/skipped .*show-a-ep01\.srt: the same text as "First Name" ep 1 \(imported 1000000001\), imported already/)
    expect(again.stderr).to.match(/animezipf: no file could be imported: show-a-ep01\.srt: the same text as "First Name" ep 1/)
    const db = openDatabase(path.join(data, 'jobs.db'))
    expect((db.prepare('SELECT COUNT(*) AS n FROM anime').get() as {n: number}).n, 'no anime row for the refused title').to.equal(1)
    db.close()
    const forced = runCli(['import', ep1, '--title', 'Second Name', '--allow-duplicate', '--data-dir', data, '--json'])
    expect(forced.code, forced.stderr).to.equal(0)
    expect(JSON.parse(forced.stdout).imported).to.equal(1)

    // a re-import with a genre the anime lacks: added and said, though no file is new
    const regenre = runCli(['import', ep1, '--title', 'First Name', '--genre', 'Mystery', '--data-dir', data, '--json'])
    expect(regenre.code, regenre.stderr).to.equal(0)
    const out = JSON.parse(regenre.stdout) as {imported: number; already_imported: number; groups_added: string[]}
    expect(out).to.deep.include({imported: 0, already_imported: 1, groups_added: ['genre Mystery']})
    const check = openDatabase(path.join(data, 'jobs.db'))
    const genres = check
      .prepare(`SELECT c.name FROM anime_categories c JOIN anime a ON a.id = c.anime_id WHERE a.title = 'First Name' AND c.kind = 'genre' ORDER BY c.name`)
      .all() as {name: string}[]
    check.close()
    expect(genres.map((g) => g.name)).to.deep.equal(['Drama', 'Mystery'])
  })

  it('a user mistake is one line and exit 2', () => {
    const data = path.join(tempDir(), 'data')
    const none = runCli(['import', path.join(SUBS, 'show-b-ep1.srt'), '--data-dir', data])
    expect(none.code).to.equal(2)
    expect(none.stderr.trim().split('\n')).to.have.length(1)
    expect(none.stderr).to.match(/give --mal-id ID .* or --title/)
    const missing = runCli(['import', '/no/such/file.srt', '--title', 'X', '--data-dir', data])
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.match(/no such file or folder: \/no\/such\/file.srt/)
    expect(existsSync(path.join(data, 'jobs.db'))).to.equal(false)
  })

  it('--dry-run of import and tokenize changes nothing; --force re-tokenizes', () => {
    const data = path.join(tempDir(), 'data')
    const src = path.join(tempDir(), 'subs')
    cpSync(SUBS, src, {recursive: true})
    const subs = ['show-a-ep01.srt', 'show-a-ep02.ass'].map((f) => path.join(src, f))
    expect(runCli(['import', ...subs, '--title', 'Show A', '--data-dir', data]).code).to.equal(0)

    const before = tree(data)
    const dryImport = runCli(['import', path.join(src, 'show-a-ep03.vtt'), '--title', 'Show A', '--data-dir', data, '--dry-run', '--json'])
    expect(dryImport.code).to.equal(0)
    expect(JSON.parse(dryImport.stdout).files[0].status).to.equal('would import')
    const dry = runCli(['tokenize', '--data-dir', data, '--dry-run', '--json'])
    expect(dry.code, dry.stderr).to.equal(0)
    const plan = JSON.parse(dry.stdout)
    expect(plan).to.include({dry_run: true, would_claim: 2})
    expect(plan.jobs.map((j: {episode: number}) => j.episode)).to.deep.equal([1, 2])
    expect(tree(data)).to.deep.equal(before)

    expect(runCli(['tokenize', '--data-dir', data]).code).to.equal(0)
    const after = tree(data)
    expect(JSON.parse(runCli(['tokenize', '--data-dir', data, '--json']).stdout).claimed).to.equal(0)
    const dryForce = runCli(['tokenize', '--data-dir', data, '--dry-run', '--force'])
    expect(dryForce.code).to.equal(0)
    expect(tree(data)).to.deep.equal(after)

    const forced = JSON.parse(runCli(['tokenize', '--data-dir', data, '--force', '--json']).stdout)
    expect(forced).to.include({rewound: 2, done: 2})
  })
})
