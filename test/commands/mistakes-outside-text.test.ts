// Mistakes whose one line quotes what the user typed (issue #20, item 16): a name holding ESC or a
// bidi override is shown escaped (\x1b, \u202e), never sent raw to the terminal.
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {type MistakeCase, mistakeCases} from '../fixtures/mistakes.js'
import {seedDatabase, tempDir} from '../helpers.js'

describe('mistakes that quote hostile names: one line, escaped, exit 2, nothing changed', function () {
  this.timeout(120_000)
  let data: string
  let scratch: string

  before(async () => {
    data = path.join(tempDir(), 'data')
    await seedDatabase(path.join(data, 'jobs.db'), 1, 2)
    scratch = tempDir()
    writeFileSync(path.join(scratch, 'file\u001b[2J'), '')
  })

  const cases: MistakeCase[] = [
    {name: 'a misspelt command holding ESC', args: () => ['stat\u001b[2Jus', '--data-dir', data], message: /^animezipf: no command "stat\\x1b\[2Jus" \(/},
    {
      name: 'a --config path holding ESC and U+202E',
      args: () => ['status', '--data-dir', data, '--config', path.join(scratch, 'no\u001b[2J\u202e.toml')],
      message: /config file not found: .*no\\x1b\[2J\\u202e\.toml \(/,
    },
    {
      name: 'a --data-dir that is a file whose name holds ESC',
      args: () => ['status', '--data-dir', path.join(scratch, 'file\u001b[2J')],
      message: /--data-dir .*file\\x1b\[2J is a file, not a folder/,
    },
  ]

  mistakeCases(cases, () => path.join(data, 'jobs.db'))
})
