import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import type {Browser} from 'playwright-core'

import {checkFigures, findChromium, hoverTexts, launchChromium, openPage} from '../../scripts/browser.js'
import {runCli, tempDir} from '../helpers.js'

// Every page analyze writes, opened in headless Chromium: each figure has drawn marks, keeps its axes
// and legends inside, and the page runs no script, logs no error and asks nothing of the network.
describe('analysis pages in Chromium', function () {
  this.timeout(240_000)
  let browser: Browser | undefined
  let analysis: string

  before(async function () {
    const chromium = findChromium()
    if (!chromium) {
      // CI installs Debian's chromium and sets ANIMEZIPF_REQUIRE_CHROMIUM: there a missing browser fails
      if (process.env.ANIMEZIPF_REQUIRE_CHROMIUM) throw new Error('Chromium not found (install Debian package chromium or set ANIMEZIPF_CHROMIUM)')
      console.log('    (skipped: no Chromium; install Debian package chromium or set ANIMEZIPF_CHROMIUM)')
      this.skip()
    }
    const cwd = tempDir()
    const demo = runCli(['demo', '--json'], {cwd})
    expect(demo.code, demo.stderr).to.equal(0)
    analysis = path.join(JSON.parse(demo.stdout).data_dir, 'analysis')
    browser = await launchChromium(chromium)
  })

  after(async () => {
    await browser?.close()
  })

  const perAnime = () =>
    readdirSync(path.join(analysis, 'per_anime'))
      .sort()
      .map((id) => path.join(analysis, 'per_anime', id, 'zipf_plot.html'))

  async function figuresOf(file: string, width = 1400) {
    const {page, problems} = await openPage(browser!, file, width)
    try {
      const figures = await checkFigures(page)
      const scripts = (await page.evaluate('document.querySelectorAll("script").length')) as number
      return {figures, problems, scripts}
    } finally {
      await page.close()
    }
  }

  it('draws the four figures of every anime page', async () => {
    const pages = perAnime()
    expect(pages).to.have.length(3)
    for (const file of pages) {
      const {figures, problems, scripts} = await figuresOf(file)
      expect(problems, file).to.deep.equal([])
      expect(scripts).to.equal(0)
      expect(figures.map((f) => f.title)).to.deep.equal(['Rank–frequency', 'CCDF', 'Coverage', "Heaps' law"])
      for (const f of figures) {
        expect(f.missing, `${file}: ${f.title}`).to.equal(null)
        expect(f.marks, `${file}: ${f.title}`).to.be.greaterThan(10)
        expect(f.width).to.be.greaterThan(300)
        expect(f.height).to.be.greaterThan(200)
        expect(f.outside, `${file}: ${f.title}`).to.deep.equal([])
      }
      // the rank-frequency plot shows every word of a small show, each naming its word on hover
      const params = JSON.parse(readFileSync(path.join(path.dirname(file), 'zipf_params.json'), 'utf8'))
      const {page} = await openPage(browser!, file)
      const hovers = await hoverTexts(page, 'Rank–frequency')
      await page.close()
      const points = hovers.filter((h) => / rank \d+, said \d+ times$/.test(h))
      expect(points).to.have.length(Math.min(500, params.unique_words))
      expect(points[0]).to.equal(`${params.top_words[0].word}: rank 1, said ${params.top_words[0].count} times`)
    }
  })

  it('draws the comparison page, the corpus page and the report, also at a narrow width', async () => {
    const expected: Record<string, string[]> = {
      [path.join(analysis, 'aggregated', 'comparison.html')]: [
        'All anime by rank',
        'Vocabulary growth at equal length',
        'Anime: rank exponents',
        'Genres: rank exponents',
        'Studios: rank exponents',
      ],
      [path.join(analysis, 'reports', 'final_report.html')]: [
        'Rank–frequency, all anime',
        'CCDF, all anime',
        'Coverage, all anime',
        'Anime',
        'Genres',
        'Studios',
      ],
    }
    for (const [file, titles] of Object.entries(expected)) {
      for (const width of [1400, 700]) {
        const {figures, problems, scripts} = await figuresOf(file, width)
        expect(problems, file).to.deep.equal([])
        expect(scripts).to.equal(0)
        expect(figures.map((f) => f.title)).to.deep.equal(titles)
        for (const f of figures) {
          expect(f.missing, `${file}: ${f.title}`).to.equal(null)
          expect(f.marks, `${file}: ${f.title}`).to.be.at.least(2)
          expect(f.width, `${file}: ${f.title} at ${width}px`).to.be.within(200, width)
          expect(f.outside, `${file}: ${f.title}`).to.deep.equal([])
        }
      }
    }
    // the forest plot of anime has one interval per analyzed anime, and the reference line
    const {page} = await openPage(browser!, path.join(analysis, 'aggregated', 'comparison.html'))
    const forest = await hoverTexts(page, 'Anime: rank exponents')
    await page.close()
    expect(forest.filter((t) => /: s = \d\.\d{3}, 95% interval /.test(t))).to.have.length(3)
    expect(forest.some((t) => t.startsWith('all anime: s = '))).to.equal(true)
  })

  it('the report uses the page width: figures beside the tables on a wide window', async () => {
    const {page} = await openPage(browser!, path.join(analysis, 'reports', 'final_report.html'), 1600)
    const layout = (await page.evaluate(`(() => {
      const figure = document.querySelector('figure[data-figure="Rank–frequency, all anime"]').getBoundingClientRect()
      const table = document.querySelector('table').getBoundingClientRect()
      return {figureLeft: figure.left, tableRight: table.right, body: document.body.getBoundingClientRect().width}
    })()`)) as {figureLeft: number; tableRight: number; body: number}
    await page.close()
    expect(layout.figureLeft).to.be.greaterThan(layout.tableRight)
    expect(layout.body).to.be.greaterThan(1400)
  })
})
