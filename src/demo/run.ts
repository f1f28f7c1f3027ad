import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT, UserError} from '../errors.js'
import {analyze} from '../stages/analyze/stage.js'
import {importSubtitles} from '../stages/import/run.js'
import {tokenize} from '../stages/tokenize/stage.js'
import {showStatus} from '../status/show.js'

/** The sample shipped with the package: fictional shows with dialogue written for animezipf. */
export const SAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'samples')

interface ShowMeta {
  title: string
  title_japanese?: string
  genres: string[]
  studios: string[]
  year?: number
}

function samples(dir: string): {dir: string; meta: ShowMeta}[] {
  if (!existsSync(dir)) throw new UserError(`the demo sample is missing (${dir})`, 'reinstall animezipf; the package ships a samples/ folder')
  return readdirSync(dir, {withFileTypes: true})
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'show.json')))
    .map((d) => ({dir: path.join(dir, d.name), meta: JSON.parse(readFileSync(path.join(dir, d.name, 'show.json'), 'utf8')) as ShowMeta}))
    .sort((a, b) => a.meta.title.localeCompare(b.meta.title))
}

/** The commands to try next, on the demo's folder (every command reads ./data unless told otherwise). */
function nextCommands(root: string): string[] {
  const rel = path.relative(process.cwd(), root)
  const dir = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : root
  const flag = `--data-dir ${/^[\w./-]+$/.test(dir) ? dir : JSON.stringify(dir)}`
  const next: [string, string][] = [
    [`animezipf word の ${flag}`, "a word's rank and count, and lines where it is said"],
    [`animezipf status ${flag}`, 'the queue and the disk'],
    ['animezipf import DIR --title "…"', 'your own subtitles, into ./data (see the README)'],
  ]
  const width = Math.max(...next.map(([c]) => c.length))
  return ['next:', ...next.map(([c, what]) => `  ${c.padEnd(width)}  ${what}`)]
}

/** `demo --json`: what was imported, tokenized and analyzed, the global fit, and where the pages are. */
export interface DemoResult {
  data_dir: string
  nothing_new: boolean
  imported_episodes: number
  tokenized: number
  analyzed: number
  corpus: unknown
  global_fit: {alpha: number; alpha_se: number; s: number; xmin: number; ks_d: number; least_squares_slope: number | null} | null
  coverage: unknown
  report: string
  comparison: string
  plots: string[]
}

/** `demo --json` when a step failed: which one, and that step's own result. */
export type DemoFailure = {failed_step: 'import' | 'tokenize' | 'analyze'} & object

/**
 * `animezipf demo`: the offline half of the pipeline on the bundled sample, through the real queue:
 * import -> tokenize -> analyze -> status, then the global fit and where the report and plots are.
 */
export async function runDemo(ctx: AppContext, options: {workers: number; samplesDir?: string}): Promise<ServiceResult<DemoResult | DemoFailure>> {
  const {output, paths} = ctx
  // the steps' summaries go to stdout, or to stderr when stdout carries the one JSON result
  const say = (text: string) => (output.json ? process.stderr.write(`${text}\n`) : output.print(text))
  const show = (r: ServiceResult<object>) => r.text.forEach(say)
  say(output.color.bold(`animezipf demo: data folder ${paths.root}`))

  let imported = 0
  for (const sample of samples(options.samplesDir ?? SAMPLES_DIR)) {
    say(output.color.bold(`\n== import: ${sample.meta.title} (${sample.meta.title_japanese ?? ''})`))
    const r = await importSubtitles(ctx, {
      paths: [sample.dir],
      title: sample.meta.title,
      titleJapanese: sample.meta.title_japanese,
      genres: sample.meta.genres,
      studios: sample.meta.studios,
      year: sample.meta.year,
      dryRun: false,
    })
    show(r)
    if (r.code !== EXIT.OK) return {code: r.code, result: {failed_step: 'import', ...r.result}, text: []}
    imported += r.result.imported
  }

  say(output.color.bold('\n== tokenize'))
  const tok = await tokenize(ctx, {workers: options.workers, dryRun: false, force: false})
  show(tok)
  if (tok.code !== EXIT.OK) return {code: tok.code, result: {failed_step: 'tokenize', ...tok.result}, text: []}
  say(output.color.bold('\n== analyze'))
  const ana = await analyze(ctx, {partial: false, bootstrap: 0, seed: 1, minCount: 1, force: false, dryRun: false})
  show(ana)
  if (ana.code !== EXIT.OK) return {code: ana.code, result: {failed_step: 'analyze', ...ana.result}, text: []}
  say(output.color.bold('\n== status'))
  show(await showStatus(ctx, {}))

  const tokenized = 'done' in tok.result ? tok.result.done : 0
  const analyzed = 'analyzed' in ana.result ? ana.result.analyzed : 0
  const nothingNew = imported === 0 && tokenized === 0 && analyzed === 0
  const global = existsSync(paths.globalFit) ? (JSON.parse(readFileSync(paths.globalFit, 'utf8')) as Record<string, unknown>) : undefined
  const plots = readdirSync(paths.perAnimeRoot).map((id) => paths.zipfPlot(Number(id)))
  const pl = global?.power_law as {alpha: number; alpha_se: number; s: number; xmin: number; ks_d: number} | undefined
  const ls = global?.zipf_fit as {rank_slope: number; r_squared: number} | undefined
  const result: DemoResult = {
    data_dir: paths.root,
    nothing_new: nothingNew,
    imported_episodes: imported,
    tokenized,
    analyzed,
    corpus: global?.corpus ?? null,
    global_fit: pl ? {alpha: pl.alpha, alpha_se: pl.alpha_se, s: pl.s, xmin: pl.xmin, ks_d: pl.ks_d, least_squares_slope: ls?.rank_slope ?? null} : null,
    coverage: global?.coverage ?? null,
    report: paths.finalReport,
    comparison: paths.comparisonHtml,
    plots,
  }
  const text = [output.color.bold('\n== result')]
  if (nothingNew) text.push('nothing new to do: every sample episode was already imported, tokenized and analyzed in this folder')
  if (pl) text.push(`global fit: α = ${pl.alpha.toFixed(4)} ± ${pl.alpha_se.toFixed(4)} (s = ${pl.s.toFixed(3)}), xmin ${pl.xmin}, KS D ${pl.ks_d.toFixed(4)}`)
  text.push(`report:     ${paths.finalReport}\ncomparison: ${paths.comparisonHtml}\nplots:\n${plots.map((p) => `  ${p}`).join('\n')}`)
  text.push('\nopen the report in a browser; it works offline.', ...nextCommands(paths.root))
  return {code: EXIT.OK, result, text}
}
