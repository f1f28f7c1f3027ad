import path from 'node:path'
import {Flags} from '@oclif/core'

import {BaseCommand, FLAG_MAX} from '../cli/base-command.js'
import type {DemoFailure, DemoResult} from '../demo/run.js'

export default class Demo extends BaseCommand<typeof Demo, DemoResult | DemoFailure> {
  static override summary = 'Run the offline pipeline on the bundled sample: import, tokenize, analyze, status'
  static override description = `Creates (or reuses) a data folder, imports three short fictional shows shipped with animezipf
(Japanese dialogue written for the project, with made-up genres and studios), tokenizes and analyzes them through the real
queue, then prints the status, the global Zipf fit and where the report and plots are. Needs no network, API key or GPU.
A second run in the same folder has nothing new to do.`
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --data-dir /tmp/zipf-demo --json']

  static override flags = {
    workers: Flags.integer({char: 'w', description: 'tokenizer threads', default: 2, min: 1, max: FLAG_MAX.workers}),
  }

  public async run(): Promise<void> {
    const {runDemo} = await import('../demo/run.js')
    const ctx = this.context({'data.root_dir': path.resolve(this.flags['data-dir'] ?? 'demo-data')})
    this.finish(await runDemo(ctx, {workers: this.flags.workers}))
  }
}
