import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {DoctorResult, DoctorStage} from '../ops/doctor.js'

export default class Doctor extends BaseCommand<typeof Doctor, DoctorResult> {
  static override summary = 'Check this machine for what the stages need, one line per check with its fix'
  static override description = `Node.js and the native SQLite module, the configuration, the data and storage folders (writable, free
space, one filesystem or two; a sqlite queue on a network filesystem is an error), the queue (reachable; the
password is never shown), ani-cli and what it needs (curl, sed, grep, yt-dlp or ffmpeg, the menu hook), ffmpeg and
ffprobe, the whisper program and the configured model, whether ANTHROPIC_API_KEY is set (never its value), and
mecab (optional). Exit 0 only when every required check passes.`
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --stage transcribe', '<%= config.bin %> doctor --json']

  static override flags = {
    stage: Flags.string({description: 'only what this stage needs', options: ['scrape', 'select', 'download', 'transcribe', 'tokenize', 'analyze']}),
  }

  public async run(): Promise<void> {
    const {doctor} = await import('../ops/doctor.js')
    this.finish(await doctor(this.context(), {stage: this.flags.stage as DoctorStage | undefined}))
  }
}
