// Headless Chromium (Debian's `chromium`, driven by playwright-core) for the page tests and `npm run screenshots`.
import {existsSync} from 'node:fs'
import path from 'node:path'

import type {Browser, Page} from 'playwright-core'

/** The Chromium to drive: ANIMEZIPF_CHROMIUM, else Debian's or one on PATH. */
export function findChromium(): string | undefined {
  const named = process.env.ANIMEZIPF_CHROMIUM
  if (named) return existsSync(named) ? named : undefined
  for (const dir of ['/usr/bin', ...(process.env.PATH ?? '').split(path.delimiter)]) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      const file = path.join(dir, name)
      if (dir && existsSync(file)) return file
    }
  }
  return undefined
}

/** Offline and quiet: without these Chromium keeps calling Google's hosts, which a closed network refuses. */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export async function launchChromium(executablePath: string): Promise<Browser> {
  const {chromium} = await import('playwright-core')
  return chromium.launch({executablePath, args: ARGS, headless: true})
}

export interface FigureCheck {
  title: string
  /** marks of the data (points, lines, rules, bars) with a visible size, axes and legends not counted */
  marks: number
  /** the figure's SVG has a size on the page */
  width: number
  height: number
  /** legends and axes that reach outside the SVG (they would be cut off) */
  outside: string[]
  /** the placeholder line of a figure that had nothing to draw */
  missing: string | null
}

/**
 * What every figure of the open page has drawn, measured by the browser's own layout. Plain JavaScript
 * in a string: functions compiled by tsx carry helpers that do not exist in the page.
 */
const FIGURE_CHECK = `[...document.querySelectorAll('figure.figure')].map((figure) => {
  const svg = figure.querySelector('svg')
  const box = svg ? svg.getBoundingClientRect() : null
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 || r.height > 0 }
  const marks = svg ? [...svg.querySelectorAll('g.role-mark > *')].filter((el) => !el.closest('.role-axis, .role-legend') && visible(el)).length : 0
  const outside = []
  if (box) {
    for (const part of svg.querySelectorAll('g.role-legend, g.role-axis')) {
      const r = part.getBoundingClientRect()
      if (r.width === 0 && r.height === 0) continue
      if (r.left < box.left - 1 || r.top < box.top - 1 || r.right > box.right + 1 || r.bottom > box.bottom + 1) outside.push(part.getAttribute('aria-label') || part.getAttribute('class') || '?')
    }
  }
  const missing = figure.querySelector('.nofig')
  return {title: figure.getAttribute('data-figure') || '', marks, width: box ? box.width : 0, height: box ? box.height : 0, outside, missing: missing ? missing.textContent : null}
})`

export function checkFigures(page: Page): Promise<FigureCheck[]> {
  return page.evaluate(FIGURE_CHECK) as Promise<FigureCheck[]>
}

/** The hover texts of the marks of one figure of the open page. */
export function hoverTexts(page: Page, figure: string): Promise<string[]> {
  return page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(`figure[data-figure="${figure}"] [role=graphics-symbol] > title`)})].map((t) => t.textContent || '')`,
  ) as Promise<string[]>
}

/** Open a page file, collecting script errors, console errors and any request that leaves the file system. */
export async function openPage(browser: Browser, file: string, width = 1400): Promise<{page: Page; problems: string[]}> {
  const page = await browser.newPage({viewport: {width, height: 900}})
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`)
  })
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) problems.push(`request outside the page: ${r.url()}`)
  })
  await page.goto(`file://${file}`, {waitUntil: 'load'})
  return {page, problems}
}
