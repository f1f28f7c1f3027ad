import type {WordCount} from '../tokenize/frequency.js'
import {type LognormalComparison, type PowerLawFit, bootstrapPValue, compareLognormal, countTable, fitDiscretePowerLaw} from './powerlaw.js'
import {type Coverage, type LeastSquaresFit, type ZipfMandelbrotFit, coverage, fitLeastSquares, fitZipfMandelbrot} from './rank-fits.js'

export interface FitOptions {
  bootstrap: number
  seed: number
  /** Leave words seen fewer times than this out of the fits (not out of the counts). */
  minCount: number
}

export interface FitReport {
  total_words: number
  unique_words: number
  vocabulary_richness: number
  zipf_fit: LeastSquaresFit | null
  power_law: (PowerLawFit & {bootstrap: {replicates: number; seed: number; p_value: number} | null; lognormal: LognormalComparison | null}) | null
  zipf_mandelbrot: ZipfMandelbrotFit | null
  coverage: {all: Coverage; without_particles: Coverage}
  top_words: {word: string; pos: string; count: number; rank: number; frequency: number}[]
}

export const PARTICLE = '助詞'

/** Every fit of one frequency list (rows most frequent first). */
export function fitFrequencies(rows: readonly WordCount[], options: FitOptions): FitReport {
  const total = rows.reduce((a, r) => a + r.count, 0)
  const counts = rows.map((r) => r.count).filter((c) => c >= options.minCount)
  const table = countTable(counts)
  const pl = fitDiscretePowerLaw(table)
  return {
    total_words: total,
    unique_words: rows.length,
    vocabulary_richness: total ? rows.length / total : 0,
    zipf_fit: fitLeastSquares(counts) ?? null,
    power_law: pl
      ? {
          ...pl,
          bootstrap:
            options.bootstrap > 0
              ? {replicates: options.bootstrap, seed: options.seed, p_value: bootstrapPValue(table, pl, options.bootstrap, options.seed)}
              : null,
          lognormal: compareLognormal(table, pl),
        }
      : null,
    zipf_mandelbrot: fitZipfMandelbrot(counts) ?? null,
    coverage: {all: coverage(rows.map((r) => r.count)), without_particles: coverage(rows.filter((r) => r.pos !== PARTICLE).map((r) => r.count))},
    top_words: rows.slice(0, 50).map((r, i) => ({word: r.word, pos: r.pos, count: r.count, rank: i + 1, frequency: total ? r.count / total : 0})),
  }
}

/** Standard error of the rank exponent s = 1/(α−1), from that of α. */
export function rankExponentSe(fit: Pick<PowerLawFit, 'alpha' | 'alpha_se'>): number {
  return fit.alpha_se / (fit.alpha - 1) ** 2
}
