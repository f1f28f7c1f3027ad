import {minimizeNelderMead, standardErrors2} from './optimize.js'
import {powerSum} from './zeta.js'

/** Log-log least squares of frequency on rank (the design's fit; biased, kept for continuity). */
export interface LeastSquaresFit {
  /** minus the slope of log frequency on log rank (≈ 1): not the power law's α (≈ 2) */
  rank_slope: number
  constant: number
  r_squared: number
  method: 'log-log linear regression'
  rank_range: [number, number]
}

/** Fit log f = log C − rank_slope · log r over ranks [from, to] of counts sorted descending. */
export function fitLeastSquares(sortedCounts: readonly number[], from = 1, to = sortedCounts.length): LeastSquaresFit | undefined {
  const hi = Math.min(to, sortedCounts.length)
  const n = hi - from + 1
  if (n < 2) return undefined
  let sx = 0
  let sy = 0
  let sxx = 0
  let sxy = 0
  let syy = 0
  for (let r = from; r <= hi; r++) {
    const x = Math.log(r)
    const y = Math.log(sortedCounts[r - 1]!)
    sx += x
    sy += y
    sxx += x * x
    sxy += x * y
    syy += y * y
  }
  const cov = sxy - (sx * sy) / n
  const varX = sxx - (sx * sx) / n
  const varY = syy - (sy * sy) / n
  const slope = cov / varX
  const intercept = (sy - slope * sx) / n
  return {
    rank_slope: -slope,
    constant: Math.exp(intercept),
    r_squared: varY === 0 ? 1 : (cov * cov) / (varX * varY),
    method: 'log-log linear regression',
    rank_range: [from, hi],
  }
}

export interface ZipfMandelbrotFit {
  s: number
  b: number
  /** Standard errors from the likelihood's curvature at the optimum (null when it is flat). */
  s_se: number | null
  b_se: number | null
  log_likelihood: number
  /** False when the optimiser ran out of iterations or stopped against a limit of s or b. */
  converged: boolean
  iterations: number
  /** s or b sits at the edge of its allowed range (0.05 < s < 6, −0.99 < b < 10,000): not a real optimum. */
  at_bound: boolean
}

/**
 * Zipf–Mandelbrot f(r) ∝ (r + b)^−s by maximum likelihood over the tokens: each token of rank r
 * has probability (r + b)^−s / Σ_{k=1..V} (k + b)^−s.
 */
export function fitZipfMandelbrot(sortedCounts: readonly number[]): ZipfMandelbrotFit | undefined {
  const V = sortedCounts.length
  if (V < 3) return undefined
  const N = sortedCounts.reduce((a, c) => a + c, 0)
  // ranks with equal counts form runs: Σ_{r in run} ln(r + b) = lnΓ(end + b + 1) − lnΓ(start + b),
  // so one evaluation costs the number of distinct counts, not the number of words
  const runs: {start: number; end: number; count: number}[] = []
  for (let r = 1; r <= V; r++) {
    const c = sortedCounts[r - 1]!
    const last = runs.at(-1)
    if (last && last.count === c) last.end = r
    else runs.push({start: r, end: r, count: c})
  }
  const negLogLik = ([s, b]: number[]) => {
    if (!(s! > 0.05 && s! < 6 && b! > -0.99 && b! < 1e4)) return Number.POSITIVE_INFINITY
    let data = 0
    for (const run of runs) data += run.count * (lgamma(run.end + b! + 1) - lgamma(run.start + b!))
    return s! * data + N * Math.log(powerSum(s!, 1 + b!, V + b!))
  }
  const best = minimizeNelderMead(negLogLik, [1, 1], [0.2, 2], 2000, 1e-13)
  const [s, b] = best.x
  const atBound = s! < 0.05 + 1e-3 || s! > 6 - 1e-3 || b! < -0.99 + 1e-3 || b! > 1e4 - 1
  const se = atBound ? undefined : standardErrors2(negLogLik, best.x)
  return {
    s: s!,
    b: b!,
    s_se: se?.[0] ?? null,
    b_se: se?.[1] ?? null,
    log_likelihood: -best.value,
    converged: best.converged && !atBound,
    iterations: best.iterations,
    at_bound: atBound,
  }
}

/**
 * Ranks (0-based) drawn from the Zipf–Mandelbrot law p(r) ∝ (r + 1 + b)^−s over `V` ranks, one per
 * call, by inverting its CDF with `random` (synthetic corpora for the tests and the benchmarks).
 */
export function zipfMandelbrotSampler(s: number, b: number, V: number, random: () => number): () => number {
  const offset = 1 + b
  const cdf = new Float64Array(V)
  let z = 0
  for (let r = 0; r < V; r++) z += (r + offset) ** -s
  let acc = 0
  for (let r = 0; r < V; r++) cdf[r] = acc += (r + offset) ** -s / z
  return () => {
    const u = random()
    let lo = 0
    let hi = V - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

export interface HeapsFit {
  K: number
  beta: number
  points: number
  /** What the points are: the vocabulary every 25 words of the token stream, or after each episode. */
  source?: 'token stream' | 'episodes'
}

/** Heaps' law V = K · N^β by least squares in logs over the vocabulary growth points. */
export function fitHeaps(growth: readonly {tokens: number; types: number}[]): HeapsFit | undefined {
  const pts = growth.filter((g) => g.tokens > 0 && g.types > 0)
  if (pts.length < 2) return undefined
  let sx = 0
  let sy = 0
  let sxx = 0
  let sxy = 0
  for (const p of pts) {
    const x = Math.log(p.tokens)
    const y = Math.log(p.types)
    sx += x
    sy += y
    sxx += x * x
    sxy += x * y
  }
  const n = pts.length
  const varX = sxx - (sx * sx) / n
  if (varX <= 0) return undefined
  const beta = (sxy - (sx * sy) / n) / varX
  return {K: Math.exp((sy - beta * sx) / n), beta, points: n}
}

function logChoose(n: number, k: number, lgamma: (x: number) => number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
}

/** ln Γ(x) (Lanczos, g = 7): enough for rarefaction. */
export function lgamma(x: number): number {
  const c = [
    0.999_999_999_999_809_9, 676.520_368_121_885_1, -1259.139_216_722_402_8, 771.323_428_777_653_1, -176.615_029_162_140_6, 12.507_343_278_686_905,
    -0.138_571_095_265_720_12, 9.984_369_578_019_572e-6, 1.505_632_735_149_311_6e-7,
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x)
  const y = x - 1
  let a = c[0]!
  const t = y + 7.5
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i)
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a)
}

/**
 * Expected vocabulary of a random subsample of n tokens (rarefaction): Σ_w 1 − C(N − f_w, n) / C(N, n).
 * Vocabulary sizes of texts of different lengths are compared at one n.
 */
export function rarefiedVocabulary(counts: readonly number[], n: number): number {
  const N = counts.reduce((a, c) => a + c, 0)
  if (n >= N) return counts.length
  const denom = logChoose(N, n, lgamma)
  let v = 0
  for (const f of counts) {
    if (N - f < n) {
      v += 1
      continue
    }
    v += 1 - Math.exp(logChoose(N - f, n, lgamma) - denom)
  }
  return v
}

export interface Coverage {
  /** types needed to cover that share of the tokens, most frequent first */
  types_for: Record<'80' | '90' | '95' | '98', number>
  hapax_share: number
}

export function coverage(sortedCounts: readonly number[]): Coverage {
  const N = sortedCounts.reduce((a, c) => a + c, 0)
  const targets = [80, 90, 95, 98] as const
  const out = {'80': 0, '90': 0, '95': 0, '98': 0}
  let cum = 0
  let t = 0
  for (let i = 0; i < sortedCounts.length && t < targets.length; i++) {
    cum += sortedCounts[i]!
    while (t < targets.length && cum >= (targets[t]! / 100) * N) {
      out[String(targets[t]) as keyof typeof out] = i + 1
      t++
    }
  }
  const hapax = sortedCounts.filter((c) => c === 1).length
  return {types_for: out, hapax_share: sortedCounts.length ? hapax / sortedCounts.length : 0}
}
