import {rmSync} from 'node:fs'

import {ownedRegularFile} from '../paths.js'
import {BATCH as MEDIA_BATCH, type MediaDeletion} from '../queue/maintenance.js'
import type {JobRow} from '../queue/rows.js'
import type {JobStage} from '../queue/stages.js'
import {type CleanupRun, size} from './cleanup-run.js'

const PAST_TRANSCRIBED: JobStage[] = ['transcribed', 'tokenizing', 'tokenized', 'analyzing', 'complete']

type MediaFiles = MediaDeletion & {videoFile: string | undefined; audioFile: string}

/**
 * The video of a job that cleanup may delete: its episode's own file inside the resolved data
 * folders, never a path a row names outside them nor a file reached through a folder linked elsewhere.
 */
function ownVideoOf(run: CleanupRun, j: JobRow): string | undefined {
  const {paths} = run.ctx
  if (!j.video_path || j.mal_id === null) return undefined
  const file = paths.episodeVideo(j.video_path, j.mal_id, j.episode)
  if (!file)
    run.notes.push(`job ${j.id} names the video ${JSON.stringify(j.video_path)}, which is not its episode's file in ${paths.videoDir(j.mal_id)}: left alone`)
  return file && ownedRegularFile(file, paths.videosRoot) ? file : undefined
}

/** Videos and audio of episodes already transcribed that [disk_management.cleanup] lets go. */
async function transcribedMedia(run: CleanupRun): Promise<MediaFiles[]> {
  const {paths, config} = run.ctx
  const cleanupCfg = config.disk_management.cleanup
  const media: MediaFiles[] = []
  for (const j of await run.queue.maintenance.unleasedIn(PAST_TRANSCRIBED)) {
    if (!run.local(j) || j.mal_id === null) continue
    const video = cleanupCfg.delete_video_after_transcription ? ownVideoOf(run, j) : undefined
    const audio = paths.audioFile(j.mal_id, j.episode)
    const videoHere = !!video
    const audioHere = cleanupCfg.delete_audio_after_transcription && ownedRegularFile(audio, paths.audioRoot)
    if (!videoHere && !audioHere) continue
    const message = `cleanup deleted the ${[videoHere ? 'video' : '', audioHere ? 'audio' : ''].filter(Boolean).join(' and ')}`
    media.push({id: j.id, stage: j.stage, video: videoHere, audio: audioHere, message, videoFile: video, audioFile: audio})
  }
  return media
}

/**
 * Media of episodes already transcribed, a batch at a time: each batch's rows marked in one
 * transaction, then its files removed.
 */
export async function deleteTranscribedMedia(run: CleanupRun): Promise<void> {
  const media = await transcribedMedia(run)
  for (let i = 0; i < media.length; i += MEDIA_BATCH) {
    const batch = media.slice(i, i + MEDIA_BATCH)
    // recorded first: the flag never says a file is there once it is gone
    const marked = run.options.dryRun ? undefined : await run.queue.maintenance.markMediaDeleted(batch)
    for (const m of batch) {
      if (marked && !marked.has(m.id)) continue
      if (m.video)
        run.act({kind: 'media', what: `video of job ${m.id} (${m.stage}): ${m.videoFile}`, bytes: size(m.videoFile!)}, () =>
          rmSync(m.videoFile!, {force: true}),
        )
      if (m.audio)
        run.act({kind: 'media', what: `audio of job ${m.id} (${m.stage}): ${m.audioFile}`, bytes: size(m.audioFile)}, () => rmSync(m.audioFile, {force: true}))
    }
  }
}
