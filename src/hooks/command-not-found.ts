import type {Hook} from '@oclif/core'

import {editDistance, printable} from '../util/text.js'

/** A misspelt command: one line with the nearest one, exit 2. */
const hook: Hook<'command_not_found'> = async function (options) {
  const ids = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
  const asked = options.id.replaceAll(':', ' ')
  const best = ids.map((id) => ({id, d: editDistance(asked, id)})).sort((a, b) => a.d - b.d)[0]
  const guess = best && best.d <= Math.max(2, Math.floor(asked.length / 3)) ? `did you mean \`animezipf ${best.id}\`? ` : ''
  process.stderr.write(`animezipf: no command ${printable(`"${asked}"`, 'line')} (${guess}see \`animezipf --help\` for the commands)\n`)
  process.exit(2)
}

export default hook
