/** Golden-section search for the maximum of a unimodal function on [lo, hi]. */
export function maximize1d(f: (x: number) => number, lo: number, hi: number, tol = 1e-10): number {
  const g = (Math.sqrt(5) - 1) / 2
  let a = lo
  let b = hi
  let c = b - g * (b - a)
  let d = a + g * (b - a)
  let fc = f(c)
  let fd = f(d)
  while (b - a > tol) {
    if (fc > fd) {
      b = d
      d = c
      fd = fc
      c = b - g * (b - a)
      fc = f(c)
    } else {
      a = c
      c = d
      fc = fd
      d = a + g * (b - a)
      fd = f(d)
    }
  }
  return (a + b) / 2
}

export interface Minimum {
  x: number[]
  value: number
  iterations: number
  /** The simplex's values agreed within the tolerance before the iteration limit. */
  converged: boolean
}

/** Nelder–Mead minimisation (small dimension): the best point, and whether and when it converged. */
export function minimizeNelderMead(f: (x: number[]) => number, start: number[], step: number[], iterations = 600, tol = 1e-12): Minimum {
  const n = start.length
  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? v + step[i]! : v)))]
  let values = simplex.map(f)
  let it = 0
  let converged = false
  for (; it < iterations; it++) {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0])
    simplex = order.map(([, i]) => simplex[i]!)
    values = order.map(([v]) => v)
    if (Math.abs(values[n]! - values[0]!) < tol * (Math.abs(values[0]!) + tol)) {
      converged = true
      break
    }
    const centroid = Array.from({length: n}, (_, j) => simplex.slice(0, n).reduce((s, p) => s + p[j]!, 0) / n)
    const worst = simplex[n]!
    const at = (t: number) => centroid.map((c, j) => c + t * (worst[j]! - c))
    const reflected = at(-1)
    const fr = f(reflected)
    if (fr < values[0]!) {
      const expanded = at(-2)
      const fe = f(expanded)
      ;[simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr]
    } else if (fr < values[n - 1]!) {
      ;[simplex[n], values[n]] = [reflected, fr]
    } else {
      const contracted = fr < values[n]! ? at(-0.5) : at(0.5)
      const fc = f(contracted)
      if (fc < Math.min(fr, values[n]!)) {
        ;[simplex[n], values[n]] = [contracted, fc]
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + 0.5 * (v - simplex[0]![j]!))
          values[i] = f(simplex[i]!)
        }
      }
    }
  }
  const best = values.indexOf(Math.min(...values))
  return {x: simplex[best]!, value: values[best]!, iterations: it, converged}
}

/**
 * Standard errors of a maximum-likelihood estimate: the square roots of the diagonal of the inverse
 * of the negative log-likelihood's Hessian at the optimum (central differences, two parameters).
 */
export function standardErrors2(negLogLik: (x: number[]) => number, at: number[]): [number, number] | undefined {
  const h = at.map((v) => Math.max(1e-4, Math.abs(v) * 1e-4))
  const f = (dx: number, dy: number) => negLogLik([at[0]! + dx, at[1]! + dy])
  const f0 = f(0, 0)
  const hxx = (f(h[0]!, 0) - 2 * f0 + f(-h[0]!, 0)) / (h[0]! * h[0]!)
  const hyy = (f(0, h[1]!) - 2 * f0 + f(0, -h[1]!)) / (h[1]! * h[1]!)
  const hxy = (f(h[0]!, h[1]!) - f(h[0]!, -h[1]!) - f(-h[0]!, h[1]!) + f(-h[0]!, -h[1]!)) / (4 * h[0]! * h[1]!)
  const det = hxx * hyy - hxy * hxy
  if (!(det > 0 && hxx > 0)) return undefined
  return [Math.sqrt(hyy / det), Math.sqrt(hxx / det)]
}

/** A small seeded generator (mulberry32): bootstrap runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Complementary error function (W. J. Cody's rational approximations via erfc = 1 - erf), |rel err| < 1.2e-7. */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}

/**
 * ln P(Z > z) for the standard normal, to ~1e-14 relative wherever it is finite: the lognormal
 * likelihood takes differences of neighbouring tail values, where a 1e-7 approximation turns into
 * noise. Below z = 3: 1 − erf, with erf from its positive series (the subtraction costs up to
 * ~6e-14 near z = 3, harmless here); above: Laplace's continued fraction, in logs (no underflow
 * however far out).
 */
export function logNormalUpper(z: number): number {
  if (z < -3) return Math.log1p(-Math.exp(logNormalUpper(-z)))
  if (z <= 3) {
    // erf(x) = 2/√π · e^(−x²) · Σ 2^n x^(2n+1) / (1·3·…·(2n+1)), x = z/√2
    const x = z / Math.SQRT2
    let term = x
    let sum = x
    for (let n = 1; n < 200; n++) {
      term *= (2 * x * x) / (2 * n + 1)
      sum += term
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break
    }
    const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum
    return Math.log(0.5 * (1 - erf))
  }
  // P(Z > z) = φ(z) / (z + 1/(z + 2/(z + 3/(z + …)))), evaluated bottom-up
  // the fraction converges faster the further out: ~90 terms at z = 3, ~25 at z = 10, for 1e-15
  let cf = z
  for (let k = Math.ceil(20 + 600 / (z * z)); k >= 1; k--) cf = z + k / cf
  return -0.5 * z * z - 0.5 * Math.log(2 * Math.PI) - Math.log(cf)
}

/** Upper tail of the standard normal, P(Z > z). */
export function normalUpper(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2)
}
