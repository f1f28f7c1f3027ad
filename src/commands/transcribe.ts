import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX, stageFlags} from '../cli/base-command.js'
import type {StageIdle, StagePlan} from '../runner/stage.js'
import type {FetchModelResult} from '../stages/transcribe/fetch-model.js'
import type {TranscribeResult} from '../stages/transcribe/stage.js'

export default class Transcribe extends BaseCommand<typeof Transcribe, TranscribeResult | StagePlan | StageIdle | FetchModelResult> {
  static override summary = 'Transcribe downloaded episodes with whisper.cpp in Japanese, then free their disk space'
  static override description = `Claims 'downloaded' jobs (on PostgreSQL only those whose video is on this host, unless
[data] storage_shared), extracts 16 kHz mono WAV with ffmpeg to audio/<mal_id>/epNNN.wav, runs whisper.cpp
(\`npm run setup:whisper\` builds it; [transcribe] whisper_bin may name another build) with the model
data/models/ggml-<model>.bin, and writes transcripts/<mal_id>/epNNN.json(.gz) (segments, times, confidence) and
.txt(.gz). Repeated lines, stock closings and very unsure segments are flagged as hallucination (tokenize skips
them); an episode that is mostly hallucination fails. Then the video and the audio are deleted (unless
--keep-media or [disk_management.cleanup] says otherwise). Nothing is deleted when an episode fails.`
  static override examples = [
    '<%= config.bin %> transcribe --download-model large-v3-turbo',
    '<%= config.bin %> transcribe',
    '<%= config.bin %> transcribe --workers 2 --threads 4 --anime-id 5114',
    '<%= config.bin %> transcribe --model small --keep-media --limit 1',
    '<%= config.bin %> transcribe --dry-run',
  ]

  static override flags = {
    ...stageFlags,
    workers: Flags.integer({
      char: 'w',
      description: 'episodes transcribed at once (default [processing] max_concurrent_transcriptions)',
      min: 1,
      max: FLAG_MAX.workers,
      helpGroup: 'STAGE',
    }),
    threads: Flags.integer({char: 't', description: 'whisper threads per worker (default: the cores shared between the workers)', min: 1, max: 1024}),
    model: Flags.string({description: 'whisper model name: data/models/ggml-<model>.bin (default [transcribe] model)'}),
    'download-model': Flags.string({
      description: 'fetch a model (tiny, base, small, medium, large-v3, large-v3-turbo, with -q5_0/-q8_0) into data/models/ and exit',
      exclusive: ['dry-run'],
    }),
    'keep-media': Flags.boolean({description: 'keep the video and the audio of the episodes transcribed in this run', default: false}),
  }

  public async run(): Promise<void> {
    const ctx = this.context()
    if (this.flags['download-model']) {
      const {fetchModel} = await import('../stages/transcribe/fetch-model.js')
      this.finish(await fetchModel(ctx, this.flags['download-model']))
      return
    }
    const {transcribe} = await import('../stages/transcribe/stage.js')
    this.finish(
      await transcribe(ctx, {
        workers: this.flags.workers,
        threads: this.flags.threads,
        model: this.flags.model,
        limit: this.flags.limit,
        malId: this.flags['anime-id'],
        keepMedia: this.flags['keep-media'],
        dryRun: this.flags['dry-run'],
      }),
    )
  }
}
