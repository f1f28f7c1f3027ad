// npm run fuzz:import [-- --seed 20 --sizes 16,64,256,1024 --max-ms-per-kb 2 --max-growth 3]
//
// Times the subtitle parsers on each hostile shape (test/fakes/hostile-subtitles.ts) at growing
// sizes, twice: under the shipped [import] limits (most shapes are refused early) and with the limits
// lifted (the markup scanners run over all of it). Prints ms per KB; exits 1 when time per KB grows
// with size (superlinear: the largest size costs over --max-growth times the smallest per KB) or
// passes --max-ms-per-kb. A benchmark, so it measures wall time; the tests do not.
import {parseArgs} from 'node:util'

import {type ImportLimits, readSubtitleBytes} from '../src/stages/import/file.js'
import {RefusedSubtitles} from '../src/stages/import/subtitles.js'
import {HOSTILE_SHAPES, seededRandom} from '../test/fakes/hostile-subtitles.js'

const {values} = parseArgs({
  options: {
    seed: {type: 'string', default: '20'},
    sizes: {type: 'string', default: '16,64,256,1024'},
    'max-ms-per-kb': {type: 'string', default: '2'},
    'max-growth': {type: 'string', default: '3'},
    // below this per KB, differences are timer noise, not growth
    'noise-ms-per-kb': {type: 'string', default: '0.02'},
  },
})
const seed = Number(values.seed)
const sizes = values.sizes.split(',').map(Number)
const maxMsPerKb = Number(values['max-ms-per-kb'])
const maxGrowth = Number(values['max-growth'])
const noise = Number(values['noise-ms-per-kb'])
if (![seed, maxMsPerKb, maxGrowth, noise, ...sizes].every((n) => Number.isFinite(n) && n >= 0) || sizes.length < 2) {
  console.error('fuzz-import: --seed, --max-ms-per-kb, --max-growth must be numbers >= 0, --sizes at least two sizes in KB (e.g. 16,64,256)')
  process.exit(2)
}

const SHIPPED: ImportLimits = {max_file_mb: 20, max_cues: 20_000, max_line_chars: 2000, min_japanese_percent: 0}
const LIFTED: ImportLimits = {max_file_mb: 1000, max_cues: 1e9, max_line_chars: 1e9, min_japanese_percent: 0}

/** Median ms of a few parses of one file (the first run warms the code up and is not counted). */
function time(name: string, data: Buffer, limits: ImportLimits): {ms: number; outcome: string} {
  const runs: number[] = []
  let outcome = ''
  for (let k = 0; k < 4; k++) {
    const t = performance.now()
    try {
      outcome = `${readSubtitleBytes(name, data, limits).cues.length} cues`
    } catch (error) {
      if (!(error instanceof RefusedSubtitles)) throw error
      outcome = 'refused'
    }
    if (k > 0) runs.push(performance.now() - t)
  }
  return {ms: runs.sort((a, b) => a - b)[1]!, outcome}
}

let failed = 0
console.log(`seed ${seed}, sizes ${sizes.join(', ')} KB; ms per KB (and the outcome at the largest size)`)
for (const [label, limits] of [
  ['shipped limits', SHIPPED],
  ['limits lifted', LIFTED],
] as const) {
  console.log(`\n${label}`)
  for (const shape of HOSTILE_SHAPES) {
    const perKb: number[] = []
    let outcome = ''
    for (const kb of sizes) {
      const r = time(`ep01${shape.ext}`, shape.make(kb * 1000, seededRandom(seed)), limits)
      perKb.push(r.ms / kb)
      outcome = r.outcome
    }
    const first = Math.max(perKb[0]!, noise)
    const last = Math.max(perKb.at(-1)!, noise)
    const problems: string[] = []
    if (last / first > maxGrowth) problems.push(`superlinear: ${(last / first).toFixed(1)}× per KB from ${sizes[0]} to ${sizes.at(-1)} KB`)
    if (Math.max(...perKb) > maxMsPerKb) problems.push(`over ${maxMsPerKb} ms per KB`)
    if (problems.length > 0) failed++
    console.log(
      `  ${shape.name.padEnd(28)} ${perKb.map((v) => v.toFixed(3).padStart(8)).join(' ')}  ${outcome.padEnd(12)} ${problems.length ? `FAIL: ${problems.join('; ')}` : 'ok'}`,
    )
  }
}
console.log(failed ? `\n${failed} shape(s) failed` : '\nevery shape linear and within the bound')
process.exit(failed ? 1 : 0)
