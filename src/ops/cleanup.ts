import {existsSync, lstatSync, readdirSync, rmSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT} from '../errors.js'
import {BATCH as MEDIA_BATCH, type JobMove, type MediaDeletion} from '../queue/maintenance.js'
import type {JobRow} from '../queue/rows.js'
import type {JobStage} from '../queue/stages.js'
import {recoverExpired} from '../runner/stage.js'
import {type EpisodeFileKind, episodeOfOwnFile, ownedRegularFile} from '../paths.js'
import {removeStaleAttempts, staleAttempts} from '../util/attempts.js'
import {folderBytes, formatBytes} from '../util/disk.js'
import {processGone} from '../util/pid.js'

export interface CleanupOptions {
  dryRun: boolean
  vacuum: boolean
  /** Also remove transcripts and tokens of episodes no job has (permanent outputs: never by default). */
  orphans?: boolean
}

/** Files younger than this are never taken for orphans: an import writes its files before its rows. */
const GRACE_MS = 3_600_000

type Kind = 'media' | 'temporary' | 'orphan'

interface Action {
  kind: Kind
  what: string
  bytes: number
}

const PAST_TRANSCRIBED: JobStage[] = ['transcribed', 'tokenizing', 'tokenized', 'analyzing', 'complete']

function size(file: string): number {
  try {
    const s = lstatSync(file)
    return s.isDirectory() ? folderBytes(file) : s.size
  } catch {
    return 0
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/**
 * Interrupted atomic writes: `.<name>.<pid>@<host>.<hex>.tmp` of a process of this host that is
 * gone (another host's are its own business), or a name without a host older than a day.
 */
function deadTempFile(name: string, mtimeMs: number, now: number): boolean {
  const m = /^\..+\.(\d+)@(.+)\.[0-9a-f]{8}\.tmp$/.exec(name)
  if (!m) return /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.test(name) && now - mtimeMs > 86_400_000
  return m[2] === hostname() && processGone(Number(m[1]))
}

/**
 * `animezipf cleanup`: recover from crashes (expired leases; jobs whose input file is gone go back
 * to the stage that makes it) and free disk (media of transcribed episodes, temp files of dead
 * processes, files no job accounts for). Safe beside running stages: leased jobs and their files,
 * and the folders of live processes, are never touched.
 */
export async function cleanup(ctx: AppContext, options: CleanupOptions): Promise<ServiceResult> {
  const {paths, config} = ctx
  const queue = await ctx.queue({readonly: options.dryRun})
  const text: string[] = []
  const actions: Action[] = []
  const moves: {job: number; from: string; to: string; why: string}[] = []
  const act = (a: Action, run: () => void) => {
    actions.push(a)
    if (!options.dryRun) run()
  }
  const local = (j: Pick<JobRow, 'video_host'>) => config.data.storage_shared || j.video_host === null || j.video_host === ctx.host

  // 1. crash recovery: leases of dead workers
  let recovered = 0
  if (!options.dryRun) recovered = (await recoverExpired(ctx, queue)).recovered
  else recovered = (await queue.stats.runningJobs(ctx.clock.now(), 100_000)).filter((r) => r.expired).length

  // 2. jobs whose input file is gone go back to the stage that makes it (all at once, set-based)
  const toMove: JobMove[] = []
  const move = (j: JobRow, to: JobStage, why: string, clear: ('video' | 'transcript' | 'tokens')[]) => {
    moves.push({job: j.id, from: j.stage, to, why})
    toMove.push({id: j.id, from: j.stage, to, message: `cleanup: ${why}`, clear})
  }
  const videoOf = (j: JobRow) => (j.video_path ? paths.videoAbsolute(j.video_path) : undefined)
  // what cleanup may delete: an episode's own file inside the resolved data folders, never a path a
  // row names outside them nor a file reached through a folder linked elsewhere
  const notes: string[] = []
  const ownVideoOf = (j: JobRow): string | undefined => {
    if (!j.video_path || j.mal_id === null) return undefined
    const file = paths.episodeVideo(j.video_path, j.mal_id, j.episode)
    if (!file)
      notes.push(`job ${j.id} names the video ${JSON.stringify(j.video_path)}, which is not its episode's file in ${paths.videoDir(j.mal_id)}: left alone`)
    return file && ownedRegularFile(file, paths.videosRoot) ? file : undefined
  }
  for (const j of await queue.maintenance.unleasedIn(['downloaded', 'transcribed', 'tokenized'])) {
    const video = videoOf(j)
    const hasVideo = !!video && (!local(j) || existsSync(video))
    if (j.stage === 'downloaded' && local(j) && !hasVideo && !existsSync(paths.audioFile(j.mal_id!, j.episode))) {
      move(j, 'queued', `its video ${j.video_path ?? '(none recorded)'} is gone: downloaded again`, ['video'])
    } else if (j.stage === 'transcribed' && !(j.transcript_path && existsSync(paths.absolute(j.transcript_path)))) {
      if (hasVideo && j.video_deleted !== 1) move(j, 'downloaded', `its transcript is gone and the video is there: transcribed again`, ['transcript'])
      else move(j, 'queued', `its transcript is gone and so is the video: downloaded again`, ['transcript', 'video'])
    } else if (j.stage === 'tokenized' && !(j.tokens_path && existsSync(paths.absolute(j.tokens_path)))) {
      move(j, 'transcribed', `its tokens are gone: tokenized again`, ['tokens'])
    }
  }
  if (!options.dryRun && toMove.length > 0) await queue.maintenance.moveJobs(toMove, {event: 'recovered'})

  // 3. media of episodes already transcribed (as [disk_management.cleanup] says), a batch at a
  // time: each batch's rows marked in one transaction, then its files removed
  const cleanupCfg = config.disk_management.cleanup
  const media: (MediaDeletion & {videoFile: string | undefined; audioFile: string})[] = []
  for (const j of await queue.maintenance.unleasedIn(PAST_TRANSCRIBED)) {
    if (!local(j) || j.mal_id === null) continue
    const video = cleanupCfg.delete_video_after_transcription ? ownVideoOf(j) : undefined
    const audio = paths.audioFile(j.mal_id, j.episode)
    const videoHere = !!video
    const audioHere = cleanupCfg.delete_audio_after_transcription && ownedRegularFile(audio, paths.audioRoot)
    if (!videoHere && !audioHere) continue
    const message = `cleanup deleted the ${[videoHere ? 'video' : '', audioHere ? 'audio' : ''].filter(Boolean).join(' and ')}`
    media.push({id: j.id, stage: j.stage, video: videoHere, audio: audioHere, message, videoFile: video, audioFile: audio})
  }
  for (let i = 0; i < media.length; i += MEDIA_BATCH) {
    const batch = media.slice(i, i + MEDIA_BATCH)
    // recorded first: the flag never says a file is there once it is gone
    const marked = options.dryRun ? undefined : await queue.maintenance.markMediaDeleted(batch)
    for (const m of batch) {
      if (marked && !marked.has(m.id)) continue
      if (m.video)
        act({kind: 'media', what: `video of job ${m.id} (${m.stage}): ${m.videoFile}`, bytes: size(m.videoFile!)}, () => rmSync(m.videoFile!, {force: true}))
      if (m.audio)
        act({kind: 'media', what: `audio of job ${m.id} (${m.stage}): ${m.audioFile}`, bytes: size(m.audioFile)}, () => rmSync(m.audioFile, {force: true}))
    }
  }

  // 4. temporary files of processes that are gone
  for (const root of [paths.downloadsInProgress, paths.workRoot]) {
    const stale = staleAttempts(root)
    for (const name of stale) actions.push({kind: 'temporary', what: `${path.join(root, name)} (its process is gone)`, bytes: size(path.join(root, name))})
    if (!options.dryRun && stale.length > 0) removeStaleAttempts(root)
  }
  const now = Date.now()
  const tempRoots = [paths.videosRoot, paths.audioRoot, paths.transcriptsRoot, paths.tokensRoot, paths.analysisRoot, paths.metadataRoot, paths.modelsDir]
  const walkTemps = (dir: string) => {
    for (const name of list(dir)) {
      const p = path.join(dir, name)
      let st
      try {
        st = lstatSync(p)
      } catch {
        continue
      }
      if (st.isDirectory()) {
        if (name !== '.downloading') walkTemps(p)
      } else if (st.isFile() && deadTempFile(name, st.mtimeMs, now)) act({kind: 'temporary', what: p, bytes: st.size}, () => rmSync(p, {force: true}))
    }
  }
  for (const r of tempRoots) walkTemps(r)

  // 5. files no job accounts for. Never on an empty queue (a wrong --data-dir or [queue] url would
  // make every file an orphan), never a file younger than an hour (an import writes its files
  // before its rows), never an anime the queue does not know, and each looked up again right before
  // it goes; transcripts and tokens only with --orphans (they are the corpus)
  const orphanNotes: string[] = []
  if (!(await queue.maintenance.hasJobs())) {
    orphanNotes.push('the queue has no jobs: files without a job were left alone (a wrong --data-dir or [queue] url?)')
  } else {
    const jobs = await queue.maintenance.episodes()
    const byEpisode = new Map<string, (typeof jobs)[number]>()
    const known = new Set<number>()
    for (const j of jobs) {
      if (j.mal_id === null) continue
      byEpisode.set(`${j.mal_id}/${j.episode}`, j)
      known.add(j.mal_id)
    }
    const old = (file: string) => {
      try {
        return now - lstatSync(file).mtimeMs > GRACE_MS
      } catch {
        return false
      }
    }
    const orphan = async (
      file: string,
      root: string,
      mal: number,
      ep: number,
      why: string,
      stillOrphan: (j: Awaited<ReturnType<typeof queue.maintenance.episodeJob>>) => boolean,
    ) => {
      if (!old(file) || !ownedRegularFile(file, root)) return
      const j = await queue.maintenance.episodeJob(mal, ep)
      if (j?.leased || !stillOrphan(j)) return
      act({kind: 'orphan', what: `${file} (${why})`, bytes: size(file)}, () => rmSync(file, {force: true}))
    }
    // the episode files animezipf made in one anime's folder (any other name is the user's)
    const ownFiles = (kind: EpisodeFileKind, dir: string) =>
      list(dir).flatMap((name) => {
        const ep = episodeOfOwnFile(kind, name)
        return ep === undefined ? [] : [{file: path.join(dir, name), ep}]
      })
    // videos: only the one a downloaded (or transcribing, or failed) job names; never under a live lease
    for (const mal of list(paths.videosRoot).filter((n) => /^\d+$/.test(n) && known.has(Number(n)))) {
      for (const {file, ep} of ownFiles('video', paths.videoDir(Number(mal)))) {
        const j = byEpisode.get(`${mal}/${ep}`)
        if (j?.leased) continue
        if (!j) await orphan(file, paths.videosRoot, Number(mal), ep, 'no job for this episode', (x) => !x)
        else if (
          (j.stage === 'downloaded' || j.stage === 'transcribing' || j.stage === 'failed') &&
          j.video_path &&
          paths.videoAbsolute(j.video_path) !== file
        ) {
          await orphan(file, paths.videosRoot, Number(mal), ep, `job ${j.id} names another file`, (x) => !!x && x.stage === j.stage)
        } else if (j.stage === 'queued')
          await orphan(file, paths.videosRoot, Number(mal), ep, `job ${j.id} is queued: it will be downloaded again`, (x) => x?.stage === 'queued')
      }
    }
    for (const mal of list(paths.audioRoot).filter((n) => /^\d+$/.test(n) && known.has(Number(n)))) {
      for (const {file, ep} of ownFiles('audio', path.join(paths.audioRoot, mal))) {
        const j = byEpisode.get(`${mal}/${ep}`)
        if (j?.leased) continue
        if (!j) await orphan(file, paths.audioRoot, Number(mal), ep, 'no job for this episode', (x) => !x)
        else if (j.stage === 'queued' || j.stage === 'downloading')
          await orphan(file, paths.audioRoot, Number(mal), ep, `job ${j.id} is ${j.stage}`, (x) => x?.stage === 'queued')
      }
    }
    // permanent outputs: only asked for, and only when no job exists for the episode at all
    let permanent = 0
    for (const [kind, root] of [
      ['transcript', paths.transcriptsRoot],
      ['tokens', paths.tokensRoot],
    ] as const) {
      for (const mal of list(root).filter((n) => /^\d+$/.test(n))) {
        for (const {file, ep} of ownFiles(kind, path.join(root, mal))) {
          if (byEpisode.has(`${mal}/${ep}`)) continue
          if (options.orphans) await orphan(file, root, Number(mal), ep, 'no job for this episode', (x) => !x)
          else permanent++
        }
      }
    }
    if (permanent > 0) orphanNotes.push(`${permanent} transcript or tokens file(s) belong to no job: kept (\`--orphans\` removes them)`)
  }

  if (options.vacuum && !options.dryRun) await queue.maintenance.vacuum()

  const bytes: Record<Kind, number> = {media: 0, temporary: 0, orphan: 0}
  for (const a of actions) bytes[a.kind] += a.bytes
  const total = bytes.media + bytes.temporary + bytes.orphan
  const nothing = actions.length === 0 && moves.length === 0 && recovered === 0
  text.push(
    nothing
      ? `cleanup: nothing to do${options.vacuum && !options.dryRun ? ' (database vacuumed)' : ''}`
      : `cleanup: ${options.dryRun ? 'would free' : 'freed'} ${formatBytes(total)} (media ${formatBytes(bytes.media)}, temporary ${formatBytes(bytes.temporary)}, orphans ${formatBytes(bytes.orphan)}); ${moves.length} job(s) ${options.dryRun ? 'would go' : 'went'} back${recovered ? `; ${recovered} expired lease(s) ${options.dryRun ? 'would be ' : ''}recovered` : ''}${options.vacuum && !options.dryRun ? '; database vacuumed' : ''}${options.dryRun ? ' (dry run: nothing was changed)' : ''}`,
  )
  for (const m of moves.slice(0, 50)) text.push(`  job ${m.job}: ${m.from} -> ${m.to}: ${m.why}`)
  for (const a of actions.slice(0, 100)) text.push(`  ${a.kind.padEnd(9)} ${formatBytes(a.bytes).padStart(9)}  ${a.what}`)
  for (const n of [...notes, ...orphanNotes]) text.push(`  ${n}`)
  if (actions.length > 100) text.push(`  … ${actions.length - 100} more (--json lists them all)`)
  return {
    code: EXIT.OK,
    result: {
      dry_run: options.dryRun,
      notes: [...notes, ...orphanNotes],
      bytes_freed: options.dryRun ? 0 : total,
      bytes_by_kind: bytes,
      recovered,
      moves,
      actions,
      vacuumed: options.vacuum && !options.dryRun,
    },
    text,
  }
}
