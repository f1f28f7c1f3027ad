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

/** Nelder–Mead minimisation (small dimension), returns the best point. */
export function minimizeNelderMead(f: (x: number[]) => number, start: number[], step: number[], iterations = 600, tol = 1e-12): number[] {
  const n = start.length
  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? v + step[i]! : v)))]
  let values = simplex.map(f)
  for (let it = 0; it < iterations; it++) {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0])
    simplex = order.map(([, i]) => simplex[i]!)
    values = order.map(([v]) => v)
    if (Math.abs(values[n]! - values[0]!) < tol * (Math.abs(values[0]!) + tol)) break
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
  return simplex[best]!
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
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}

/** ln P(Z > z) for the standard normal, accurate far into the upper tail (no underflow). */
export function logNormalUpper(z: number): number {
  if (z < 0) return Math.log1p(-normalUpper(-z))
  const x = z / Math.SQRT2
  const t = 1 / (1 + 0.5 * x)
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
  return Math.log(0.5 * t) - x * x + poly
}

/** Upper tail of the standard normal, P(Z > z). */
export function normalUpper(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2)
}
