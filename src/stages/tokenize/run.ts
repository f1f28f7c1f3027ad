import {existsSync, rmSync} from 'node:fs'
import {availableParallelism, freemem} from 'node:os'

import type {AppContext} from '../../app/context.js'
import {type StageRunResult, runStage} from '../../runner/stage.js'
import {PermanentJobError} from '../../errors.js'
import {type Transcript, transcriptProblem} from '../../formats/transcript.js'
import type {JobRow} from '../../queue/rows.js'
import {STAGES} from '../../queue/stages.js'
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

const stage = STAGES.tokenize

function readTranscript(ctx: AppContext, job: JobRow): Transcript {
  if (!job.transcript_path) throw new PermanentJobError('job has no transcript_path; import or transcribe the episode first')
  const file = ctx.paths.absolute(job.transcript_path)
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

/** `animezipf tokenize`: transcripts -> cleaned lines -> kuromoji tokens -> tokens file + frequency CSV. */
export async function tokenize(ctx: AppContext, options: TokenizeOptions): Promise<StageRunResult> {
  const {config, paths} = ctx
  const compress = config.output.compress
  const exclude = new Set(config.tokenize.exclude_pos)
  // 0 (flag or config): one worker per core; never more than the memory holds (a dictionary thread
  // takes about 400 MB) nor twice the cores
  const asked = options.workers || config.processing.max_concurrent_tokenizations || availableParallelism()
  const cap = Math.max(1, Math.min(2 * availableParallelism(), Math.floor((0.8 * freemem()) / 400e6)))
  const workers = Math.min(asked, cap)
  if (workers < asked)
    ctx.output.warn(
      `${asked} tokenize workers would need about ${((asked * 400e6) / 1e9).toFixed(1)} GB; running ${workers} (the cores and the free memory allow that many)`,
    )
  let rewound = 0
  const preamble: string[] = []
  if (options.force) {
    if (options.dryRun) {
      const n = await (await ctx.queue({readonly: true})).jobs.countInStages(['tokenized', 'complete'], options.malId)
      preamble.push(`dry run: --force would first send ${n} tokenized and complete job(s) back to '${stage.input}'`)
    } else {
      rewound = await (await ctx.queue()).jobs.rewind(stage, ['tokenized', 'complete'], options.malId)
      if (rewound > 0) ctx.output.log(`--force: ${rewound} job(s) sent back to '${stage.input}' to be tokenized again`)
    }
  }
  const threads = new TokenizerThreads()
  let totalTokens = 0
  let totalWords = 0
  let textBytes = 0
  // throughput is measured from the first job to the last, after the dictionaries loaded
  let firstStart = 0
  let lastEnd = 0
  const run = await runStage(ctx, {
    stage,
    workers,
    limit: options.limit,
    malId: options.malId,
    dryRun: options.dryRun,
    preamble,
    dryRunRewoundFrom: options.force ? ['tokenized', 'complete'] : undefined,
    describe: (job) => `tokenize ${job.transcript_path ?? '(no transcript)'} -> ${paths.relative(paths.freqCsv(job.mal_id!, job.episode))}`,
    prepareWorker: (index) => threads.start(index),
    cleanup: () => threads.close(),
    handler: async ({job, worker}) => {
      firstStart ||= Date.now()
      const transcript = readTranscript(ctx, job)
      const cleaned = cleanSegmentLines(transcript.segments, config.tokenize.cleaning)
      const lines = cleaned.map((l) => l.text)
      const lineInfo = cleaned.map((l) => ({
        segment: l.segment,
        start: transcript.segments[l.segment]?.start ?? null,
        end: transcript.segments[l.segment]?.end ?? null,
      }))
      textBytes += lines.reduce((n, l) => n + Buffer.byteLength(l), 0)
      const malId = job.mal_id!
      const header = {anime_id: malId, episode: job.episode, tokenizer: 'kuromoji', dictionary: 'ipadic', cleaning: config.tokenize.cleaning}
      const counted = await threads.episode(worker, lines, {excludePos: [...exclude], compress, header, lineInfo})
      const tokensFile = paths.tokensFile(malId, job.episode, compress)
      writeFileAtomic(tokensFile, counted.tokensFile)
      const tokenBytes = counted.tokensFile.byteLength
      const csvBytes = writeTextFile(paths.freqCsv(malId, job.episode), counted.frequencyCsv)
      // a change of [output] compress leaves the other variant behind: it is stale now
      rmSync(paths.tokensFile(malId, job.episode, !compress), {force: true})
      lastEnd = Date.now()
      totalTokens += counted.tokenCount
      totalWords += counted.wordCount
      return {
        fields: {
          tokens_path: paths.relative(tokensFile),
          tokens_size_bytes: tokenBytes + csvBytes,
          token_count: counted.tokenCount,
          word_count: counted.wordCount,
        },
        message: `${counted.tokenCount} tokens, ${counted.wordCount} words, ${counted.distinct} distinct`,
      }
    },
    extra: () => ({
      rewound,
      tokens: totalTokens,
      words: totalWords,
      text_bytes: textBytes,
      text_mb_per_s: lastEnd > firstStart ? Number((textBytes / 1e6 / ((lastEnd - firstStart) / 1000)).toFixed(3)) : null,
    }),
  })
  return run
}
