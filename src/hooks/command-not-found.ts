import type {Hook} from '@oclif/core'

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = keep
    }
  }
  return row[b.length]!
}

/** A misspelt command: one line with the nearest one, exit 2. */
const hook: Hook<'command_not_found'> = async function (options) {
  const ids = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
  const asked = options.id.replaceAll(':', ' ')
  const best = ids.map((id) => ({id, d: distance(asked, id)})).sort((a, b) => a.d - b.d)[0]
  const guess = best && best.d <= Math.max(2, Math.floor(asked.length / 3)) ? `did you mean \`animezipf ${best.id}\`? ` : ''
  process.stderr.write(`animezipf: no command "${asked}" (${guess}see \`animezipf --help\` for the commands)\n`)
  process.exit(2)
}

export default hook
