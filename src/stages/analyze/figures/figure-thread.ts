import {ThreadChannel, type ThreadReply, startThread} from '../../../util/thread.js'
import type {FigureRenderer, Rows} from './figure.js'

/** The thread that draws the figures died: not the input's fault, so the anime is retried. */
export class FigureThreadError extends Error {
  override name = 'FigureThreadError'
}

/** The figures drawn in a thread of their own (Vega loads there, not in the main thread), started by the first one. */
export class FigureThread implements FigureRenderer {
  private channel?: ThreadChannel<ThreadReply & {svg: string}>

  async render(name: string, data: Record<string, Rows>, signals: Record<string, unknown>): Promise<string> {
    // a thread that died (out of its heap, a crash) failed what it held; the next figure starts a new one
    if (!this.channel || this.channel.dead) {
      // a heap of its own kept small: Vega's garbage is collected often instead of growing the process
      const worker = startThread(import.meta.url, 'thread', {resourceLimits: {maxOldGenerationSizeMb: 384}})
      this.channel = new ThreadChannel(
        worker,
        (message) => new Error(`drawing a figure: ${message}`),
        (why) => new FigureThreadError(`the figure thread ${why}`),
      )
    }
    return (await this.channel.request({name, data, signals})).svg
  }

  async close(): Promise<void> {
    const channel = this.channel
    this.channel = undefined
    await channel?.terminate()
  }
}
