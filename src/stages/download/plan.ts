import type {Config} from '../../config/defaults.js'
import type {DataPaths} from '../../paths.js'
import type {Queue} from '../../queue/index.js'
import type {JobRow} from '../../queue/rows.js'
import type {SelectionRow} from '../../queue/selections.js'
import type {StageDef} from '../../queue/stages.js'
import {downloadArgs, downloadEnvironment} from '../select/ani-cli.js'
import {type DiskMonitor, type DiskReading, decide, diskLimits} from './disk-monitor.js'

/**
 * --dry-run: each job in claim order, as the disk would let it through: the first `workers` start
 * at once, the next ones as earlier ones end, each expected to be the typical episode's size.
 */
export class DownloadPlanner {
  private claimed = 0
  private paused = false
  private readonly reading: DiskReading
  private readonly expected: number

  private constructor(
    private readonly monitor: DiskMonitor,
    private readonly config: Config,
    private readonly paths: DataPaths,
    private readonly workers: number,
    private readonly quality: string,
    private readonly selections: Map<number, SelectionRow>,
  ) {
    this.reading = monitor.read()
    this.expected = monitor.expectedSize()
  }

  /** A planner with the selections of the jobs a run would claim now. */
  static async create(
    queue: Queue,
    stage: StageDef,
    o: {
      monitor: DiskMonitor
      config: Config
      paths: DataPaths
      workers: number
      quality: string
      limit?: number | undefined
      malId?: number | undefined
      selected: readonly string[]
    },
  ): Promise<DownloadPlanner> {
    const selections = new Map<number, SelectionRow>()
    for (const j of await queue.jobs.previewClaim(stage, o.limit ?? Number.MAX_SAFE_INTEGER, o.malId, undefined, o.selected)) {
      if (j.mal_id !== null && !selections.has(j.mal_id)) {
        const sel = await queue.selections.get(j.mal_id)
        if (sel) selections.set(j.mal_id, sel)
      }
    }
    return new DownloadPlanner(o.monitor, o.config, o.paths, o.workers, o.quality, selections)
  }

  /** What the next job in claim order would do: download, or wait for the disk. */
  describe(job: JobRow): string {
    const running = Math.min(this.claimed++, this.workers - 1)
    const d = decide(
      {...this.reading, usage: this.reading.usage + (this.claimed - 1 - running) * this.expected},
      diskLimits(this.config.disk_management),
      Array.from({length: running}, () => this.expected),
      this.expected,
      this.paused,
      this.monitor.storageDevice,
    )
    this.paused = d.paused
    const dir = `${this.paths.downloadAttempt(job.id)}XXXXXX`
    const sel = this.selections.get(job.mal_id!)
    const args = sel ? downloadArgs(sel.search_query, sel.selected_index, job.episode, this.quality) : ['(no selection)']
    const env = Object.entries(downloadEnvironment(dir))
      .map(([key, v]) => `${key}=${v}`)
      .join(' ')
    const video = this.paths.storedVideo(this.paths.videoFile(job.mal_id!, job.episode))
    return `${d.claim ? 'download' : `wait for disk (${d.reason})`}: ani-cli ${JSON.stringify(args)} with ${env} -> ${video} (index re-checked before the anime's first episode)`
  }
}
