import {setTimeout as sleep} from 'node:timers/promises'

export interface PaceLimit {
  /** at most this many requests... */
  count: number
  /** ...in any window of this many milliseconds */
  windowMs: number
}

/**
 * Spaces the requests of a whole process so that every limit holds at once, in every sliding
 * window: a request waits until each window has room. Requests are serialised through it.
 */
export class Pacer {
  private readonly sent: number[] = []
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly limits: readonly PaceLimit[],
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number) => Promise<unknown> = (ms) => sleep(ms),
  ) {}

  /** Resolves when a request may go out, and counts it as sent. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForRoom())
    this.queue = turn.catch(() => {})
    return turn
  }

  private async waitForRoom(): Promise<void> {
    const longest = Math.max(...this.limits.map((l) => l.windowMs))
    for (;;) {
      const now = this.now()
      while (this.sent.length > 0 && this.sent[0]! <= now - longest) this.sent.shift()
      let delay = 0
      for (const limit of this.limits) {
        const inWindow = this.sent.filter((t) => t > now - limit.windowMs)
        if (inWindow.length >= limit.count) delay = Math.max(delay, inWindow[inWindow.length - limit.count]! + limit.windowMs - now + 1)
      }
      if (delay <= 0) {
        this.sent.push(now)
        return
      }
      await this.wait(delay)
    }
  }
}
