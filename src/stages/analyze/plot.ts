import {escapeHtml} from './html.js'

export interface PlotPoint {
  rank: number
  count: number
  word: string
}

export interface PlotLine {
  label: string
  color: string
  /** expected count at a rank */
  at: (rank: number) => number
}

const W = 640
const H = 440
const M = {left: 60, right: 20, top: 20, bottom: 45}

/** Keep every point of the first ranks and log-spaced ones after: the file stays small, the shape stays. */
export function samplePoints<T extends {rank: number}>(points: readonly T[], max = 1500): T[] {
  if (points.length <= max) return [...points]
  const keep = new Set<number>()
  for (let i = 0; i < Math.min(300, points.length); i++) keep.add(i)
  const last = points.length - 1
  const steps = max - keep.size
  for (let k = 0; k <= steps; k++) keep.add(Math.min(last, Math.round(Math.exp((Math.log(last + 1) * k) / steps)) - 1))
  return [...keep].sort((a, b) => a - b).map((i) => points[i]!)
}

/** A rank-frequency chart on log-log axes as inline SVG; each point tells its word, rank and count on hover. */
export function rankFrequencySvg(points: readonly PlotPoint[], lines: readonly PlotLine[]): string {
  if (points.length === 0) return '<p class="muted">no words</p>'
  const maxRank = points.at(-1)!.rank
  const maxCount = Math.max(...points.map((p) => p.count))
  const lx = (r: number) => M.left + (Math.log10(r) / Math.max(Math.log10(maxRank), 1e-9)) * (W - M.left - M.right)
  const ly = (c: number) => H - M.bottom - (Math.log10(Math.max(c, 0.5)) / Math.log10(maxCount * 1.2)) * (H - M.top - M.bottom)
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="rank-frequency plot">`)
  parts.push(`<defs><clipPath id="plot-area"><rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}"/></clipPath></defs>`)
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#999"/>`)
  for (let d = 1; d <= maxRank; d *= 10) parts.push(`<line x1="${lx(d)}" x2="${lx(d)}" y1="${H - M.bottom}" y2="${H - M.bottom + 5}" stroke="#333"/><text x="${lx(d)}" y="${H - M.bottom + 18}" text-anchor="middle">${d}</text>`)
  for (let d = 1; d <= maxCount * 1.2; d *= 10) parts.push(`<line x1="${M.left - 5}" x2="${M.left}" y1="${ly(d)}" y2="${ly(d)}" stroke="#333"/><text x="${M.left - 8}" y="${ly(d) + 4}" text-anchor="end">${d}</text>`)
  parts.push(`<text x="${(W + M.left) / 2}" y="${H - 8}" text-anchor="middle">rank</text><text transform="translate(14 ${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle">count</text>`)
  for (const p of samplePoints(points)) {
    parts.push(`<circle class="pt" cx="${lx(p.rank).toFixed(1)}" cy="${ly(p.count).toFixed(1)}" r="2.6"><title>${escapeHtml(`#${p.rank} ${p.word}: ${p.count}`)}</title></circle>`)
  }
  lines.forEach((line, i) => {
    const pts: string[] = []
    for (let k = 0; k <= 60; k++) {
      const r = Math.exp((Math.log(maxRank) * k) / 60)
      const c = line.at(r)
      if (Number.isFinite(c) && c > 0.3) pts.push(`${lx(r).toFixed(1)},${ly(c).toFixed(1)}`)
    }
    if (pts.length > 1) parts.push(`<polyline clip-path="url(#plot-area)" points="${pts.join(' ')}" fill="none" stroke="${line.color}" stroke-width="2"><title>${escapeHtml(line.label)}</title></polyline>`)
    parts.push(`<rect x="${W - 230}" y="${M.top + 10 + i * 16}" width="12" height="3" fill="${line.color}"/><text x="${W - 212}" y="${M.top + 15 + i * 16}">${escapeHtml(line.label)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n')
}
