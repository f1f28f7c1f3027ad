import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Clock} from '../src/queue/clock.js'
import {type Queue, openQueue, queueLocation} from '../src/queue/index.js'
import type {NewJob} from '../src/queue/rows.js'
import {openDatabase, type DB} from '../src/queue/sqlite/open.js'
import {freshPgDatabase} from './pg.js'

export {openDatabase, type DB}

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = path.join(ROOT, 'bin', 'run.js')

const made: string[] = []
export function tempDir(prefix = 'animezipf-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

after(() => {
  for (const d of made) rmSync(d, {recursive: true, force: true})
})

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Run the built CLI as a user would, in its own process. */
export function runCli(args: string[], options: {cwd?: string; env?: Record<string, string | undefined>} = {}): CliResult {
  const env: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', ...options.env}
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd: options.cwd ?? ROOT, env: env, encoding: 'utf8', timeout: 300_000})
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

/** Run a TypeScript fixture script in its own node process (tsx loader). */
export function spawnFixture(script: string, args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'fixtures', script), ...args], {
    cwd: ROOT,
    env: {...process.env, ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** The JSON a fixture process prints on stdout, once it exits 0. */
export function fixtureResult<T>(child: ReturnType<typeof spawnFixture>): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${child.spawnargs.at(-4) ?? 'fixture'} exited ${code}: ${err}`)),
    )
  })
}

export class FakeClock implements Clock {
  constructor(public t = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.t
  }
  advance(ms: number): void {
    this.t += ms
  }
}

/** `shows` anime of `episodes` jobs each in the given stage. */
export async function seedQueue(queue: Queue, shows: number, episodes: number, stage: NewJob['stage'] = 'queued'): Promise<void> {
  for (let s = 1; s <= shows; s++) {
    const animeId = await queue.anime.upsert({mal_id: 1000 + s, title: `Show ${s}`, episodes_total: episodes})
    const jobs: NewJob[] = []
    for (let e = 1; e <= episodes; e++) jobs.push({animeId, malId: 1000 + s, animeTitle: `Show ${s}`, episode: e, stage})
    await queue.jobs.enqueue(jobs, 3)
  }
}

/** Open a queue at a file or a postgres:// URL. */
export async function openAt(target: string, clock?: Clock, host?: string): Promise<Queue> {
  const location = queueLocation(target.startsWith('postgres') ? target : `sqlite:${target}`, target)
  return openQueue({location, clock, host})
}

/** Run `fn` on the queue at a test's `target` (an SQLite file or a PostgreSQL URL), closed after. */
export async function withQueue<T>(at: {target: string}, fn: (q: Queue) => Promise<T>): Promise<T> {
  const q = await openAt(at.target)
  try {
    return await fn(q)
  } finally {
    await q.close()
  }
}

/** An SQLite file (or PostgreSQL database) with `shows` anime of `episodes` jobs each in the given stage. */
export async function seedDatabase(target: string, shows: number, episodes: number, stage: NewJob['stage'] = 'queued', clock?: Clock): Promise<void> {
  const queue = await openAt(target, clock)
  try {
    await seedQueue(queue, shows, episodes, stage)
  } finally {
    await queue.close()
  }
}

/** A fresh, empty queue on a backend: an SQLite file in a temp folder, or a new PostgreSQL database. */
export async function freshQueueTarget(backend: 'sqlite' | 'postgres'): Promise<string> {
  return backend === 'postgres' ? freshPgDatabase() : path.join(tempDir(), 'jobs.db')
}

/** SRT files for a made-up show: lines of the test dialogue in a seeded order (written for the tests). */
export function writeShowSubtitles(dir: string, episodes: number, seed: number, linesPerEpisode = 120): string[] {
  const lines = readFileSync(path.join(ROOT, 'test', 'fixtures', 'text', 'dialogue.txt'), 'utf8')
    .trim()
    .split('\n')
  let state = seed >>> 0
  const random = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 4_294_967_296
  }
  const files: string[] = []
  mkdirSync(dir, {recursive: true})
  for (let e = 1; e <= episodes; e++) {
    const cues: string[] = []
    for (let i = 0; i < linesPerEpisode; i++) {
      const line = lines[Math.floor(random() ** 1.6 * lines.length)]!
      const t = i * 3
      const stamp = (s: number) => `00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')},000`
      cues.push(`${i + 1}\n${stamp(t)} --> ${stamp(t + 2)}\n${line}\n`)
    }
    const file = path.join(dir, `ep${String(e).padStart(2, '0')}.srt`)
    writeFileSync(file, cues.join('\n'))
    files.push(file)
  }
  return files
}

/** Run the built CLI without blocking this process (a local stand-in server may need to answer it). */
export function runCliAsync(args: string[], options: {cwd?: string; env?: Record<string, string>} = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd: options.cwd ?? ROOT, env: {...process.env, NO_COLOR: '1', ...options.env}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({code: code ?? -1, stdout, stderr}))
  })
}

/** Every file below a folder (relative paths, sorted), folders left out; none when it does not exist. */
export function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    if (!existsSync(d)) return
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(path.relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}

/** A process that exists and is not a zombie (a killed one may wait for its reaper). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Every file under a folder with its bytes, for byte-identical comparisons. */
export function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out.set(path.relative(dir, p), readFileSync(p).toString('base64'))
    }
  }
  if (existsSync(dir)) walk(dir)
  return out
}
