import path from 'node:path'

const PATTERNS = [
  /第\s*(\d{1,4})\s*[話回]/,
  /(?:^|[^a-z])(?:ep|episode|e)\s*\.?\s*(\d{1,4})(?!\d)/i,
  /\s-\s(\d{1,4})(?:v\d)?(?!\d)/,
  /[[#](\d{1,4})[\]]?(?!\d)/,
]

/** The episode number in a subtitle file's name, when there is one (ep01, E01, " - 01", 第1話, [01]). */
export function episodeFromName(file: string): number | undefined {
  const name = path.basename(file).replace(/\.[^.]+$/, '')
  for (const re of PATTERNS) {
    const m = re.exec(name)
    if (m) return Number(m[1])
  }
  // last resort: a lone number that is not a resolution, codec or year
  const numbers = [...name.matchAll(/(?<![\dxX])(\d{1,3})(?![\dpP])/g)].map((m) => Number(m[1]))
  return numbers.length > 0 ? numbers.at(-1) : undefined
}

/** Natural order of names: ep2 before ep10. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, {numeric: true, sensitivity: 'base'})
}
