import {hostname} from 'node:os'

import type {Output} from '../../app/output.js'
import type {DiskPauses} from '../../queue/pauses.js'
import type {Gate} from '../../runner/pool.js'
import {formatBytes} from '../../util/disk.js'
import {minutesSeconds} from '../../util/text.js'
import type {DiskMonitor} from './disk-monitor.js'

export interface DownloadPauseOptions {
  monitor: DiskMonitor
  pauses: Pick<DiskPauses, 'start' | 'end'>
  host: string
  output: Pick<Output, 'log'>
  /** Exit (75) at the first pause instead of waiting for space (cron). */
  noWait: boolean
  /** How often a paused worker looks at the disk again. */
  checkMs: number
  /** Jobs still ready to claim: with none left and nothing downloading, waiting for space would only keep the run from ending. */
  readyJobs: () => Promise<number>
}

/**
 * Downloads pause when disk use nears its limit and resume when transcription frees space. The
 * runner asks `gate` before every claim; each pause is recorded in the queue (started and ended in
 * the order the gates decided: one chain of writes, no race), and counted for the summary.
 */
export class DownloadPause {
  private paused = false
  private pauseId: Promise<number> | undefined
  private pauseStarted = 0
  private writes: Promise<void> = Promise.resolve()
  /** Pauses in this run, the time spent paused, and why a --no-wait run stopped. */
  pauses = 0
  pausedMs = 0
  stoppedForDisk: string | undefined

  constructor(private readonly options: DownloadPauseOptions) {}

  /** The runner's gate: claim when the disk allows, else pause (and wait, or stop under --no-wait). */
  readonly gate: Gate = async (signal, worker) => {
    const {monitor} = this.options
    for (;;) {
      if (signal.aborted) return 'stop'
      await monitor.refresh()
      const d = monitor.decide()
      if (d.claim) {
        monitor.reserve(worker.index)
        await this.end(d.reading.usage)
        return 'claim'
      }
      await this.start(d.reason, d.reading.usage)
      if (this.options.noWait) {
        this.stoppedForDisk ??= d.reason
        return 'stop'
      }
      if (monitor.inFlight === 0 && (await this.options.readyJobs()) === 0) return 'stop'
      worker.say(`paused: ${d.reason}; looking again within ${minutesSeconds(this.options.checkMs / 1000)}`)
      await monitor.waitForChange(this.options.checkMs, signal)
    }
  }

  /** What the gate let through is over: its reserved slot goes. */
  readonly gateDone = (index: number): void => this.options.monitor.release(index)

  get isPaused(): boolean {
    return this.paused
  }

  /** Start a pause (once while paused); resolves when its row is written. */
  start(reason: string, usage: number): Promise<void> {
    if (this.paused) return this.writes
    this.paused = true
    this.pauseStarted = Date.now()
    this.pauses++
    this.options.output.log(`downloads paused: ${reason}`)
    const id = this.options.pauses.start(this.options.host, `${hostname()}:${process.pid}`, reason, usage)
    this.pauseId = id
    this.writes = this.writes.then(() => id.then(() => undefined))
    return this.writes
  }

  /** End the pause, if any, with the usage it ended at (null: the run ended while paused, said nothing). */
  end(usage: number | null): Promise<void> {
    if (!this.paused) return this.writes
    this.paused = false
    const id = this.pauseId!
    const lasted = Date.now() - this.pauseStarted
    this.pausedMs += lasted
    if (usage !== null) this.options.output.log(`downloads resume: ${formatBytes(usage)} used after ${minutesSeconds(lasted / 1000)} paused`)
    this.writes = this.writes.then(async () => this.options.pauses.end(await id, usage))
    return this.writes
  }
}
