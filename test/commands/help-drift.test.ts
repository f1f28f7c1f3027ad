// Every command's --help names only paths, flags and settings the code has: data paths are matched
// against what DataPaths builds, flags against the commands' own, settings against the config's
// defaults. Help that drifts from the code fails here.
import {expect} from 'chai'
import path from 'node:path'

import {DEFAULTS} from '../../src/config/defaults.js'
import {DataPaths} from '../../src/paths.js'
import {runCliAsync} from '../helpers.js'

const COMMANDS = [
  'scrape',
  'select',
  'download',
  'transcribe',
  'tokenize',
  'analyze',
  'status',
  'retry',
  'cleanup',
  'doctor',
  'word',
  'import',
  'demo',
  'queue copy',
]
const ROOT = '/R'

/** Every path DataPaths makes for anime 1, episode 1 (both compressions, a few extensions), relative to the data folder. */
function knownPaths(): string[] {
  const p = new DataPaths(ROOT)
  // where files of older layouts lived is not where help may send anyone
  const proto = Object.getOwnPropertyNames(DataPaths.prototype).filter((n) => n !== 'constructor' && !n.startsWith('legacy'))
  const tries: unknown[][] = [[], [1], [1, 1], [1, 1, true], [1, 1, false], [1, 1, 'mkv'], ['base'], ['genre', 'Drama'], ['studio', 'Bones']]
  const out = new Set<string>()
  for (const name of proto) {
    const d = Object.getOwnPropertyDescriptor(DataPaths.prototype, name)!
    const values = d.get
      ? [d.get.call(p) as unknown]
      : tries.map((args) => {
          try {
            return (d.value as (...a: unknown[]) => unknown).apply(p, args)
          } catch {
            return undefined
          }
        })
    for (const v of values) if (typeof v === 'string' && v.startsWith(`${ROOT}/`)) out.add(path.relative(ROOT, v))
  }
  return [...out]
}

/** A help path ("tokens/<mal_id>/epNNN_tokens.json(.gz)") as a pattern over real paths. */
function pathPattern(template: string): RegExp {
  const esc = template
    .replace(/^data\//, '')
    .replace(/[.*+?^${}|[\]\\]/g, '\\$&')
    .replace(/\\\(\\\.gz\\\)|\(\\\.gz\)/g, '(\\.gz)?')
    .replace(/<mal_id>/g, '\\d+')
    .replace(/<model>/g, '[\\w.-]+')
    .replace(/<ext>/g, '\\w+')
    .replace(/NNN/g, '\\d{3}')
  return new RegExp(`^${esc}${template.endsWith('/') ? '' : '/?'}`)
}

/** The data paths a help text names: those under a folder of the data layout. */
function helpPaths(text: string): string[] {
  const tops = ['videos', 'audio', 'metadata', 'models', 'transcripts', 'tokens', 'analysis', 'cache', 'reports']
  const found = text.match(new RegExp(`(?<![\\w/<>])(?:data/)?(?:${tops.join('|')})/[A-Za-z0-9_<>./()-]*`, 'g')) ?? []
  return found.map((t) => t.replace(/[.)]+$/, (m) => (m.startsWith('.') || !t.includes('(') ? '' : m))).map((t) => t.replace(/\.$/, ''))
}

interface Help {
  command: string
  text: string
}

describe('help that matches the code', function () {
  it('would catch a path of the old layout (videos/<mal_id>/metadata.json)', () => {
    const known = knownPaths()
    expect(known.some((k) => pathPattern('metadata/<mal_id>.json').test(k))).to.equal(true)
    expect(known.some((k) => pathPattern('videos/<mal_id>/metadata.json').test(k))).to.equal(false)
  })

  this.timeout(120_000)
  const helps: Help[] = []
  before(async () => {
    for (const command of COMMANDS) {
      const r = await runCliAsync([...command.split(' '), '--help'])
      expect(r.code, `${command} --help: ${r.stderr}`).to.equal(0)
      helps.push({command, text: r.stdout})
    }
  })

  it('names only data paths that DataPaths builds', () => {
    const known = knownPaths()
    const wrong: string[] = []
    for (const h of helps) {
      for (const t of helpPaths(h.text)) {
        const re = pathPattern(t.replace(/\(\.gz\)$/, '(.gz)'))
        if (!known.some((k) => re.test(k))) wrong.push(`${h.command}: ${t}`)
      }
    }
    expect(helps.flatMap((h) => helpPaths(h.text)).length, 'the helps name data paths').to.be.greaterThan(5)
    expect(wrong).to.deep.equal([])
  })

  it('names only flags some command has', () => {
    const flags = new Set(helps.flatMap((h) => [...h.text.matchAll(/^\s+(?:-\w, )?--([a-z][\w-]*)/gm)].map((m) => m[1]!)))
    const wrong = helps.flatMap((h) =>
      [...h.text.matchAll(/(?<![\w-])--([a-z][a-z-]*[a-z])/g)]
        .map((m) => m[1]!)
        .filter((f) => !flags.has(f))
        .map((f) => `${h.command}: --${f}`),
    )
    expect(flags.size).to.be.greaterThan(20)
    expect([...new Set(wrong)]).to.deep.equal([])
  })

  it('names only settings the config has', () => {
    const defaults = DEFAULTS as unknown as Record<string, Record<string, unknown>>
    const named = helps.flatMap((h) => [...h.text.matchAll(/\[([a-z_.]+)\](?: ([a-z_]+))?/g)].map((m) => ({h: h.command, section: m[1]!, key: m[2]})))
    const wrong = named
      .filter(({section, key}) => {
        const s = section.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], defaults)
        if (s === undefined || typeof s !== 'object') return true
        // the word after a section is a setting when it looks like one (snake_case), else prose
        return key !== undefined && key.includes('_') && !(key in (s as object))
      })
      .map(({h, section, key}) => `${h}: [${section}]${key ? ` ${key}` : ''}`)
    expect(named.length, 'the helps name settings').to.be.greaterThan(3)
    expect(wrong).to.deep.equal([])
  })
})
