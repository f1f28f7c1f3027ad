import type {TopLevelSpec} from 'vega-lite'

import {escapeHtml} from '../html.js'

/** Rows of one named data set of a figure. */
export type Rows = readonly Record<string, unknown>[]

type Vega = typeof import('vega')

interface Compiled {
  vega: Vega
  runtime: ReturnType<Vega['parse']>
}

/** Draws a figure by name somewhere else (the figure thread of `analyze`). */
export interface FigureRenderer {
  render(name: string, data: Record<string, Rows>, signals: Record<string, unknown>): Promise<string>
}

const figures = new Map<string, Figure>()
let renderer: FigureRenderer | undefined

/** Send every figure to `r` (a thread) from now on; undefined draws them in this thread again. */
export function useRenderer(r: FigureRenderer | undefined): void {
  renderer = r
}

/** The figure of that name, as the figure thread looks it up. */
export function figureNamed(name: string): Figure {
  const f = figures.get(name)
  if (!f) throw new Error(`no figure named ${name}`)
  return f
}

/**
 * A kind of figure: a Vega-Lite spec whose data come from named data sets, compiled and parsed once
 * and rendered to SVG in Node for every anime (no browser, no canvas). Vega and Vega-Lite are loaded
 * on the first render, so commands that draw nothing do not pay for them.
 */
export class Figure {
  private compiled?: Promise<Compiled>
  /** One view per kind, reused: building Vega's dataflow costs more than drawing a few hundred marks. */
  private view?: InstanceType<Vega['View']>
  /** Renders of one view take turns (analyze draws several anime at once). */
  private turn: Promise<unknown> = Promise.resolve()

  constructor(
    readonly name: string,
    private readonly spec: TopLevelSpec,
  ) {
    figures.set(name, this)
  }

  private compile(): Promise<Compiled> {
    this.compiled ??= (async () => {
      const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')])
      // Vega lays text out by an estimate of its width (no fonts in Node); the padding takes up a
      // browser font that runs wider, so axis labels never leave the figure
      const {spec} = vegaLite.compile({padding: {left: 16, right: 12, top: 6, bottom: 6}, ...this.spec})
      return {vega, runtime: vega.parse(spec)}
    })()
    return this.compiled
  }

  /**
   * The figure as an SVG element whose marks name what they show on hover. Every data set and signal
   * of the spec must be given (the view is reused). Drawn by the renderer in use, else here.
   */
  svg(data: Record<string, Rows>, signals: Record<string, unknown> = {}): Promise<string> {
    return renderer ? renderer.render(this.name, data, signals) : this.render(data, signals)
  }

  /** Draw in this thread. */
  render(data: Record<string, Rows>, signals: Record<string, unknown>): Promise<string> {
    const run = this.turn.then(async () => {
      const {vega, runtime} = await this.compile()
      this.view ??= new vega.View(runtime, {renderer: 'none'})
      const view = this.view
      for (const [name, rows] of Object.entries(data)) view.data(name, rows as object[])
      for (const [name, value] of Object.entries(signals)) view.signal(name, value)
      await view.runAsync()
      return compactSvg(withHoverTitles(await view.toSVG()))
    })
    this.turn = run.catch(() => undefined)
    return run
  }
}

/**
 * Vega writes a mark's tooltip into its aria-label; as a <title> child the browser shows it on hover
 * without any script (the pages stay script-free, open offline and print), and it stays the mark's
 * accessible name.
 */
export function withHoverTitles(svg: string): string {
  return svg.replace(
    /<(path|line|rect|text) aria-label="([^"]*)" role="graphics-symbol"( aria-roledescription="[^"]*")?([^>]*?)\/>/g,
    '<$1 role="graphics-symbol"$4><title>$2</title></$1>',
  )
}

/** Coordinates to one decimal (a tenth of a pixel): the pages of 10,000 anime stay a few hundred KB each. */
export function compactSvg(svg: string): string {
  return svg
    .replace(/<text [^>]*><\/text>/g, '')
    .replaceAll(' opacity="1"', '')
    .replace(
      / (d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g,
      (_all, name: string, value: string) => ` ${name}="${value.replace(/(\d\.\d)\d+/g, '$1')}"`,
    )
}

/** A figure with its heading and caption, or a line saying why it is missing. */
export function figureBlock(title: string, svg: string | null, caption: string, why = 'not enough data to draw it'): string {
  const body = svg ?? `<p class="muted nofig">${escapeHtml(why)}</p>`
  return `<figure class="figure" data-figure="${escapeHtml(title)}">${body}<figcaption><b>${escapeHtml(title)}.</b> ${escapeHtml(caption)}</figcaption></figure>`
}
