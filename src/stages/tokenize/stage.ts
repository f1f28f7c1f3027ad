import {existsSync, rmSync} from 'node:fs'
import {availableParallelism, freemem} from 'node:os'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {PermanentJobError} from '../../errors.js'
import {type Transcript, transcriptProblem} from '../../formats/transcript.js'
import type {DataPaths} from '../../paths.js'
import type {JobRow} from '../../queue/rows.js'
import {STAGES} from '../../queue/stages.js'
import type {Lease, UnitOutcome} from '../../runner/pool.js'
import {type JobStageFigures, type Stage, type StageDeps, type StageIdle, type StagePlan, jobStageResult, runStage} from '../../runner/stage.js'
import {writeFileAtomic} from '../../util/atomic.js'
import {readTextFile, writeTextFile} from '../../util/gzip-file.js'
import {cleanSegmentLines} from './clean.js'
import {TokenizerThreads} from './threads.js'

export interface TokenizeOptions {
  workers?: number | undefined
  limit?: number | undefined
  malId?: number | undefined
  dryRun: boolean
  force: boolean
}

/** `tokenize --json`: the pool's figures, what --force sent back, and the text throughput. */
export interface TokenizeResult extends JobStageFigures {
  rewound: number
  tokens: number
  words: number
  text_bytes: number
  /** Text MB per second from the first job's start to the last one's end (after the dictionaries loaded). */
  text_mb_per_s: number | null
}

export interface TokenizeDeps extends StageDeps {
  paths: DataPaths
  cleaning: AppContext['config']['tokenize']['cleaning']
  excludePos: string[]
  compress: boolean
  force: boolean
  threads: TokenizerThreads
  /** Counted as jobs finish. */
  figures: {rewound: number; tokens: number; words: number; textBytes: number; firstStart: number; lastEnd: number}
}

/** Stages a job is sent back from by --force. */
const REDONE = ['tokenized', 'complete'] as const

/** The transcript a job points at, checked: a missing or damaged one fails the job for good. */
function readTranscript(paths: DataPaths, job: JobRow): Transcript {
  if (!job.transcript_path) throw new PermanentJobError('job has no transcript_path; import or transcribe the episode first')
  const file = paths.absolute(job.transcript_path)
  if (!existsSync(file)) throw new PermanentJobError(`transcript file missing: ${file}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(readTextFile(file))
  } catch (error) {
    throw new PermanentJobError(`transcript ${file} is not valid JSON: ${(error as Error).message}`)
  }
  const problem = transcriptProblem(parsed)
  if (problem) throw new PermanentJobError(`transcript ${file}: ${problem}`)
  return parsed as Transcript
}

/** Workers: the flag, the config, or one per core; never more than the memory holds (about 400 MB a dictionary thread) nor twice the cores. */
function tokenizeWorkers(ctx: AppContext, flag: number | undefined): number {
  const asked = flag || ctx.config.processing.max_concurrent_tokenizations || availableParallelism()
  const cap = Math.max(1, Math.min(2 * availableParallelism(), Math.floor((0.8 * freemem()) / 400e6)))
  const workers = Math.min(asked, cap)
  if (workers < asked)
    ctx.output.warn(
      `${asked} tokenize workers would need about ${((asked * 400e6) / 1e9).toFixed(1)} GB; running ${workers} (the cores and the free memory allow that many)`,
    )
  return workers
}

/** One transcript: cleaned lines -> kuromoji tokens in the worker's thread -> tokens file and frequency CSV. */
export async function tokenizeJob(job: JobRow, lease: Lease, deps: TokenizeDeps): Promise<UnitOutcome> {
  const {paths, compress, figures} = deps
  figures.firstStart ||= Date.now()
  const transcript = readTranscript(paths, job)
  const cleaned = cleanSegmentLines(transcript.segments, deps.cleaning)
  const lines = cleaned.map((l) => l.text)
  const lineInfo = cleaned.map((l) => ({
    segment: l.segment,
    start: transcript.segments[l.segment]?.start ?? null,
    end: transcript.segments[l.segment]?.end ?? null,
  }))
  figures.textBytes += lines.reduce((n, l) => n + Buffer.byteLength(l), 0)
  const malId = job.mal_id!
  const header = {anime_id: malId, episode: job.episode, tokenizer: 'kuromoji', dictionary: 'ipadic', cleaning: deps.cleaning}
  const counted = await deps.threads.episode(lease.worker, lines, {excludePos: deps.excludePos, compress, header, lineInfo})
  const tokensFile = paths.tokensFile(malId, job.episode, compress)
  writeFileAtomic(tokensFile, counted.tokensFile)
  const csvBytes = writeTextFile(paths.freqCsv(malId, job.episode), counted.frequencyCsv)
  // a change of [output] compress leaves the other variant behind: it is stale now
  rmSync(paths.tokensFile(malId, job.episode, !compress), {force: true})
  figures.lastEnd = Date.now()
  figures.tokens += counted.tokenCount
  figures.words += counted.wordCount
  return {
    fields: {
      tokens_path: paths.relative(tokensFile),
      tokens_size_bytes: counted.tokensFile.byteLength + csvBytes,
      token_count: counted.tokenCount,
      word_count: counted.wordCount,
    },
    message: `${counted.tokenCount} tokens, ${counted.wordCount} words, ${counted.distinct} distinct`,
  }
}

/** `animezipf tokenize`: transcripts -> cleaned lines -> kuromoji tokens -> tokens file + frequency CSV. */
export const tokenizeStage: Stage<TokenizeOptions, TokenizeDeps, unknown, TokenizeResult> = {
  def: STAGES.tokenize,

  async prepare(ctx, options) {
    const threads = new TokenizerThreads()
    return {
      workers: tokenizeWorkers(ctx, options.workers),
      paths: ctx.paths,
      cleaning: ctx.config.tokenize.cleaning,
      excludePos: [...new Set(ctx.config.tokenize.exclude_pos)],
      compress: ctx.config.output.compress,
      force: options.force,
      threads,
      prepareWorker: (index) => threads.start(index),
      close: () => threads.close(),
      rewoundFrom: options.force ? [...REDONE] : undefined,
      figures: {rewound: 0, tokens: 0, words: 0, textBytes: 0, firstStart: 0, lastEnd: 0},
    }
  },

  async start(run, deps) {
    if (!deps.force) return
    const {queue, options, ctx} = run
    if (options.dryRun) {
      const n = await queue.jobs.countInStages([...REDONE], options.malId)
      run.preamble.push(`dry run: --force would first send ${n} tokenized and complete job(s) back to '${this.def.input}'`)
      return
    }
    deps.figures.rewound = await queue.jobs.rewind(this.def, [...REDONE], options.malId)
    if (deps.figures.rewound > 0) ctx.output.log(`--force: ${deps.figures.rewound} job(s) sent back to '${this.def.input}' to be tokenized again`)
  },

  handleJob: tokenizeJob,

  describe: (job, deps) => `tokenize ${job.transcript_path ?? '(no transcript)'} -> ${deps.paths.relative(deps.paths.freqCsv(job.mal_id!, job.episode))}`,

  async summarize(summary, run, deps) {
    const base = jobStageResult(summary, run)
    const f = deps.figures
    const seconds = (f.lastEnd - f.firstStart) / 1000
    return {
      ...base,
      result: {
        ...base.result,
        rewound: f.rewound,
        tokens: f.tokens,
        words: f.words,
        text_bytes: f.textBytes,
        text_mb_per_s: f.lastEnd > f.firstStart ? Number((f.textBytes / 1e6 / seconds).toFixed(3)) : null,
      },
    }
  },
}

export function tokenize(ctx: AppContext, options: TokenizeOptions): Promise<ServiceResult<TokenizeResult | StagePlan | StageIdle>> {
  return runStage(ctx, tokenizeStage, options)
}
