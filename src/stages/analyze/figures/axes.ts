/**
 * Shared pieces of the figures' Vega-Lite specs: log axes with a tick at every 1–9 × 10^k and a label
 * only at the powers of ten (the minor ticks a reader of log-log plots expects), one look for all.
 */

/**
 * Label 1, 10, 100, … (and 0.1, 0.01, …), and 2 and 5 times them where the axis spans less than two
 * powers of ten (else it could show no label at all); the other ticks stay as unlabelled minor ticks.
 */
function logLabels(channel: 'x' | 'y'): string {
  const exponent = 'log(datum.value) / LN10'
  const lead = `round(datum.value / pow(10, floor(${exponent} + 1e-9)))`
  const decades = `abs(log(domain('${channel}')[1] / domain('${channel}')[0]) / LN10)`
  const shown = `abs(${exponent} - round(${exponent})) < 1e-6 || (${decades} < 2 && (${lead} === 2 || ${lead} === 5))`
  return `${shown} ? format(datum.value, datum.value < 1 ? '~g' : ',~r') : ''`
}

export function logAxis(title: string, channel: 'x' | 'y') {
  // tickCount 10: every 1–9 × 10^k in the domain (fewer would skip the minor ticks, more makes Vega fall back to linear ticks on short spans)
  return {title, grid: true, gridOpacity: 0.5, tickCount: 10, labelExpr: logLabels(channel), labelOverlap: false, labelFlush: false}
}

export function logScale() {
  return {type: 'log' as const, nice: false}
}

export const WIDTH = 520
export const HEIGHT = 340

/** The look of every figure: readable sizes, legends below the plot so they never cover points or leave the figure. */
export const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans CJK JP", sans-serif',
  axis: {labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const},
  legend: {orient: 'bottom' as const, direction: 'vertical' as const, labelFontSize: 11, labelLimit: 480, title: null, symbolStrokeWidth: 3},
  view: {stroke: '#bbb'},
  background: 'white',
}

/** Log-spaced integers 1..max (at most n of them, each once). */
export function logSpaced(max: number, n: number): number[] {
  const out = new Set<number>()
  for (let k = 0; k < n; k++) out.add(Math.max(1, Math.round(Math.exp((Math.log(max) * k) / Math.max(1, n - 1)))))
  return [...out].sort((a, b) => a - b)
}
