import type {AppContext} from '../../app/context.js'
import type {Config} from '../../config/defaults.js'
import type {DataPaths} from '../../paths.js'
import type {Queue} from '../../queue/index.js'
import type {StageDeps} from '../../runner/stage.js'
import type {AniCli} from '../select/ani-cli.js'
import type {DiskMonitor} from './disk-monitor.js'
import type {IndexChecks} from './index-checks.js'
import type {DownloadPause} from './pause.js'
import type {DownloadPlanner} from './plan.js'

// What the stage's hooks and its job handler share, in a module of its own so that the handler
// (job.ts) and the declaration (stage.ts) do not import each other.

/** Anime whose episodes wait for `animezipf select`, by why. */
export interface WaitingForSelect {
  anime: number
  jobs: number
  unselected: number
  low_confidence: number
  no_candidates: number
}

/** What `start` sets up once the queue is open: the pause machine for a run, the planner for --dry-run. */
export interface StartedDownloads {
  queue: Queue
  monitor: DiskMonitor
  checks: IndexChecks
  pause: DownloadPause | undefined
  planner: DownloadPlanner | undefined
  waitingBefore: WaitingForSelect
}

/** What `prepare` resolved before the queue opened, the run's parts once `start` ran, and the figures counted as jobs finish. */
export interface DownloadDeps extends StageDeps {
  ctx: AppContext
  config: Config
  paths: DataPaths
  quality: string
  ani: AniCli
  ffprobe: string
  selected: readonly string[]
  timeoutMs: number
  noWait: boolean
  live: StartedDownloads | undefined
  figures: {bytesWritten: number; moved: number}
}

/** The run's disk monitor, index checks and pause machine; there once `start` ran. */
export function started(deps: DownloadDeps): StartedDownloads {
  if (!deps.live) throw new Error('the download stage was not started')
  return deps.live
}
