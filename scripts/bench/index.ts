// npm run bench: figures, not assertions. Each section prints its own table.
import {benchQueue} from './queue.js'
import {benchCleanup} from './cleanup.js'
import {benchTokenize} from './tokenize.js'
import {benchAnalyze} from './analyze.js'
import {benchDownload} from './download.js'
import {benchTranscribe} from './transcribe.js'
import {printResults} from './measure.js'

const only = process.argv.slice(2)
const sections: [string, () => Promise<import('./measure.js').BenchResult[]>][] = [
  ['queue', benchQueue],
  ['cleanup', benchCleanup],
  ['tokenize', benchTokenize],
  ['analyze', benchAnalyze],
  ['download', benchDownload],
  ['transcribe', benchTranscribe],
]

for (const [name, run] of sections) {
  if (only.length > 0 && !only.includes(name)) continue
  printResults(`== ${name} ==`, await run())
}
