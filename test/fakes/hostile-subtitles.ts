// Hostile subtitle files, made from a seed: the shapes an audit used to hang the importer (an
// unclosed `{\` or `<a` repeated, `{\p1` repeated in one Dialogue), others like them, and random
// mixtures of markup fragments, odd timing lines, random bytes and Japanese text. Shared by the
// fuzz test (test/stages/import-fuzz.test.ts) and `npm run fuzz:import` (scripts/fuzz-import.ts).

/** A small, fast, seeded generator (mulberry32): the same seed gives the same files. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Random = () => number
const pick = <T>(rng: Random, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!
const int = (rng: Random, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))

export const JAPANESE = [
  '今日は学校に行かない。',
  'どうして？',
  '猫が好きです。',
  '東京タワーに行きましょう！',
  'ありがとう',
  '（雨の音）',
  '♪～',
  'カタカナ',
  '先輩、待って！',
]

const ASS_HEADER = '[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n'
const dialogue = (text: string, start = '0:00:01.00', end = '0:00:02.00') => `Dialogue: 0,${start},${end},Default,,0,0,0,,${text}\n`
const srtCue = (n: number, body: string, timing = '00:00:01,000 --> 00:00:02,000') => `${n}\n${timing}\n${body}\n\n`
const vttCue = (body: string, timing = '00:00:01.000 --> 00:00:02.000') => `${timing}\n${body}\n\n`

/** `unit` repeated to about `bytes` bytes (at least once). */
function fill(unit: string, bytes: number): string {
  return unit.repeat(Math.max(1, Math.ceil(bytes / Buffer.byteLength(unit))))
}

/** Lines of `unit` × `perLine`, to about `bytes` bytes in all. */
function linesOf(unit: string, perLine: number, bytes: number): string {
  const line = unit.repeat(perLine)
  return Array.from({length: Math.max(1, Math.ceil(bytes / (line.length + 1)))}, () => line).join('\n')
}

export interface HostileShape {
  name: string
  ext: '.srt' | '.ass' | '.ssa' | '.vtt' | '.txt'
  /** A file of about `bytes` bytes. */
  make: (bytes: number, rng: Random) => Buffer
}

const text = (s: string) => Buffer.from(s, 'utf8')

/** The fixed shapes: each grows with `bytes` in the way that once made the importer slow. */
export const HOSTILE_SHAPES: HostileShape[] = [
  {name: 'ass-drawing-repeated', ext: '.ass', make: (b) => text(ASS_HEADER + dialogue(`${fill('{\\p1', b)}猫が好きです。`))},
  {name: 'ass-drawing-many-dialogues', ext: '.ass', make: (b) => text(ASS_HEADER + fill(dialogue(`${'{\\p1'.repeat(50)}猫が好きです。`), b))},
  {
    name: 'ass-unclosed-braces',
    ext: '.ass',
    make: (b) => text(ASS_HEADER + fill(dialogue(`${'{\\b1{\\i1'.repeat(40)}猫`), b / 2) + dialogue(fill('{', b / 2))),
  },
  {name: 'ass-many-empty-blocks', ext: '.ssa', make: (b) => text(ASS_HEADER + dialogue(`${fill('{}', b)}\\p1 猫が好きです。`))},
  {name: 'ass-nested-overrides', ext: '.ass', make: (b) => text(ASS_HEADER + dialogue(`${fill('{\\t(\\t({\\p1}m 0 0 l{\\p0}\\N}', b)}どうして？`))},
  {
    name: 'ass-wide-format',
    ext: '.ass',
    make: (b) => text(`[Events]\nFormat: ${fill('x,', b / 2)}Start, End, Text\n${fill(dialogue('猫が好きです。'), b / 2)}`),
  },
  {name: 'srt-override-lines', ext: '.srt', make: (b) => text(srtCue(1, `猫が好きです。\n${linesOf('{\\', 900, b)}`))},
  {name: 'srt-angle-lines', ext: '.srt', make: (b) => text(srtCue(1, `猫が好きです。\n${linesOf('<a', 900, b)}`))},
  {name: 'srt-closing-tags', ext: '.srt', make: (b) => text(srtCue(1, `猫が好きです。\n${linesOf('</i', 600, b)}`))},
  {name: 'srt-many-tagged-cues', ext: '.srt', make: (b) => text(fill(srtCue(1, '<i>{\\an8}ありがとう</i>'), b))},
  {name: 'srt-huge-line', ext: '.srt', make: (b) => text(srtCue(1, fill('ありがとう', b)))},
  {
    name: 'srt-odd-timing',
    ext: '.srt',
    make: (b) => text(srtCue(1, '猫が好きです。') + srtCue(2, 'どうして？', `${fill('1', b / 2)}:00:00,000 --> ${fill('1:', b / 2)}`)),
  },
  {name: 'srt-blank-runs', ext: '.srt', make: (b) => text(srtCue(1, '猫が好きです。') + fill('\n \t \n', b))},
  {name: 'vtt-angle-lines', ext: '.vtt', make: (b) => text(`WEBVTT\n\n${vttCue(`どうして？\n${linesOf('<c.', 900, b)}`)}`)},
  {name: 'vtt-timestamps-unclosed', ext: '.vtt', make: (b) => text(`WEBVTT\n\n${vttCue(`どうして？${fill('<00:00:01.000', b)}`)}`)},
  {name: 'txt-huge-line', ext: '.txt', make: (b) => text(fill('今日は学校に行かない。', b))},
]

const MARKUP = [
  '{\\an8}',
  '{\\',
  '{',
  '}',
  '{\\p1}',
  '{\\p0}',
  'm 0 0 l 10 10',
  '<i>',
  '</i>',
  '<a',
  '<',
  '>',
  '</',
  '<font color="red">',
  '<c.yellow>',
  '<v 先輩>',
  '<00:00:01.500>',
  '\\N',
  '\\h',
  '&amp;',
  '{\\k20}',
  '{\\t(\\fs20)}',
  '-->',
  ',',
  '\u202e',
  '\x1b[2J',
  '\r',
  '\t',
]
const TIMES = [
  '00:00:01,000',
  '00:00:02.500',
  '0:00:03.00',
  '-00:00:01,000',
  '99:59:59,999',
  '100:00:00,000',
  '00:61:00,000',
  '1:2:3',
  '',
  '00:00:05,000 --> 00:00:06,000',
  '1'.repeat(400) + ':00:00,000',
  'NaN',
  '00:00:0x,000',
]

function fragment(rng: Random): string {
  const r = rng()
  if (r < 0.35) return pick(rng, JAPANESE)
  if (r < 0.75) return pick(rng, MARKUP).repeat(rng() < 0.1 ? int(rng, 2, 400) : 1)
  if (r < 0.85) return String.fromCharCode(...Array.from({length: int(rng, 1, 12)}, () => int(rng, 0x20, 0x7e)))
  return pick(rng, [' ', '\n', '、', '…'])
}

function cueText(rng: Random): string {
  return Array.from({length: int(rng, 1, 20)}, () => fragment(rng)).join('')
}

const time = (rng: Random, ass: boolean) =>
  rng() < 0.8
    ? ass
      ? `0:0${int(rng, 0, 9)}:${String(int(rng, 10, 59))}.${int(rng, 10, 99)}`
      : `00:0${int(rng, 0, 9)}:${int(rng, 10, 59)},${int(rng, 100, 999)}`
    : pick(rng, TIMES)

/** A random file of one format, about `bytes` bytes: a plausible skeleton with hostile cues; now and then random bytes spliced in. */
export function randomSubtitle(rng: Random, ext: HostileShape['ext'], bytes: number): Buffer {
  let out = ext === '.vtt' ? 'WEBVTT\n\n' : ext === '.ass' || ext === '.ssa' ? ASS_HEADER : ''
  for (let n = 1; Buffer.byteLength(out) < bytes; n++) {
    if (ext === '.ass' || ext === '.ssa') out += rng() < 0.9 ? dialogue(cueText(rng), time(rng, true), time(rng, true)) : cueText(rng) + '\n'
    else if (ext === '.txt') out += cueText(rng).slice(0, 1500) + '\n'
    else {
      const timing = rng() < 0.9 ? `${time(rng, false)} --> ${time(rng, false)}${rng() < 0.2 ? ' align:start position:10%' : ''}` : cueText(rng)
      out += ext === '.vtt' ? vttCue(cueText(rng), timing) : srtCue(n, cueText(rng), timing)
    }
  }
  const data = Buffer.from(out, 'utf8')
  if (rng() < 0.15) for (let i = 0; i < int(rng, 1, 8); i++) data[int(rng, 0, data.length - 1)] = int(rng, 0, 255)
  return data
}
