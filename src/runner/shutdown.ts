import {EXIT} from '../errors.js'
import type {Output} from '../app/output.js'

export interface ShutdownOptions {
  /** How long running work may go on after the first signal before it is aborted. */
  graceMs: number
  /** Install SIGINT/SIGTERM handlers (off for in-process tests). */
  install: boolean
  /** What happens to running work, for the log line: "running jobs get 30s to finish". */
  what: string
}

/**
 * Ctrl-C and SIGTERM for every long-running command: the first signal stops new work and, after
 * the grace period, aborts what still runs; a second one exits at once (leases then expire and
 * the next run recovers them).
 */
export class Shutdown {
  stopping = false
  readonly aborts = new Set<AbortController>()
  /** Aborted at the first signal: whatever waits to start new work (a gate) stops waiting. */
  private readonly stop = new AbortController()
  private graceTimer: NodeJS.Timeout | undefined
  private signals = 0
  private readonly listener = (sig: NodeJS.Signals) => this.onSignal(sig)

  constructor(
    private readonly output: Output,
    private readonly options: ShutdownOptions,
  ) {
    if (options.install) {
      process.on('SIGINT', this.listener)
      process.on('SIGTERM', this.listener)
    }
  }

  /** Run before a forced exit (a second signal): give back what can be given back quickly. */
  readonly beforeExit: (() => Promise<void>)[] = []

  private onSignal(sig: NodeJS.Signals): void {
    this.signals++
    if (this.signals > 1) {
      this.output.log(`${sig} again: exiting now; running jobs go back to their stage (any left expire and the next run recovers them)`)
      // at most two seconds for the queue to hear it, then out
      const hurry = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())
      void Promise.race([Promise.allSettled(this.beforeExit.map((f) => f())), hurry]).then(() => process.exit(EXIT.INTERRUPTED))
      return
    }
    this.stopping = true
    this.stop.abort(new Error(`${sig} received`))
    this.output.log(`${sig} received: no new work; ${this.options.what} (press Ctrl-C again to exit now)`)
    this.graceTimer = setTimeout(() => {
      for (const a of this.aborts) a.abort(new Error('shutdown grace period over'))
    }, this.options.graceMs)
    this.graceTimer.unref()
  }

  get stopSignal(): AbortSignal {
    return this.stop.signal
  }

  dispose(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer)
    if (this.options.install) {
      process.off('SIGINT', this.listener)
      process.off('SIGTERM', this.listener)
    }
  }
}
