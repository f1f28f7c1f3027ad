// The README's JSON examples have exactly the fields the commands print: an example marked
// <!-- json: COMMAND --> is compared, key by key (values aside), with a real run's --json output.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {ROOT, runCliAsync, tempDir, writeShowSubtitles} from '../helpers.js'

/** The examples in the README, by the command named in their marker. */
function readmeExamples(): Map<string, unknown> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const found = new Map<string, unknown>()
  for (const m of readme.matchAll(/<!-- json: ([\w -]+) -->\n```json\n([\s\S]*?)\n```/g)) found.set(m[1]!, JSON.parse(m[2]!))
  return found
}

/** Every key path of a JSON value ("disk.pauses", "failures[]"), values aside. */
function shape(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return [`${at}[]`, ...(value.length > 0 ? shape(value[0], `${at}[]`) : [])]
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) => [`${at}${at ? '.' : ''}${k}`, ...shape(v, `${at}${at ? '.' : ''}${k}`)])
}

describe('README: the JSON examples match the commands', function () {
  this.timeout(120_000)

  it('has the tokenize example, with the fields `tokenize --json` prints', async () => {
    const example = readmeExamples().get('tokenize')
    expect(example, 'the README has a <!-- json: tokenize --> example').to.not.equal(undefined)
    const work = tempDir()
    const data = path.join(work, 'data')
    const subs = path.join(work, 'subs')
    writeShowSubtitles(subs, 3, 7)
    const imported = await runCliAsync(['import', subs, '--data-dir', data, '--title', 'README Show', '--json'], {cwd: work})
    expect(imported.code, imported.stderr).to.equal(0)
    const r = await runCliAsync(['tokenize', '--data-dir', data, '--json', '--workers', '1'], {cwd: work})
    expect(r.code, r.stderr).to.equal(0)
    const printed = JSON.parse(r.stdout) as Record<string, unknown>
    expect(printed.done).to.equal(3)
    expect(shape(example)).to.deep.equal(shape(printed))
  })
})
