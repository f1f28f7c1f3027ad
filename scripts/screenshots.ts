// npm run screenshots -- [--data-dir DIR] [--out DIR] [--width PX]
// A full-page PNG of every page analyze wrote (report, comparison, corpus and per-anime plots) for review.
import {existsSync, mkdirSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {checkFigures, findChromium, launchChromium, openPage} from './browser.js'

function fail(message: string): never {
  console.error(`screenshots: ${message}`)
  process.exit(1)
}

const {values} = parseArgs({
  options: {'data-dir': {type: 'string', default: 'data'}, out: {type: 'string', default: 'screenshots'}, width: {type: 'string', default: '1400'}},
})
const analysis = path.resolve(values['data-dir'], 'analysis')
const out = path.resolve(values.out)
const width = Number(values.width)
if (!Number.isInteger(width) || width < 320) fail(`--width must be a whole number of pixels, at least 320 (got ${values.width})`)
if (!existsSync(analysis))
  fail(`no analysis in ${path.dirname(analysis)} (run \`animezipf analyze\` first, or pass --data-dir; \`animezipf demo\` writes demo-data)`)
const chromium = findChromium()
if (!chromium) fail('Chromium not found: install it (Debian: apt-get install chromium) or set ANIMEZIPF_CHROMIUM to its path')

const pages: [string, string][] = []
for (const [dir, name] of [
  ['reports', 'final_report.html'],
  ['aggregated', 'comparison.html'],
  ['aggregated', 'global_zipf_plot.html'],
] as const) {
  const file = path.join(analysis, dir, name)
  if (existsSync(file)) pages.push([file, name.replace(/\.html$/, '.png')])
}
const perAnime = path.join(analysis, 'per_anime')
for (const id of existsSync(perAnime) ? readdirSync(perAnime).sort() : []) {
  const file = path.join(perAnime, id, 'zipf_plot.html')
  if (existsSync(file)) pages.push([file, `anime-${id}.png`])
}
if (pages.length === 0) fail(`no pages under ${analysis}`)

mkdirSync(out, {recursive: true})
const browser = await launchChromium(chromium)
let problems = 0
try {
  for (const [file, png] of pages) {
    const {page, problems: found} = await openPage(browser, file, width)
    const empty = (await checkFigures(page)).filter((f) => f.marks === 0).map((f) => f.title)
    await page.screenshot({path: path.join(out, png), fullPage: true})
    await page.close()
    for (const p of [...found, ...empty.map((t) => `figure without marks: ${t}`)]) {
      problems++
      console.error(`${png}: ${p}`)
    }
    console.log(path.join(out, png))
  }
} finally {
  await browser.close()
}
console.log(`${pages.length} page(s) written to ${out}${problems ? `; ${problems} problem(s) above` : ''}`)
process.exit(problems ? 1 : 0)
