import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {Worker, type WorkerOptions} from 'node:worker_threads'

/**
 * A worker thread running `name` (a module beside `base`, given as import.meta.url): the compiled .js
 * in dist, or the .ts source under the tsx loader (tests, benchmarks), whose loader the thread then
 * registers itself (workers do not inherit it on Node 20).
 */
export function startThread(base: string, name: string, options: WorkerOptions = {}): Worker {
  const js = new URL(`${name}.js`, base)
  if (existsSync(fileURLToPath(js))) return new Worker(js, options)
  const ts = new URL(`${name}.ts`, base)
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts.href)}) })`, {...options, eval: true})
}
