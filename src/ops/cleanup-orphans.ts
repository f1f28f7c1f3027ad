import {lstatSync, rmSync} from 'node:fs'
import path from 'node:path'

import {type EpisodeFileKind, episodeOfOwnFile, ownedRegularFile} from '../paths.js'
import type {Queue} from '../queue/index.js'
import {type CleanupRun, list, size} from './cleanup-run.js'

/** Files younger than this are never taken for orphans: an import writes its files before its rows. */
const GRACE_MS = 3_600_000

type EpisodeJob = Awaited<ReturnType<Queue['maintenance']['episodes']>>[number]
type CurrentJob = Awaited<ReturnType<Queue['maintenance']['episodeJob']>>

/** The episode files animezipf made in one anime's folder (any other name is the user's). */
function ownFiles(kind: EpisodeFileKind, dir: string): {file: string; ep: number}[] {
  return list(dir).flatMap((name) => {
    const ep = episodeOfOwnFile(kind, name)
    return ep === undefined ? [] : [{file: path.join(dir, name), ep}]
  })
}

/** The anime folders under `root` (named by MAL id), only those `keep` accepts. */
function animeFolders(root: string, keep: (mal: number) => boolean = () => true): string[] {
  return list(root).filter((n) => /^\d+$/.test(n) && keep(Number(n)))
}

/**
 * Files no job accounts for, each looked up again in the queue right before it goes (a job may
 * have come meanwhile), never one younger than an hour nor one a live lease holds.
 */
class OrphanSweep {
  private readonly byEpisode = new Map<string, EpisodeJob>()
  private readonly known = new Set<number>()

  constructor(
    private readonly run: CleanupRun,
    jobs: EpisodeJob[],
    private readonly now: number,
  ) {
    for (const j of jobs) {
      if (j.mal_id === null) continue
      this.byEpisode.set(`${j.mal_id}/${j.episode}`, j)
      this.known.add(j.mal_id)
    }
  }

  private old(file: string): boolean {
    try {
      return this.now - lstatSync(file).mtimeMs > GRACE_MS
    } catch {
      return false
    }
  }

  private async remove(file: string, root: string, mal: number, ep: number, why: string, stillOrphan: (j: CurrentJob) => boolean): Promise<void> {
    if (!this.old(file) || !ownedRegularFile(file, root)) return
    const j = await this.run.queue.maintenance.episodeJob(mal, ep)
    if (j?.leased || !stillOrphan(j)) return
    this.run.act({kind: 'orphan', what: `${file} (${why})`, bytes: size(file)}, () => rmSync(file, {force: true}))
  }

  /** Videos: only the one a downloaded (or transcribing, or failed) job names; never under a live lease. */
  async videos(): Promise<void> {
    const {paths} = this.run.ctx
    for (const mal of animeFolders(paths.videosRoot, (n) => this.known.has(n))) {
      for (const {file, ep} of ownFiles('video', paths.videoDir(Number(mal)))) {
        const j = this.byEpisode.get(`${mal}/${ep}`)
        if (j?.leased) continue
        if (!j) await this.remove(file, paths.videosRoot, Number(mal), ep, 'no job for this episode', (x) => !x)
        else if (
          (j.stage === 'downloaded' || j.stage === 'transcribing' || j.stage === 'failed') &&
          j.video_path &&
          paths.videoAbsolute(j.video_path) !== file
        ) {
          await this.remove(file, paths.videosRoot, Number(mal), ep, `job ${j.id} names another file`, (x) => !!x && x.stage === j.stage)
        } else if (j.stage === 'queued')
          await this.remove(file, paths.videosRoot, Number(mal), ep, `job ${j.id} is queued: it will be downloaded again`, (x) => x?.stage === 'queued')
      }
    }
  }

  /** Audio: of an episode without a job, or of a job that will download (and extract) again. */
  async audio(): Promise<void> {
    const {paths} = this.run.ctx
    for (const mal of animeFolders(paths.audioRoot, (n) => this.known.has(n))) {
      for (const {file, ep} of ownFiles('audio', path.join(paths.audioRoot, mal))) {
        const j = this.byEpisode.get(`${mal}/${ep}`)
        if (j?.leased) continue
        if (!j) await this.remove(file, paths.audioRoot, Number(mal), ep, 'no job for this episode', (x) => !x)
        else if (j.stage === 'queued' || j.stage === 'downloading')
          await this.remove(file, paths.audioRoot, Number(mal), ep, `job ${j.id} is ${j.stage}`, (x) => x?.stage === 'queued')
      }
    }
  }

  /**
   * Permanent outputs (transcripts, tokens): only with --orphans, and only when no job exists for
   * the episode at all. How many were kept comes back.
   */
  async permanent(): Promise<number> {
    const {paths} = this.run.ctx
    let kept = 0
    for (const [kind, root] of [
      ['transcript', paths.transcriptsRoot],
      ['tokens', paths.tokensRoot],
    ] as const) {
      for (const mal of animeFolders(root)) {
        for (const {file, ep} of ownFiles(kind, path.join(root, mal))) {
          if (this.byEpisode.has(`${mal}/${ep}`)) continue
          if (this.run.options.orphans) await this.remove(file, root, Number(mal), ep, 'no job for this episode', (x) => !x)
          else kept++
        }
      }
    }
    return kept
  }
}

/**
 * Files no job accounts for. Never on an empty queue (a wrong --data-dir or [queue] url would
 * make every file an orphan), never a file younger than an hour (an import writes its files
 * before its rows), never an anime the queue does not know, and each looked up again right before
 * it goes; transcripts and tokens only with --orphans (they are the corpus).
 */
export async function deleteOrphans(run: CleanupRun, now: number): Promise<void> {
  const maintenance = run.queue.maintenance
  if (!(await maintenance.hasJobs())) {
    run.notes.push('the queue has no jobs: files without a job were left alone (a wrong --data-dir or [queue] url?)')
    return
  }
  const sweep = new OrphanSweep(run, await maintenance.episodes(), now)
  await sweep.videos()
  await sweep.audio()
  const kept = await sweep.permanent()
  if (kept > 0) run.notes.push(`${kept} transcript or tokens file(s) belong to no job: kept (\`--orphans\` removes them)`)
}
