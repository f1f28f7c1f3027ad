import {ThreadChannel, type ThreadReply, startThread} from '../../util/thread.js'
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

type TokenizerReply = ThreadReply & {tokens?: Token[]} & Partial<EpisodeReply>

/** One kuromoji tokenizer in its own thread; the dictionary loads once per thread. */
class TokenizerThread {
  private readonly channel: ThreadChannel<TokenizerReply>
  readonly ready: Promise<void>

  constructor() {
    const worker = startThread(import.meta.url, 'kuromoji-thread')
    this.channel = new ThreadChannel<TokenizerReply>(
      worker,
      (message) => new Error(`kuromoji: ${message}`),
      (why) => new Error(`the tokenizer thread ${why}`),
    )
    this.ready = new Promise((resolve, reject) => {
      worker.once('message', (msg: {ready: boolean; error?: string}) => {
        if (msg.ready) resolve()
        else reject(new Error(`kuromoji dictionary did not load: ${msg.error}`))
      })
      worker.once('error', reject)
    })
  }

  request(message: ThreadRequest extends infer R ? (R extends {id: number} ? Omit<R, 'id'> : never) : never): Promise<TokenizerReply> {
    return this.channel.request(message)
  }

  terminate(): Promise<number> {
    return this.channel.terminate()
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
  async episode(
    index: number,
    lines: string[],
    options: {excludePos: string[]; compress: boolean; header: Record<string, unknown>; lineInfo?: LineInfo[]},
  ): Promise<EpisodeReply> {
    return (await this.thread(index).request({kind: 'episode', lines, ...options})) as EpisodeReply
  }

  async close(): Promise<void> {
    await Promise.all([...this.threads.values()].map((t) => t.terminate()))
    this.threads.clear()
  }
}
