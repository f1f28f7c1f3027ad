import {availableParallelism} from 'node:os'
import path from 'node:path'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {UserError} from '../../errors.js'
import type {DataPaths} from '../../paths.js'
import {STAGES} from '../../queue/stages.js'
import {type JobStageFigures, type Stage, type StageDeps, type StageIdle, type StagePlan, jobStageResult, runStage} from '../../runner/stage.js'
import {ensureWritableDir} from '../../util/atomic.js'
import {removeStaleAttempts} from '../../util/attempts.js'
import {formatBytes} from '../../util/disk.js'
import {findProgram} from '../../util/process.js'
import {minutesSeconds} from '../../util/text.js'
import type {HallucinationRules} from './hallucination.js'
import {transcribeJob} from './job.js'
import {modelFileFor} from './model.js'
import {type WhisperBinary, inspectWhisper, resolveWhisper, whisperArgs} from './whisper.js'

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

/** `transcribe --json`: the pool's figures, the model and binary, and the speed over the audio transcribed. */
export interface TranscribeResult extends JobStageFigures {
  model: string
  binary: string
  threads: number
  audio_seconds: number
  processing_seconds: number
  /** Seconds of audio per second of whisper, per worker; null when nothing was transcribed. */
  realtime_factor: number | null
  hallucinated_segments: number
  bytes_freed: number
}

export interface TranscribeDeps extends StageDeps {
  ctx: AppContext
  paths: DataPaths
  /** The model's name (base), its file, and the label transcripts carry (whisper-base). */
  model: {name: string; file: string; label: string}
  bin: WhisperBinary
  ffmpeg: string
  threads: number
  language: string
  deleteVideo: boolean
  deleteAudio: boolean
  compress: boolean
  timeoutMs: number
  rules: HallucinationRules
  maxHallucinatedPercent: number
  /** Said before the plan or the summary (too many threads for the cores). */
  warnings: string[]
  /** Counted as jobs finish. */
  figures: {audioSeconds: number; processingSeconds: number; freed: number; flagged: number}
}

/** A model made for English only would transcribe Japanese audio as English: refused before anything runs. */
function checkModelLanguage(model: string, language: string): void {
  if (/\.en($|[-_.])/.test(model) && language !== 'en') {
    throw new UserError(
      `the model "${model}" knows English only: it would transcribe ${language} audio as English`,
      'use a multilingual model (tiny, base, small, medium, large-v3, large-v3-turbo)',
    )
  }
}

/** Workers and whisper threads per worker: the cores shared between the workers unless set; a warning when they overbook the cores. */
function workersAndThreads(ctx: AppContext, options: TranscribeOptions): {workers: number; threads: number; warnings: string[]} {
  const cores = availableParallelism()
  const workers = options.workers ?? ctx.config.processing.max_concurrent_transcriptions
  const threads = options.threads ?? (ctx.config.transcribe.threads || Math.max(1, Math.floor(cores / workers)))
  const warnings: string[] = []
  if (workers * threads > cores) {
    const line = `warning: ${workers} worker(s) × ${threads} thread(s) = ${workers * threads} threads on ${cores} cores: they will slow each other down (try --threads ${Math.max(1, Math.floor(cores / workers))})`
    ctx.output.warn(line)
    warnings.push(line)
  }
  return {workers, threads, warnings}
}

/** `animezipf transcribe`: video -> 16 kHz WAV -> whisper.cpp -> transcript files; then the media go. */
export const transcribeStage: Stage<TranscribeOptions, TranscribeDeps, unknown, TranscribeResult> = {
  def: STAGES.transcribe,

  async prepare(ctx, options) {
    const {config, paths} = ctx
    const name = options.model ?? config.transcribe.model
    checkModelLanguage(name, config.transcribe.language)
    // the model's name is checked before anything runs (a path is not a name)
    const modelFile = modelFileFor(paths, name)
    const bin = await inspectWhisper(resolveWhisper(config.transcribe.whisper_bin))
    const ffmpeg = findProgram(config.media.ffmpeg)
    if (!ffmpeg) throw new UserError(`ffmpeg not found: ${config.media.ffmpeg}`, 'install ffmpeg (apt install ffmpeg), or set [media] ffmpeg')
    const deleteMedia = !options.keepMedia
    const {cleanup} = config.disk_management
    return {
      ...workersAndThreads(ctx, options),
      ctx,
      paths,
      model: {name, file: modelFile, label: `whisper-${name}`},
      bin,
      ffmpeg,
      language: config.transcribe.language,
      deleteVideo: deleteMedia && cleanup.delete_video_after_transcription,
      deleteAudio: deleteMedia && cleanup.delete_audio_after_transcription,
      compress: config.output.compress,
      timeoutMs: config.transcribe.timeout_seconds * 1000,
      rules: {maxRepeats: config.transcribe.max_repeats, lowConfidence: config.transcribe.low_confidence, stockPhrases: config.transcribe.stock_phrases},
      maxHallucinatedPercent: config.transcribe.max_hallucinated_percent,
      figures: {audioSeconds: 0, processingSeconds: 0, freed: 0, flagged: 0},
    }
  },

  async start(run, deps) {
    run.preamble.push(...deps.warnings)
    if (run.options.dryRun) return
    ensureWritableDir(deps.paths.workRoot, '[data] root_dir')
    for (const name of removeStaleAttempts(deps.paths.workRoot)) run.ctx.output.log(`removed the scratch folder of a process that died: ${name}`)
  },

  handleJob: transcribeJob,

  describe(job, deps) {
    const {paths} = deps
    const wav = paths.audioFile(job.mal_id!, job.episode)
    const args = whisperArgs(deps.bin, {model: deps.model.file, wav, language: deps.language, threads: deps.threads, prefix: '(scratch folder)/out'})
    const deleted = [deps.deleteVideo ? 'video' : '', deps.deleteAudio ? 'audio' : ''].filter(Boolean).join(' and ')
    const transcript = paths.relative(paths.transcriptJson(job.mal_id!, job.episode, deps.compress))
    return `ffmpeg ${job.video_path ?? '(no video)'} -> ${paths.relative(wav)}; ${path.basename(deps.bin.path)} ${JSON.stringify(args)} -> ${transcript}${deleted ? `; then delete the ${deleted}` : ''}`
  },

  async summarize(summary, run, deps) {
    const base = jobStageResult(summary, run)
    const {audioSeconds, processingSeconds, freed, flagged} = deps.figures
    const text = [...base.text]
    if (processingSeconds > 0) {
      text.push(
        `${minutesSeconds(audioSeconds)} of audio in ${minutesSeconds(processingSeconds)} of whisper (${(audioSeconds / processingSeconds).toFixed(2)}× real time per worker, ${deps.model.name}, ${deps.threads} thread(s))${freed > 0 ? `; ${formatBytes(freed)} freed` : ''}`,
      )
    }
    const result: TranscribeResult = {
      ...base.result,
      model: deps.model.name,
      binary: deps.bin.path,
      threads: deps.threads,
      audio_seconds: Math.round(audioSeconds),
      processing_seconds: Math.round(processingSeconds),
      realtime_factor: processingSeconds > 0 ? Number((audioSeconds / processingSeconds).toFixed(2)) : null,
      hallucinated_segments: flagged,
      bytes_freed: freed,
    }
    return {code: base.code, result, text}
  },
}

export function transcribe(ctx: AppContext, options: TranscribeOptions): Promise<ServiceResult<TranscribeResult | StagePlan | StageIdle>> {
  return runStage(ctx, transcribeStage, options)
}
