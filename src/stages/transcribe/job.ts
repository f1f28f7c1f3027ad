import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import {PermanentJobError, StopRunError} from '../../errors.js'
import {type Segment, type Transcript, transcriptProblem, transcriptText} from '../../formats/transcript.js'
import {ownedRegularFile} from '../../paths.js'
import type {Queue} from '../../queue/index.js'
import type {JobRow} from '../../queue/rows.js'
import type {Lease, UnitOutcome} from '../../runner/pool.js'
import {recordGroup} from '../../util/attempts.js'
import {readTextFile, writeTextFile} from '../../util/gzip-file.js'
import {type ToolRun, runTool} from '../../util/process.js'
import {minutesSeconds} from '../../util/text.js'
import {extractAudio} from './audio.js'
import {flagHallucinations} from './hallucination.js'
import type {TranscribeDeps} from './stage.js'
import {parseWhisperJson, readWhisperOutput, whisperArgs, whisperComplaint} from './whisper.js'

/** Where one episode's media and transcript live. */
interface EpisodeFiles {
  video: string | undefined
  audio: string
  json: string
  txt: string
}

/** The audio whisper heard, and how long it took. */
interface Heard {
  audioSeconds: number
  seconds: number
}

function episodeFiles(deps: TranscribeDeps, job: JobRow): EpisodeFiles {
  const {paths, compress} = deps
  const malId = job.mal_id!
  return {
    video: job.video_path ? paths.videoAbsolute(job.video_path) : undefined,
    audio: paths.audioFile(malId, job.episode),
    json: paths.transcriptJson(malId, job.episode, compress),
    txt: paths.transcriptTxt(malId, job.episode, compress),
  }
}

/** A transcript an interrupted attempt wrote completely (killed before the queue heard of it), made with this model. */
function finishedEarlier(file: string, model: string): Transcript | undefined {
  if (!existsSync(file)) return undefined
  try {
    const t = JSON.parse(readTextFile(file)) as Transcript
    return transcriptProblem(t) === undefined && t.model === model && t.whisper !== undefined ? t : undefined
  } catch {
    return undefined
  }
}

/** The text file: one line per segment that is not flagged as hallucination. */
function writeText(file: string, transcript: Transcript): void {
  writeTextFile(file, transcriptText({...transcript, segments: transcript.segments.filter((s) => !s.hallucinated)}))
}

/**
 * One episode: its audio extracted, whisper.cpp run on it, the transcript written (or the complete
 * one of an interrupted attempt kept), the timing recorded; then, once the lease is confirmed, the media deleted.
 */
export async function transcribeJob(job: JobRow, lease: Lease, deps: TranscribeDeps): Promise<UnitOutcome> {
  const queue = await deps.ctx.queue()
  const files = episodeFiles(deps, job)
  let transcript = finishedEarlier(files.json, deps.model.label)
  let audioBytes = existsSync(files.audio) ? statSync(files.audio).size : 0
  if (transcript) await keepEarlier(transcript, job, lease, deps, files, queue)
  else ({transcript, audioBytes} = await transcribeEpisode(job, lease, deps, files, queue))
  const bytes = statSync(files.json).size + statSync(files.txt).size
  // still ours? a worker whose lease was lost must not delete what another one is using
  if (!(await lease.extend())) throw new Error('lease lost before the media were deleted')
  // then the media, so the disk frees as soon as the transcript is safe
  const deleted = deleteMedia(job, deps, files)
  const h = transcript.hallucinations
  const gone = [deleted.video ? 'video' : '', deleted.audio ? 'audio' : ''].filter(Boolean).join(' and ')
  return {
    fields: {
      transcript_path: deps.paths.relative(files.json),
      transcript_size_bytes: bytes,
      audio_size_bytes: audioBytes || null,
      duration_seconds: transcript.duration_seconds === null ? null : Math.round(transcript.duration_seconds),
      video_deleted: deleted.video,
      audio_deleted: deleted.audio,
    },
    message: `${transcript.segments.length} segments${h && h.segments > 0 ? ` (${h.segments} flagged as hallucination)` : ''}, ${minutesSeconds(transcript.duration_seconds ?? 0)} of audio${transcript.whisper?.realtime_factor ? ` at ${transcript.whisper.realtime_factor}× real time` : ''}${gone ? `; ${gone} deleted` : ''}`,
  }
}

/** The complete transcript of an interrupted attempt: kept, with what that attempt may not have got to (the text file, the timing row). */
async function keepEarlier(transcript: Transcript, job: JobRow, lease: Lease, deps: TranscribeDeps, files: EpisodeFiles, queue: Queue): Promise<void> {
  await lease.note(`the transcript of an interrupted attempt is complete (${transcript.segments.length} segments, ${transcript.model}): kept`)
  if (!existsSync(files.txt)) writeText(files.txt, transcript)
  if (transcript.whisper && !(await queue.transcriptions.hasJob(job.id))) {
    await queue.transcriptions.record({
      jobId: job.id,
      host: deps.ctx.host,
      model: deps.model.name,
      threads: transcript.whisper.threads,
      audioSeconds: transcript.duration_seconds ?? 0,
      processingSeconds: transcript.whisper.processing_seconds,
      segments: transcript.segments.length,
      hallucinated: transcript.hallucinations?.segments ?? 0,
    })
  }
}

/** Extract the audio and run whisper in a scratch folder of the attempt's own; write the transcript; record the timing. */
async function transcribeEpisode(
  job: JobRow,
  lease: Lease,
  deps: TranscribeDeps,
  files: EpisodeFiles,
  queue: Queue,
): Promise<{transcript: Transcript; audioBytes: number}> {
  if (!existsSync(files.audio) && !(files.video && existsSync(files.video))) {
    throw new PermanentJobError(
      `the video ${files.video ?? '(none recorded)'} is gone and there is no audio: \`animezipf retry --anime-id ${job.mal_id!}\` downloads the episode again`,
    )
  }
  const work = mkdtempSync(deps.paths.scratchAttempt(job.id))
  try {
    lease.status('extracting audio')
    // ffmpeg writes in the scratch folder (its process group recorded there), then the WAV is renamed into place
    const extracted = await extractAudio(deps.ffmpeg, files.video ?? '', files.audio, Math.min(deps.timeoutMs, 3_600_000), lease.signal, work)
    if (extracted.reused) await lease.note(`reused the audio of an earlier attempt (${minutesSeconds(extracted.seconds)})`)
    const prefix = path.join(work, 'out')
    const heard = await runWhisper(lease, deps, files.audio, prefix, extracted.seconds)
    const transcript = transcriptOf(job, deps, readWhisperOutput(`${prefix}.json`), heard)
    deps.figures.audioSeconds += heard.audioSeconds
    deps.figures.processingSeconds += heard.seconds
    deps.figures.flagged += transcript.hallucinations!.segments
    // the files first, the JSON last: it says the attempt finished, and a kill after it keeps the
    // transcript, which the next attempt reuses
    writeText(files.txt, transcript)
    writeTextFile(files.json, JSON.stringify(transcript))
    await queue.transcriptions.record({
      jobId: job.id,
      host: deps.ctx.host,
      model: deps.model.name,
      threads: deps.threads,
      audioSeconds: heard.audioSeconds,
      processingSeconds: heard.seconds,
      segments: transcript.segments.length,
      hallucinated: transcript.hallucinations!.segments,
    })
    return {transcript, audioBytes: extracted.bytes}
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

/** whisper.cpp on the WAV, its progress on the worker's line; its output JSON is at `${prefix}.json` when this returns. */
async function runWhisper(lease: Lease, deps: TranscribeDeps, wav: string, prefix: string, audioSeconds: number): Promise<Heard> {
  const {bin, model} = deps
  const args = whisperArgs(bin, {model: model.file, wav, language: deps.language, threads: deps.threads, prefix})
  const t0 = Date.now()
  lease.status(`whisper ${model.name}, ${minutesSeconds(audioSeconds)} of audio`)
  const result = await runTool(bin.path, args, {
    env: process.env,
    timeoutMs: deps.timeoutMs,
    signal: lease.signal,
    onStart: (pid) => recordGroup(path.dirname(prefix), pid),
    onStderr: (chunk) => {
      const m = /progress\s*=\s*(\d+)%/.exec(chunk)
      if (m) {
        lease.status(`whisper ${model.name}: ${m[1]}% of ${minutesSeconds(audioSeconds)}, ${minutesSeconds((Date.now() - t0) / 1000)}`)
        lease.progress(0.05 + 0.9 * (Number(m[1]) / 100))
      }
    },
  })
  lease.signal.throwIfAborted()
  const seconds = (Date.now() - t0) / 1000
  const said = whisperComplaint(result.stderr)
  await lease.note(
    `${path.basename(bin.path)} ${JSON.stringify(args)} exited ${result.exitCode ?? 'on a signal'} after ${minutesSeconds(seconds)}${said ? `: ${said}` : ''}`,
  )
  checkWhisperRun(result, deps, said, `${prefix}.json`)
  return {audioSeconds, seconds}
}

/** Why a whisper run gave no transcript: the program, the model or the command line (the run stops), or this episode (the job fails). */
function checkWhisperRun(result: ToolRun, deps: TranscribeDeps, said: string, out: string): void {
  const {bin, model} = deps
  if (result.notFound)
    throw new StopRunError(`whisper program could not be started: ${bin.path}`, 'run `npm run setup:whisper` again or fix [transcribe] whisper_bin')
  if (result.timedOut)
    throw new Error(`whisper did not finish in ${minutesSeconds(deps.timeoutMs / 1000)} (killed; raise [transcribe] timeout_seconds for slow machines)`)
  if (/failed to initialize whisper context|failed to load model|invalid model/i.test(result.stderr)) {
    const damaged = /not all tensors|wrong size|wrong shape|bad magic|unknown tensor|invalid model/i.test(result.stderr)
    throw new StopRunError(
      `whisper could not load ${model.file}: ${said}`,
      damaged
        ? `the file is damaged or of another format: delete it and run \`animezipf transcribe --download-model ${model.name}\``
        : 'out of memory? try fewer --workers or a smaller (or quantized) model',
    )
  }
  if (result.exitCode !== 0) throw new Error(`whisper exited ${result.exitCode ?? 'on a signal'}: ${said || 'no message'}`)
  // whisper.cpp exits 0 on an argument or a language it does not know: every episode would fail so
  if (!existsSync(out) && /unknown (argument|language)/i.test(result.stderr))
    throw new StopRunError(
      `${path.basename(bin.path)} refused its command line: ${said}`,
      "check [transcribe] language and whisper_bin (is it whisper.cpp's main or whisper-cli?)",
    )
  if (!existsSync(out)) throw new Error(`whisper wrote no output${said ? ` (it said: ${said})` : ''}`)
}

/** The transcript from whisper's JSON: empty segments dropped, hallucinations flagged; refused when there is no speech or mostly invention. */
function transcriptOf(job: JobRow, deps: TranscribeDeps, output: Buffer, heard: Heard): Transcript {
  const parsed = parseWhisperJson(output)
  const segments: Segment[] = parsed.segments
    .filter((s) => s.text !== '')
    .map((s, i) => ({id: i, start: s.start, end: s.end, text: s.text, confidence: s.confidence}))
  if (segments.length === 0)
    throw new PermanentJobError(`whisper heard no speech in ${minutesSeconds(heard.audioSeconds)} of audio (music only, or the wrong audio track)`)
  const flagged = flagHallucinations(segments, deps.rules)
  const detail = `repeated lines ${flagged.repeated}, stock phrases ${flagged.stock_phrase}, low confidence ${flagged.low_confidence} of ${segments.length} segments`
  if (flagged.share * 100 > deps.maxHallucinatedPercent) {
    throw new PermanentJobError(
      `most of the transcript is hallucination: ${Math.round(flagged.share * 100)}% of its speech time (${detail}); video and audio kept`,
    )
  }
  const {seconds} = heard
  return {
    anime_id: job.mal_id!,
    episode: job.episode,
    duration_seconds: Number(heard.audioSeconds.toFixed(3)),
    language: parsed.language ?? deps.language,
    model: deps.model.label,
    source: {kind: 'whisper', file: job.video_path ?? undefined},
    segments,
    transcribed_at: new Date().toISOString(),
    hallucinations: flagged,
    whisper: {
      binary: deps.bin.path,
      threads: deps.threads,
      processing_seconds: Number(seconds.toFixed(3)),
      realtime_factor: seconds > 0 ? Number((heard.audioSeconds / seconds).toFixed(2)) : null,
    },
  }
}

/**
 * The episode's own video and audio, deleted as configured: only files in the data folders,
 * never one a row names elsewhere, nor one reached through a folder linked outside (those are
 * left, and their rows say so). 1 = gone.
 */
function deleteMedia(job: JobRow, deps: TranscribeDeps, files: EpisodeFiles): {video: number; audio: number} {
  const {paths} = deps
  const remove = (file: string, root: string): number => {
    if (ownedRegularFile(file, root)) {
      deps.figures.freed += statSync(file).size
      rmSync(file, {force: true})
    }
    return existsSync(file) ? 0 : 1
  }
  const video = files.video
  return {
    video: deps.deleteVideo && video ? (paths.episodeVideo(job.video_path!, job.mal_id!, job.episode) ? remove(video, paths.videosRoot) : 0) : 0,
    audio: deps.deleteAudio ? remove(files.audio, paths.audioRoot) : 0,
  }
}
