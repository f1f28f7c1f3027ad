import type {Worker} from 'node:worker_threads'

import {startThread} from '../../util/thread.js'
import type {Token} from './token.js'

/** Where a tokenized line was said: its transcript segment and that segment's times. */
export interface LineInfo {
  segment: number
  start: number | null
  end: number | null
}

export type ThreadRequest =
  | {kind: 'tokens'; id: number; lines: string[]}
  | {kind: 'episode'; id: number; lines: string[]; excludePos: string[]; compress: boolean; header: Record<string, unknown>; lineInfo?: LineInfo[]}

/** One episode done in a thread: its counts, the bytes of its tokens file (gzip or plain JSON) and its frequency CSV. */
export interface EpisodeReply {
  id: number
  distinct: number
  tokenCount: number
  wordCount: number
  tokensFile: Uint8Array
  frequencyCsv: string
}

interface Pending {
  resolve: (reply: {tokens?: Token[]} & Partial<EpisodeReply>) => void
  reject: (error: Error) => void
}

/** One kuromoji tokenizer in its own thread; the dictionary loads once per thread. */
class TokenizerThread {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  readonly ready: Promise<void>

  constructor() {
    this.worker = startThread(import.meta.url, 'kuromoji-thread')
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (msg: {ready: boolean; error?: string}) => {
        if (msg.ready) resolve()
        else reject(new Error(`kuromoji dictionary did not load: ${msg.error}`))
      })
      this.worker.once('error', reject)
    })
    this.ready
      .then(() => {
        this.worker.on('message', (msg: {id: number; error?: string} & Partial<EpisodeReply> & {tokens?: Token[]}) => {
          const p = this.pending.get(msg.id)
          if (!p) return
          this.pending.delete(msg.id)
          if (msg.error !== undefined) p.reject(new Error(`kuromoji: ${msg.error}`))
          else p.resolve(msg)
        })
      })
      .catch(() => {})
    this.worker.on('error', (error) => {
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
    })
  }

  request(message: ThreadRequest extends infer R ? (R extends {id: number} ? Omit<R, 'id'> : never) : never): Promise<{tokens?: Token[]} & Partial<EpisodeReply>> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      this.pending.set(id, {resolve, reject})
      this.worker.postMessage({...message, id})
    })
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }
}

/** A fixed set of tokenizer threads, one per pool worker (index from 1). */
export class TokenizerThreads {
  private readonly threads = new Map<number, TokenizerThread>()

  /** Start thread `index` and wait for its dictionary. */
  async start(index: number): Promise<void> {
    const t = new TokenizerThread()
    this.threads.set(index, t)
    await t.ready
  }

  private thread(index: number): TokenizerThread {
    const t = this.threads.get(index)
    if (!t) throw new Error(`tokenizer thread ${index} was not started`)
    return t
  }

  /** The tokens of some lines. */
  async tokenize(index: number, lines: string[]): Promise<Token[]> {
    return (await this.thread(index).request({kind: 'tokens', lines})).tokens!
  }

  /** A whole episode in the thread: counts, and its tokens file ready to write. */
  async episode(index: number, lines: string[], options: {excludePos: string[]; compress: boolean; header: Record<string, unknown>; lineInfo?: LineInfo[]}): Promise<EpisodeReply> {
    return (await this.thread(index).request({kind: 'episode', lines, ...options})) as EpisodeReply
  }

  async close(): Promise<void> {
    await Promise.all([...this.threads.values()].map((t) => t.terminate()))
    this.threads.clear()
  }
}
