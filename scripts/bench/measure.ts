export interface BenchResult {
  name: string
  value: number
  unit: string
}

/** Median seconds of `runs` calls. */
export function timeIt(runs: number, fn: () => unknown): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    fn()
    times.push(Number(process.hrtime.bigint() - t0) / 1e9)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

/** Peak resident memory of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024
}

export function printResults(title: string, results: BenchResult[]): void {
  console.log(`\n${title}`)
  for (const r of results) {
    const v = r.value >= 100 ? r.value.toFixed(0) : r.value >= 10 ? r.value.toFixed(1) : r.value.toFixed(3)
    console.log(`  ${r.name.padEnd(70)} ${v.padStart(10)} ${r.unit}`)
  }
}
