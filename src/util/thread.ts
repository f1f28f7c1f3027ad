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

/** A reply of a request thread: the request's id, and an error message when it failed. */
export interface ThreadReply {
  id: number
  error?: string
}

/**
 * Requests to a worker thread and their replies, matched by id (messages without one, such as a
 * ready signal, are left to the caller). A thread that fails or exits rejects everything it held
 * with `died(why)` (what the caller makes of a dead thread); once it has answered everything asked,
 * it does not keep the process alive.
 */
export class ThreadChannel<Reply extends ThreadReply> {
  private readonly pending = new Map<number, {resolve: (reply: Reply) => void; reject: (error: Error) => void}>()
  private nextId = 0
  /** Set once the thread failed or exited. */
  dead = false

  constructor(
    readonly worker: Worker,
    failed: (message: string) => Error,
    died: (why: string) => Error,
  ) {
    worker.on('message', (m: Reply) => {
      const p = typeof m?.id === 'number' ? this.pending.get(m.id) : undefined
      if (!p) return
      this.pending.delete(m.id)
      if (m.error !== undefined) p.reject(failed(m.error))
      else p.resolve(m)
      if (this.pending.size === 0) worker.unref()
    })
    const end = (error: Error) => {
      this.dead = true
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
    }
    worker.on('error', (error) => end(died(`failed: ${error.message}`)))
    worker.on('exit', (code) => end(died(`stopped (exit code ${code})`)))
  }

  request(message: object): Promise<Reply> {
    if (this.dead) return Promise.reject(new Error('the thread has stopped'))
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      this.pending.set(id, {resolve, reject})
      this.worker.ref()
      this.worker.postMessage({...message, id})
    })
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }
}
