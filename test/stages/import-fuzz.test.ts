// The subtitle parsers against generated hostile files (a fixed seed, so a failure can be replayed):
// each file is either refused on purpose (RefusedSubtitles, saying why) or read into sane cues with
// no markup left. The mocha timeout is the hang guard: the audit's files took minutes to hours.
import {expect} from 'chai'

import {type ImportLimits, type SubtitleFile, readSubtitleBytes} from '../../src/stages/import/file.js'
import {MAX_HOURS, RefusedSubtitles, parseAss, parseSrt} from '../../src/stages/import/subtitles.js'
import {HOSTILE_SHAPES, type HostileShape, randomSubtitle, seededRandom} from '../fakes/hostile-subtitles.js'

const SEED = 20
// the shipped limits, but any share of Japanese: more files get as far as their cues being checked
const LIMITS: ImportLimits = {max_file_mb: 20, max_cues: 20_000, max_line_chars: 2000, min_japanese_percent: 0}

/** What a parser may leave: words. `where` names the input in a failure. */
function expectSane(file: SubtitleFile, ext: HostileShape['ext'], lineCount: number, where: string): void {
  expect(file.cues.length, where).to.be.within(1, LIMITS.max_cues)
  for (const cue of file.cues) {
    const at = `${where}: ${JSON.stringify(cue).slice(0, 200)}`
    expect(Number.isFinite(cue.start) && Number.isFinite(cue.end), at).to.equal(true)
    expect(cue.start, at).to.be.at.least(0)
    expect(cue.end, at).to.be.at.least(cue.start)
    expect(cue.end, at).to.be.below((MAX_HOURS + 1) * 3600)
    expect(cue.text.length, at).to.be.within(1, LIMITS.max_line_chars)
    for (const line of cue.text.split('\n')) expect(line === line.trim() && line !== '', `${at}: a blank or untrimmed line`).to.equal(true)
    if (ext === '.ass' || ext === '.ssa') {
      expect(cue.text, at).to.not.match(/[{]|\\[Nnh]/)
    } else if (ext !== '.txt') {
      expect(cue.text, at).to.not.match(/\{\\|<\/?[A-Za-z]/)
      if (ext === '.vtt') expect(cue.text, at).to.not.match(/<\d/)
    }
  }
  for (const p of file.problems) {
    expect(p.line, `${where}: ${p.message}`).to.be.within(1, lineCount)
    expect(p.message, where).to.be.a('string').and.not.equal('')
  }
}

/** Read one input: a refusal is fine, any other exception fails the test. */
function readChecked(name: string, data: Buffer, ext: HostileShape['ext'], where: string): SubtitleFile | RefusedSubtitles {
  let file: SubtitleFile
  try {
    file = readSubtitleBytes(name, data, LIMITS)
  } catch (error) {
    if (error instanceof RefusedSubtitles) return error
    throw new Error(`${where}: ${(error as Error).stack}`)
  }
  const lineCount = data.toString('utf8').split(/\r\n|\r|\n/).length
  expectSane(file, ext, lineCount, where)
  return file
}

describe('import fuzz: hostile subtitle files are read or refused, never hang, never leave markup', function () {
  // the hang guard: each file below parses in milliseconds; before the scanners, minutes to hours
  this.timeout(30_000)

  it("the audit's files: {\\p1 × 20,000 in one Dialogue (80 KB), an SRT cue of lines of {\\ × 900 (726 KB), <a likewise", () => {
    const ass = HOSTILE_SHAPES.find((s) => s.name === 'ass-drawing-repeated')!.make(80_000, seededRandom(SEED))
    const r = readChecked('ep01.ass', ass, '.ass', 'ass-drawing-repeated 80 KB')
    // within the limits: a refusal for the cue's length, said with its line
    expect(r).to.be.instanceOf(RefusedSubtitles)
    expect((r as Error).message).to.match(/^line 6: a cue of \d+ characters with its markup, over 8 × \[import\] max_line_chars \(2000\)$/)
    for (const name of ['srt-override-lines', 'srt-angle-lines'] as const) {
      const srt = HOSTILE_SHAPES.find((s) => s.name === name)!.make(726_000, seededRandom(SEED))
      const refused = readChecked('ep01.srt', srt, '.srt', `${name} 726 KB`)
      expect((refused as Error).message, name).to.match(/^line 2: a cue of \d+ characters with its markup, over 8 × \[import\] max_line_chars/)
    }
  })

  it('the same shapes under limits that let them through are read, their markup gone', () => {
    const open = {maxCues: 1_000_000, maxLineChars: 1_000_000}
    const make = (name: string, bytes: number) =>
      HOSTILE_SHAPES.find((s) => s.name === name)!
        .make(bytes, seededRandom(SEED))
        .toString('utf8')
    // an unclosed block runs to the end of the Dialogue: nothing of it is words
    expect(parseAss(make('ass-drawing-repeated', 80_000), open)).to.deep.equal({cues: [], problems: []})
    // an unclosed {\ or <a runs to the end of its line: the cue keeps its first line
    for (const name of ['srt-override-lines', 'srt-angle-lines']) {
      expect(parseSrt(make(name, 726_000), open), name).to.deep.equal({cues: [{start: 1, end: 2, text: '猫が好きです。'}], problems: []})
    }
  })

  for (const shape of HOSTILE_SHAPES) {
    it(`${shape.name} (${shape.ext}) at 4, 64 and 512 KB`, () => {
      for (const kb of [4, 64, 512]) readChecked(`ep01${shape.ext}`, shape.make(kb * 1000, seededRandom(SEED)), shape.ext, `${shape.name} ${kb} KB`)
    })
  }

  for (const ext of ['.srt', '.vtt', '.ass', '.ssa', '.txt'] as const) {
    it(`150 random ${ext} files of markup fragments, odd times, random bytes and Japanese (seed ${SEED})`, () => {
      const rng = seededRandom(SEED + ext.length + ext.charCodeAt(1))
      let read = 0
      for (let k = 0; k < 150; k++) {
        const data = randomSubtitle(rng, ext, 200 + Math.floor(rng() * 30_000))
        if (!(readChecked(`ep01${ext}`, data, ext, `${ext} #${k}`) instanceof RefusedSubtitles)) read++
      }
      // most are read (so their cues were checked), not all refused
      expect(read).to.be.above(75)
    })
  }
})
