import type {Worker} from 'node:worker_threads'

import {startThread} from '../../../util/thread.js'
import type {FigureRenderer, Rows} from './figure.js'

/** The thread that draws the figures died: not the input's fault, so the anime is retried. */
export class FigureThreadError extends Error {
  override name = 'FigureThreadError'
}

interface Pending {
  resolve: (svg: string) => void
  reject: (error: Error) => void
}

/** The figures drawn in a thread of their own (Vega loads there, not in the main thread), started by the first one. */
export class FigureThread implements FigureRenderer {
  private thread?: Worker
  private readonly pending = new Map<number, Pending>()
  private nextId = 0

  private get worker(): Worker {
    if (this.thread) return this.thread
    // a heap of its own kept small: Vega's garbage is collected often instead of growing the process
    const worker = (this.thread = startThread(import.meta.url, 'thread', {resourceLimits: {maxOldGenerationSizeMb: 384}}))
    worker.on('message', (m: {id: number; svg?: string; error?: string}) => {
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.error !== undefined) p.reject(new Error(`drawing a figure: ${m.error}`))
      else p.resolve(m.svg!)
    })
    // a thread that died (out of its heap, a crash) fails what it held; the next figure starts a new one
    const died = (error: FigureThreadError) => {
      if (this.thread === worker) this.thread = undefined
      this.failAll(error)
    }
    worker.on('error', (error) => died(new FigureThreadError(`the figure thread failed: ${error.message}`)))
    worker.on('exit', (code) => died(new FigureThreadError(`the figure thread stopped (exit code ${code})`)))
    return worker
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error)
    this.pending.clear()
  }

  render(name: string, data: Record<string, Rows>, signals: Record<string, unknown>): Promise<string> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      this.pending.set(id, {resolve, reject})
      this.worker.ref()
      this.worker.postMessage({id, name, data, signals})
    }).finally(() => {
      // an idle figure thread does not keep the process alive
      if (this.pending.size === 0) this.thread?.unref()
    }) as Promise<string>
  }

  async close(): Promise<void> {
    const thread = this.thread
    this.thread = undefined
    await thread?.terminate()
  }
}
