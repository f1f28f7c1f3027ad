import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {type BenchResult} from './measure.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const corpus = path.resolve(root, '..', 'shared', 'corpus')

/** Subtitle folders to use: the real corpus beside the project when present, else the test fixtures. */
function sources(): {name: string; dir: string}[] {
  if (existsSync(corpus)) {
    return readdirSync(corpus, {withFileTypes: true})
      .filter((d) => d.isDirectory())
      .map((d) => ({name: d.name, dir: path.join(corpus, d.name)}))
  }
  return [{name: 'fixtures', dir: path.join(root, 'test', 'fixtures', 'subs')}]
}

function cli(args: string[]): {stdout: string; stderr: string; status: number | null} {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
}

/** Peak RSS of a command and its threads, in MB, from /usr/bin/time when there is one. */
function timed(args: string[]): {ms: number; peakMb: number | null; stdout: string} {
  const t0 = process.hrtime.bigint()
  const hasTime = existsSync('/usr/bin/time')
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(root, 'bin', 'run.js'), ...args], {
        encoding: 'utf8',
        env: {...process.env, NO_COLOR: '1'},
      })
    : spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`animezipf ${args.join(' ')} failed: ${r.stderr}`)
  const peak = hasTime ? Number(r.stderr.trim().split('\n').at(-1)) / 1024 : null
  return {ms, peakMb: peak, stdout: r.stdout}
}

export async function benchTokenize(): Promise<BenchResult[]> {
  const work = mkdtempSync(path.join(tmpdir(), 'animezipf-bench-tok-'))
  const results: BenchResult[] = []
  try {
    const copies = 60
    const data = path.join(work, 'data')
    let episodes = 0
    // the corpus is small: import it several times (as different anime) for a run long enough to measure
    for (let c = 0; c < copies; c++) {
      for (const s of sources()) {
        // each copy is the same text on purpose: import refuses that unless told
        const r = cli(['import', s.dir, '--title', `${s.name} copy ${c}`, '--allow-duplicate', '--data-dir', data, '--json'])
        if (r.status !== 0 && r.status !== 1) throw new Error(`import failed: ${r.stderr}`)
        episodes += JSON.parse(r.stdout).imported
      }
    }
    for (const workers of [1, 2]) {
      if (workers === 2) cli(['tokenize', '--data-dir', data, '--force', '--dry-run'])
      const args = ['tokenize', '--workers', String(workers), '--data-dir', data, '--json', ...(workers === 2 ? ['--force'] : [])]
      const run = timed(args)
      const summary = JSON.parse(run.stdout)
      results.push({name: `tokenize stage, ${workers} worker(s): ${summary.done} episodes, throughput`, value: summary.text_mb_per_s, unit: 'MB text/s'})
      results.push({name: `tokenize stage, ${workers} worker(s): whole command wall time`, value: run.ms / 1000, unit: 's'})
      if (run.peakMb !== null) results.push({name: `tokenize stage, ${workers} worker(s): peak memory (process + threads)`, value: run.peakMb, unit: 'MB'})
    }

    // the reference: MeCab, one process, on the same cleaned text
    const text: string[] = []
    const {cleanSegments} = await import('../../src/stages/tokenize/clean.js')
    const {DEFAULTS} = await import('../../src/config/defaults.js')
    const {readTextFile} = await import('../../src/util/gzip-file.js')
    const tdir = path.join(data, 'transcripts')
    for (const anime of readdirSync(tdir)) {
      for (const f of readdirSync(path.join(tdir, anime)).filter((n) => n.includes('.json'))) {
        text.push(...cleanSegments(JSON.parse(readTextFile(path.join(tdir, anime, f))).segments, DEFAULTS.tokenize.cleaning))
      }
    }
    const input = text.join('\n') + '\n'
    const mb = Buffer.byteLength(input) / 1e6
    const probe = spawnSync('mecab', ['--version'])
    if (probe.status === 0) {
      const t0 = process.hrtime.bigint()
      const r = spawnSync('mecab', [], {input, maxBuffer: 1 << 30})
      const s = Number(process.hrtime.bigint() - t0) / 1e9
      if (r.status === 0) results.push({name: `reference: mecab, 1 process, same ${mb.toFixed(2)} MB of text`, value: mb / s, unit: 'MB text/s'})
      const two = results.find((x) => x.name.startsWith('tokenize stage, 2 worker(s): ') && x.unit === 'MB text/s')
      if (two) results.push({name: 'ratio: tokenize with 2 workers / mecab (target >= 0.33)', value: two.value / (mb / s), unit: 'x'})
    } else {
      results.push({name: 'reference: mecab not installed (apt-get install mecab mecab-ipadic-utf8)', value: 0, unit: '-'})
    }

    // permanent bytes per episode: transcript + tokens + frequency CSV
    const {folderBytes} = await import('../../src/util/disk.js')
    const perm = folderBytes(path.join(data, 'transcripts')) + folderBytes(path.join(data, 'tokens'))
    results.push({name: `permanent bytes per episode (transcript + tokens + CSV, ${episodes} episodes)`, value: perm / episodes / 1000, unit: 'KB'})
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
  return results
}
