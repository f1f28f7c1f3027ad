import {logNormalUpper, maximize1d, minimizeNelderMead, normalUpper, seededRandom} from './optimize.js'
import {hurwitzZeta} from './zeta.js'

/**
 * Discrete power-law fits after Clauset, Shalizi & Newman (2009): P(k) = k^−α / ζ(α, xmin), k ≥ xmin.
 * Data are counts as a sorted table of (value, how many) so millions of words cost little.
 */
export interface CountTable {
  /** distinct values, ascending */
  values: number[]
  /** how many observations have each value */
  weights: number[]
}

export interface PowerLawFit {
  alpha: number
  /** Zipf's rank exponent s = 1 / (α − 1) */
  s: number
  xmin: number
  n_tail: number
  alpha_se: number
  ks_d: number
  log_likelihood: number
}

const ALPHA_LO = 1.0001
const ALPHA_HI = 6

export function countTable(counts: Iterable<number>): CountTable {
  const m = new Map<number, number>()
  for (const c of counts) if (c > 0) m.set(c, (m.get(c) ?? 0) + 1)
  const values = [...m.keys()].sort((a, b) => a - b)
  return {values, weights: values.map((v) => m.get(v)!)}
}

function tailStats(t: CountTable, from: number): {n: number; sumLog: number} {
  let n = 0
  let sumLog = 0
  for (let i = from; i < t.values.length; i++) {
    n += t.weights[i]!
    sumLog += t.weights[i]! * Math.log(t.values[i]!)
  }
  return {n, sumLog}
}

function fitAlpha(xmin: number, n: number, sumLog: number): number {
  return maximize1d((a) => -n * Math.log(hurwitzZeta(a, xmin)) - a * sumLog, ALPHA_LO, ALPHA_HI, 1e-9)
}

/**
 * KS distance between the tail's empirical CDF and the fitted one, at every distinct value.
 * It is a running maximum, so the scan stops once it passes `bound` (a better candidate exists).
 */
function ksDistance(t: CountTable, from: number, n: number, alpha: number, xmin: number, bound = Number.POSITIVE_INFINITY): number {
  const z0 = hurwitzZeta(alpha, xmin)
  let cum = 0
  let d = 0
  for (let i = from; i < t.values.length; i++) {
    cum += t.weights[i]!
    const empirical = cum / n
    const model = 1 - hurwitzZeta(alpha, t.values[i]! + 1) / z0
    d = Math.max(d, Math.abs(empirical - model))
    if (d > bound) return d
  }
  return d
}

function fitAt(t: CountTable, from: number, bound = Number.POSITIVE_INFINITY): PowerLawFit {
  const xmin = t.values[from]!
  const {n, sumLog} = tailStats(t, from)
  const alpha = fitAlpha(xmin, n, sumLog)
  return {
    alpha,
    s: 1 / (alpha - 1),
    xmin,
    n_tail: n,
    alpha_se: (alpha - 1) / Math.sqrt(n),
    ks_d: ksDistance(t, from, n, alpha, xmin, bound),
    log_likelihood: -n * Math.log(hurwitzZeta(alpha, xmin)) - alpha * sumLog,
  }
}

/**
 * Fit α by maximum likelihood; xmin fixed, or chosen among every distinct value (with at least
 * `minTail` observations at or above it) to minimise the KS distance.
 */
export function fitDiscretePowerLaw(t: CountTable, options: {xmin?: number; minTail?: number} = {}): PowerLawFit | undefined {
  if (t.values.length < 2) return undefined
  if (options.xmin !== undefined) {
    const from = t.values.findIndex((v) => v >= options.xmin!)
    if (from < 0) return undefined
    const fit = fitAt({values: t.values, weights: t.weights}, from)
    return {...fit, xmin: options.xmin, ...(t.values[from] === options.xmin ? {} : refitAt(t, from, options.xmin))}
  }
  const minTail = options.minTail ?? 10
  let best: PowerLawFit | undefined
  let tailCount = t.weights.reduce((a, b) => a + b, 0)
  for (let i = 0; i < t.values.length - 1; i++) {
    if (tailCount < minTail) break
    const fit = fitAt(t, i, best?.ks_d)
    if (!best || fit.ks_d < best.ks_d) best = fit
    tailCount -= t.weights[i]!
  }
  return best
}

function refitAt(t: CountTable, from: number, xmin: number): Partial<PowerLawFit> {
  const {n, sumLog} = tailStats(t, from)
  const alpha = fitAlpha(xmin, n, sumLog)
  return {alpha, s: 1 / (alpha - 1), alpha_se: (alpha - 1) / Math.sqrt(n), ks_d: ksDistance(t, from, n, alpha, xmin)}
}

/** One draw from the discrete power law above xmin: inverse of the CCDF ζ(α, x)/ζ(α, xmin). */
export function drawPowerLaw(alpha: number, xmin: number, r: number, z0 = hurwitzZeta(alpha, xmin)): number {
  // the continuous approximation as a start, then step to the exact discrete quantile
  let x = Math.max(xmin, Math.floor((xmin - 0.5) * (1 - r) ** (-1 / (alpha - 1)) + 0.5))
  const ccdf = (k: number) => hurwitzZeta(alpha, k) / z0
  const target = 1 - r
  while (x > xmin && ccdf(x) < target) x--
  while (ccdf(x + 1) >= target) x++
  return x
}

/**
 * Semi-parametric bootstrap goodness of fit (Clauset §4.1): replicates keep the data below xmin and
 * draw the tail from the fitted law; p is the share whose refitted KS distance is at least the observed one.
 */
export function bootstrapPValue(t: CountTable, fit: PowerLawFit, replicates: number, seed: number): number {
  const random = seededRandom(seed)
  const below: number[] = []
  let total = 0
  for (let i = 0; i < t.values.length; i++) {
    total += t.weights[i]!
    if (t.values[i]! < fit.xmin) for (let k = 0; k < t.weights[i]!; k++) below.push(t.values[i]!)
  }
  const pTail = fit.n_tail / total
  const z0 = hurwitzZeta(fit.alpha, fit.xmin)
  let atLeast = 0
  for (let rep = 0; rep < replicates; rep++) {
    const sample: number[] = []
    for (let k = 0; k < total; k++) {
      if (below.length === 0 || random() < pTail) sample.push(drawPowerLaw(fit.alpha, fit.xmin, random(), z0))
      else sample.push(below[Math.floor(random() * below.length)]!)
    }
    const refit = fitDiscretePowerLaw(countTable(sample))
    if (refit && refit.ks_d >= fit.ks_d) atLeast++
  }
  return atLeast / replicates
}

/** ln P(X ≥ x) of a continuous lognormal. */
function logLognormalUpper(x: number, mu: number, sigma: number): number {
  return logNormalUpper((Math.log(x) - mu) / sigma)
}

/**
 * Discrete lognormal on the tail, in logs: P(k) ∝ F(k + ½) − F(k − ½), normalised by 1 − F(xmin − ½)
 * (poweRlaw's dislnorm; the [k, k+1) cells used before put the Moby Dick ratio at R 1.07, not 0.42).
 */
function lognormalLogPmf(k: number, mu: number, sigma: number, logNorm: number): number {
  const a = logLognormalUpper(k - 0.5, mu, sigma)
  const b = logLognormalUpper(k + 0.5, mu, sigma)
  return a + Math.log(Math.max(-Math.expm1(b - a), 1e-300)) - logNorm
}

export interface LognormalComparison {
  mu: number
  sigma: number
  /** normalised log-likelihood ratio (power law − lognormal); positive favours the power law */
  normalized_r: number
  p_value: number
  favours: 'power_law' | 'lognormal' | 'neither'
  /** Whether the lognormal's fit converged, and in how many iterations. */
  converged: boolean
  iterations: number
}

/** Vuong's test of the fitted power law against a discrete lognormal on the same tail. */
export function compareLognormal(t: CountTable, fit: PowerLawFit): LognormalComparison {
  const from = t.values.findIndex((v) => v >= fit.xmin)
  const values = t.values.slice(from)
  const weights = t.weights.slice(from)
  const n = weights.reduce((a, b) => a + b, 0)
  const logLik = ([mu, sigma]: number[]) => {
    // on word counts the likelihood keeps rising, by less than 0.1 in all, as μ → −∞ (the lognormal
    // tail tends to a power law): the fit stops at μ = −200 (poweRlaw's optimiser stops near −237)
    if (!(sigma! > 0.05 && sigma! < 50 && mu! > -200 && mu! < 50)) return Number.POSITIVE_INFINITY
    const logNorm = logLognormalUpper(fit.xmin - 0.5, mu!, sigma!)
    let ll = 0
    for (let i = 0; i < values.length; i++) ll += weights[i]! * lognormalLogPmf(values[i]!, mu!, sigma!, logNorm)
    return -ll
  }
  let meanLog = 0
  for (let i = 0; i < values.length; i++) meanLog += (weights[i]! * Math.log(values[i]!)) / n
  const best = minimizeNelderMead(logLik, [meanLog, 1], [0.5, 0.3], 2000)
  const [mu, sigma] = best.x
  const logNorm = logLognormalUpper(fit.xmin - 0.5, mu!, sigma!)
  const z0 = Math.log(hurwitzZeta(fit.alpha, fit.xmin))
  let sum = 0
  let sumSq = 0
  for (let i = 0; i < values.length; i++) {
    const l = -fit.alpha * Math.log(values[i]!) - z0 - lognormalLogPmf(values[i]!, mu!, sigma!, logNorm)
    sum += weights[i]! * l
    sumSq += weights[i]! * l * l
  }
  const mean = sum / n
  const variance = sumSq / n - mean * mean
  const sd = Math.sqrt(Math.max(variance, 1e-300))
  const normalized = sum / (Math.sqrt(n) * sd)
  const p = 2 * normalUpper(Math.abs(normalized))
  return {
    mu: mu!,
    sigma: sigma!,
    normalized_r: normalized,
    p_value: p,
    favours: p > 0.1 ? 'neither' : normalized > 0 ? 'power_law' : 'lognormal',
    converged: best.converged,
    iterations: best.iterations,
  }
}

/**
 * The rank-frequency curve the fitted power law implies for this sample: at rank r (1..n_tail) the
 * largest count k with n_tail · P(X ≥ k) = n_tail · ζ(α, k) / ζ(α, xmin) ≥ r, the count the r-th
 * word has when the tail follows the fit. NaN past the tail (ranks whose words fall below xmin).
 */
export function powerLawRankCurve(fit: Pick<PowerLawFit, 'alpha' | 'xmin' | 'n_tail'>): (rank: number) => number {
  const z0 = hurwitzZeta(fit.alpha, fit.xmin)
  const ccdf = (k: number) => hurwitzZeta(fit.alpha, k) / z0
  return (rank) => {
    if (!(rank >= 1 && rank <= fit.n_tail)) return Number.NaN
    const target = rank / fit.n_tail
    if (target >= 1) return fit.xmin
    let lo = fit.xmin
    let hi = fit.xmin * 2
    while (ccdf(hi) > target) {
      // α near 1: the count at this rank is beyond anything a corpus holds
      if (hi >= 1e15) return Number.POSITIVE_INFINITY
      lo = hi
      hi *= 2
    }
    // the CCDF falls steadily in k: bisect in logs
    for (let i = 0; i < 60 && hi / lo > 1 + 1e-9; i++) {
      const mid = Math.sqrt(lo * hi)
      if (ccdf(mid) > target) lo = mid
      else hi = mid
    }
    // the word at rank r has the largest count k with n_tail · P(X ≥ k) ≥ r: a step at each count
    return Math.floor(Math.sqrt(lo * hi) + 1e-9)
  }
}

/**
 * The corners of that curve at up to `n` log-spaced counts k from xmin to `maxCount`: the rank
 * n_tail · ζ(α, k) / ζ(α, xmin) at which the fitted tail's words reach count k. One Hurwitz zeta per
 * point where the curve by rank needs a search per point (what a figure of every anime can afford).
 */
export function powerLawRankPoints(fit: Pick<PowerLawFit, 'alpha' | 'xmin' | 'n_tail'>, maxCount: number, n = 60): {rank: number; count: number}[] {
  const z0 = hurwitzZeta(fit.alpha, fit.xmin)
  const top = Math.max(fit.xmin, maxCount)
  const counts = new Set<number>()
  for (let i = 0; i < n; i++) counts.add(Math.round(fit.xmin * (top / fit.xmin) ** (i / Math.max(1, n - 1))))
  const out: {rank: number; count: number}[] = []
  for (const count of [...counts].sort((a, b) => a - b)) {
    const rank = count === fit.xmin ? fit.n_tail : (fit.n_tail * hurwitzZeta(fit.alpha, count)) / z0
    if (Number.isFinite(rank) && rank >= 1) out.push({rank, count})
  }
  return out
}
