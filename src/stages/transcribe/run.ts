import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import path from 'node:path'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, PermanentJobError, StopRunError, UserError} from '../../errors.js'
import {requireAnime} from '../../queue/anime.js'
import {type Segment, type Transcript, transcriptProblem, transcriptText} from '../../formats/transcript.js'
import {STAGES} from '../../queue/stages.js'
import {runStage} from '../../runner/stage.js'
import {ensureWritableDir} from '../../util/atomic.js'
import {recordGroup, removeStaleAttempts} from '../../util/attempts.js'
import {formatBytes} from '../../util/disk.js'
import {readTextFile, writeTextFile} from '../../util/gzip-file.js'
import {findProgram, runTool} from '../../util/process.js'
import {minutesSeconds} from '../../util/text.js'
import {extractAudio} from './audio.js'
import {flagHallucinations} from './hallucination.js'
import {checkModelName, downloadModel, modelFileFor} from './model.js'
import {inspectWhisper, parseWhisperJson, readWhisperOutput, resolveWhisper, whisperArgs, whisperComplaint} from './whisper.js'
import {ownedRegularFile} from '../../paths.js'

export interface TranscribeOptions {
  workers?: number | undefined
  threads?: number | undefined
  model?: string | undefined
  limit?: number | undefined
  malId?: number | undefined
  /** Keep the video and the audio of this run's episodes. */
  keepMedia: boolean
  dryRun: boolean
}

const stage = STAGES.transcribe

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

/** `animezipf transcribe`: video -> 16 kHz WAV -> whisper.cpp -> transcript files; then the media go. */
export async function transcribe(ctx: AppContext, options: TranscribeOptions): Promise<ServiceResult> {
  const {config, paths, output} = ctx
  const modelName = options.model ?? config.transcribe.model
  if (/\.en($|[-_.])/.test(modelName) && config.transcribe.language !== 'en') {
    throw new UserError(
      `the model "${modelName}" knows English only: it would transcribe ${config.transcribe.language} audio as English`,
      'use a multilingual model (tiny, base, small, medium, large-v3, large-v3-turbo)',
    )
  }
  const modelFile = modelFileFor(paths, modelName)
  const modelLabel = `whisper-${modelName}`
  const bin = await inspectWhisper(resolveWhisper(config.transcribe.whisper_bin))
  const ffmpeg = findProgram(config.media.ffmpeg)
  if (!ffmpeg) throw new UserError(`ffmpeg not found: ${config.media.ffmpeg}`, 'install ffmpeg (apt install ffmpeg), or set [media] ffmpeg')
  const cores = availableParallelism()
  const workers = options.workers ?? config.processing.max_concurrent_transcriptions
  const threads = options.threads ?? (config.transcribe.threads || Math.max(1, Math.floor(cores / workers)))
  const preamble: string[] = []
  if (workers * threads > cores) {
    const line = `warning: ${workers} worker(s) × ${threads} thread(s) = ${workers * threads} threads on ${cores} cores: they will slow each other down (try --threads ${Math.max(1, Math.floor(cores / workers))})`
    output.warn(line)
    preamble.push(line)
  }
  const deleteMedia = !options.keepMedia
  const deleteVideo = deleteMedia && config.disk_management.cleanup.delete_video_after_transcription
  const deleteAudio = deleteMedia && config.disk_management.cleanup.delete_audio_after_transcription
  const compress = config.output.compress
  const timeoutMs = config.transcribe.timeout_seconds * 1000
  const rules = {maxRepeats: config.transcribe.max_repeats, lowConfidence: config.transcribe.low_confidence, stockPhrases: config.transcribe.stock_phrases}

  const readQueue = await ctx.queue({readonly: options.dryRun})
  await requireAnime(readQueue.anime, options.malId)
  if (!options.dryRun) {
    ensureWritableDir(paths.workRoot, '[data] root_dir')
    for (const name of removeStaleAttempts(paths.workRoot)) output.log(`removed the scratch folder of a process that died: ${name}`)
  }

  let audioSeconds = 0
  let processingSeconds = 0
  let freed = 0
  let flagged = 0
  const run = await runStage(ctx, {
    stage,
    workers,
    limit: options.limit,
    malId: options.malId,
    dryRun: options.dryRun,
    preamble,
    describe: (job) => {
      const wav = paths.relative(paths.audioFile(job.mal_id!, job.episode))
      const args = whisperArgs(bin, {
        model: modelFile,
        wav: paths.audioFile(job.mal_id!, job.episode),
        language: config.transcribe.language,
        threads,
        prefix: '(scratch folder)/out',
      })
      return `ffmpeg ${job.video_path ?? '(no video)'} -> ${wav}; ${path.basename(bin.path)} ${JSON.stringify(args)} -> ${paths.relative(paths.transcriptJson(job.mal_id!, job.episode, compress))}${deleteVideo || deleteAudio ? `; then delete the ${[deleteVideo ? 'video' : '', deleteAudio ? 'audio' : ''].filter(Boolean).join(' and ')}` : ''}`
    },
    handler: async ({job, signal, note, progress, status, extend}) => {
      const malId = job.mal_id!
      const queue = await ctx.queue()
      const video = job.video_path ? paths.videoAbsolute(job.video_path) : undefined
      const audio = paths.audioFile(malId, job.episode)
      const jsonFile = paths.transcriptJson(malId, job.episode, compress)
      const txtFile = paths.transcriptTxt(malId, job.episode, compress)

      let transcript = finishedEarlier(jsonFile, modelLabel)
      let audioBytes = existsSync(audio) ? statSync(audio).size : 0
      if (transcript) {
        await note(`the transcript of an interrupted attempt is complete (${transcript.segments.length} segments, ${transcript.model}): kept`)
        // what the interrupted attempt may not have got to: the text file, the timing row
        if (!existsSync(txtFile)) writeTextFile(txtFile, transcriptText({...transcript, segments: transcript.segments.filter((s) => !s.hallucinated)}))
        if (transcript.whisper && !(await queue.transcriptions.hasJob(job.id))) {
          await queue.transcriptions.record({
            jobId: job.id,
            host: ctx.host,
            model: modelName,
            threads: transcript.whisper.threads,
            audioSeconds: transcript.duration_seconds ?? 0,
            processingSeconds: transcript.whisper.processing_seconds,
            segments: transcript.segments.length,
            hallucinated: transcript.hallucinations?.segments ?? 0,
          })
        }
      } else {
        if (!existsSync(audio) && !(video && existsSync(video))) {
          throw new PermanentJobError(
            `the video ${video ?? '(none recorded)'} is gone and there is no audio: \`animezipf retry --anime-id ${malId}\` downloads the episode again`,
          )
        }
        const work = mkdtempSync(paths.scratchAttempt(job.id))
        try {
          status('extracting audio')
          // ffmpeg writes in the scratch folder (its process group recorded there), then the WAV is renamed into place
          const extracted = await extractAudio(ffmpeg, video ?? '', audio, Math.min(timeoutMs, 3_600_000), signal, work)
          audioBytes = extracted.bytes
          if (extracted.reused) await note(`reused the audio of an earlier attempt (${minutesSeconds(extracted.seconds)})`)
          const prefix = path.join(work, 'out')
          const args = whisperArgs(bin, {model: modelFile, wav: audio, language: config.transcribe.language, threads, prefix})
          const t0 = Date.now()
          status(`whisper ${modelName}, ${minutesSeconds(extracted.seconds)} of audio`)
          const result = await runTool(bin.path, args, {
            env: process.env,
            timeoutMs,
            signal,
            onStart: (pid) => recordGroup(work, pid),
            onStderr: (chunk) => {
              const m = /progress\s*=\s*(\d+)%/.exec(chunk)
              if (m) {
                status(`whisper ${modelName}: ${m[1]}% of ${minutesSeconds(extracted.seconds)}, ${minutesSeconds((Date.now() - t0) / 1000)}`)
                progress(0.05 + 0.9 * (Number(m[1]) / 100))
              }
            },
          })
          signal.throwIfAborted()
          const seconds = (Date.now() - t0) / 1000
          const said = whisperComplaint(result.stderr)
          await note(
            `${path.basename(bin.path)} ${JSON.stringify(args)} exited ${result.exitCode ?? 'on a signal'} after ${minutesSeconds(seconds)}${said ? `: ${said}` : ''}`,
          )
          if (result.notFound)
            throw new StopRunError(`whisper program could not be started: ${bin.path}`, 'run `npm run setup:whisper` again or fix [transcribe] whisper_bin')
          if (result.timedOut)
            throw new Error(`whisper did not finish in ${minutesSeconds(timeoutMs / 1000)} (killed; raise [transcribe] timeout_seconds for slow machines)`)
          if (/failed to initialize whisper context|failed to load model|invalid model/i.test(result.stderr)) {
            const damaged = /not all tensors|wrong size|wrong shape|bad magic|unknown tensor|invalid model/i.test(result.stderr)
            throw new StopRunError(
              `whisper could not load ${modelFile}: ${said}`,
              damaged
                ? `the file is damaged or of another format: delete it and run \`animezipf transcribe --download-model ${modelName}\``
                : 'out of memory? try fewer --workers or a smaller (or quantized) model',
            )
          }
          if (result.exitCode !== 0) throw new Error(`whisper exited ${result.exitCode ?? 'on a signal'}: ${said || 'no message'}`)
          const out = `${prefix}.json`
          // whisper.cpp exits 0 on an argument or a language it does not know: every episode would fail so
          if (!existsSync(out) && /unknown (argument|language)/i.test(result.stderr))
            throw new StopRunError(
              `${path.basename(bin.path)} refused its command line: ${said}`,
              "check [transcribe] language and whisper_bin (is it whisper.cpp's main or whisper-cli?)",
            )
          if (!existsSync(out)) throw new Error(`whisper wrote no output${said ? ` (it said: ${said})` : ''}`)
          const parsed = parseWhisperJson(readWhisperOutput(out))
          const segments: Segment[] = parsed.segments
            .filter((s) => s.text !== '')
            .map((s, i) => ({id: i, start: s.start, end: s.end, text: s.text, confidence: s.confidence}))
          if (segments.length === 0)
            throw new PermanentJobError(`whisper heard no speech in ${minutesSeconds(extracted.seconds)} of audio (music only, or the wrong audio track)`)
          const summary = flagHallucinations(segments, rules)
          const detail = `repeated lines ${summary.repeated}, stock phrases ${summary.stock_phrase}, low confidence ${summary.low_confidence} of ${segments.length} segments`
          if (summary.share * 100 > config.transcribe.max_hallucinated_percent) {
            throw new PermanentJobError(
              `most of the transcript is hallucination: ${Math.round(summary.share * 100)}% of its speech time (${detail}); video and audio kept`,
            )
          }
          transcript = {
            anime_id: malId,
            episode: job.episode,
            duration_seconds: Number(extracted.seconds.toFixed(3)),
            language: parsed.language ?? config.transcribe.language,
            model: modelLabel,
            source: {kind: 'whisper', file: job.video_path ?? undefined},
            segments,
            transcribed_at: new Date().toISOString(),
            hallucinations: summary,
            whisper: {
              binary: bin.path,
              threads,
              processing_seconds: Number(seconds.toFixed(3)),
              realtime_factor: seconds > 0 ? Number((extracted.seconds / seconds).toFixed(2)) : null,
            },
          }
          audioSeconds += extracted.seconds
          processingSeconds += seconds
          flagged += summary.segments
          // the files first, the JSON last: it says the attempt finished, and a kill after it keeps the
          // transcript, which the next attempt reuses
          writeTextFile(txtFile, transcriptText({...transcript, segments: segments.filter((s) => !s.hallucinated)}))
          writeTextFile(jsonFile, JSON.stringify(transcript))
          await queue.transcriptions.record({
            jobId: job.id,
            host: ctx.host,
            model: modelName,
            threads,
            audioSeconds: extracted.seconds,
            processingSeconds: seconds,
            segments: segments.length,
            hallucinated: summary.segments,
          })
        } finally {
          rmSync(work, {recursive: true, force: true})
        }
      }
      const bytes = statSync(jsonFile).size + statSync(txtFile).size
      // still ours? a worker whose lease was lost must not delete what another one is using
      if (!(await extend())) throw new Error('lease lost before the media were deleted')
      // then the media, so the disk frees as soon as the transcript is safe
      let videoDeleted = 0
      let audioDeleted = 0
      // only the episode's own files in the data folders: never one a row names elsewhere, nor one
      // reached through a folder linked outside (those are left, and their rows say so)
      const remove = (file: string, root: string): number => {
        if (ownedRegularFile(file, root)) {
          freed += statSync(file).size
          rmSync(file, {force: true})
        }
        return existsSync(file) ? 0 : 1
      }
      if (deleteVideo && video) videoDeleted = paths.episodeVideo(job.video_path!, malId, job.episode) ? remove(video, paths.videosRoot) : 0
      if (deleteAudio) audioDeleted = remove(audio, paths.audioRoot)
      const h = transcript.hallucinations
      return {
        fields: {
          transcript_path: paths.relative(jsonFile),
          transcript_size_bytes: bytes,
          audio_size_bytes: audioBytes || null,
          duration_seconds: transcript.duration_seconds === null ? null : Math.round(transcript.duration_seconds),
          video_deleted: videoDeleted,
          audio_deleted: audioDeleted,
        },
        message: `${transcript.segments.length} segments${h && h.segments > 0 ? ` (${h.segments} flagged as hallucination)` : ''}, ${minutesSeconds(transcript.duration_seconds ?? 0)} of audio${transcript.whisper?.realtime_factor ? ` at ${transcript.whisper.realtime_factor}× real time` : ''}${videoDeleted || audioDeleted ? `; ${[videoDeleted ? 'video' : '', audioDeleted ? 'audio' : ''].filter(Boolean).join(' and ')} deleted` : ''}`,
      }
    },
    extra: () => ({
      model: modelName,
      binary: bin.path,
      threads,
      audio_seconds: Math.round(audioSeconds),
      processing_seconds: Math.round(processingSeconds),
      realtime_factor: processingSeconds > 0 ? Number((audioSeconds / processingSeconds).toFixed(2)) : null,
      hallucinated_segments: flagged,
      bytes_freed: freed,
    }),
  })
  if (!options.dryRun && processingSeconds > 0) {
    run.text.push(
      `${minutesSeconds(audioSeconds)} of audio in ${minutesSeconds(processingSeconds)} of whisper (${(audioSeconds / processingSeconds).toFixed(2)}× real time per worker, ${modelName}, ${threads} thread(s))${freed > 0 ? `; ${formatBytes(freed)} freed` : ''}`,
    )
  }
  return run
}

/** `animezipf transcribe --download-model NAME`: fetch a ggml model into data/models/, resumable. */
export async function fetchModel(ctx: AppContext, name: string): Promise<ServiceResult> {
  checkModelName(name)
  const target = ctx.paths.modelFile(name)
  if (existsSync(target))
    return {code: EXIT.OK, result: {model: name, file: target, bytes: statSync(target).size, downloaded: false}, text: [`${name} is already at ${target}`]}
  const url = ctx.config.transcribe.model_url.replaceAll('{model}', name)
  const {SingleBar, Presets} = (await import('cli-progress')).default
  const bar = ctx.output.interactive
    ? new SingleBar({format: `ggml-${name}.bin [{bar}] {percentage}% {value}/{total} MB`, hideCursor: true, stream: process.stderr}, Presets.shades_classic)
    : undefined
  let started = false
  let lastLog = 0
  try {
    const r = await downloadModel(url, target, (done, total) => {
      const mb = Math.round(done / 1e6)
      if (bar) {
        if (!started) bar.start(total ? Math.round(total / 1e6) : mb, mb)
        started = true
        bar.update(mb)
      } else if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now()
        ctx.output.log(`ggml-${name}.bin: ${formatBytes(done)}${total ? ` of ${formatBytes(total)}` : ''}`)
      }
    })
    bar?.stop()
    return {
      code: EXIT.OK,
      result: {model: name, file: r.file, bytes: r.bytes, resumed_from: r.resumedFrom, downloaded: true},
      text: [`${name}: ${formatBytes(r.bytes)} written to ${r.file}${r.resumedFrom > 0 ? ` (resumed at ${formatBytes(r.resumedFrom)})` : ''}`],
    }
  } catch (error) {
    bar?.stop()
    const partial = `${target}.part`
    const have = existsSync(partial) ? statSync(partial).size : 0
    throw new UserError(
      `the model download failed: ${(error as Error).message}`,
      have > 0 ? `${formatBytes(have)} kept in ${partial}; run the same command again to resume` : 'check the network and [transcribe] model_url',
      EXIT.TRY_LATER,
    )
  }
}
