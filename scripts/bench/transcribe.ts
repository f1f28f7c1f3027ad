// npm run bench transcribe: the real whisper.cpp binary (npm run setup:whisper) on 16 kHz WAV files
// made with ffmpeg, with the model generated for the tests and, when ANIMEZIPF_TEST_MODEL names a
// ggml file, with a real one: audio seconds per second of wall time (the real-time factor), model
// load time and peak memory of one whisper process, with 1 worker (all cores) and 2 workers
// (half the cores each). On a GPU machine the same command gives the figure that matters.
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import path from 'node:path'

import {builtWhisper, inspectWhisper, whisperArgs} from '../../src/stages/transcribe/whisper.js'
import {writeTinyModel} from '../../test/fakes/tiny-model.js'
import type {BenchResult} from './measure.js'

const EPISODES = Number(process.env.BENCH_TRANSCRIBE_FILES ?? 4)
const SECONDS = Number(process.env.BENCH_TRANSCRIBE_SECONDS ?? 60)

/** Peak resident memory (VmHWM) of a running process, polled until it exits. */
function watchPeak(pid: number): {stop: () => number} {
  let peak = 0
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (m) peak = Math.max(peak, Number(m[1]) / 1024)
    } catch {
      // gone
    }
  }
  const t = setInterval(read, 20)
  return {
    stop: () => {
      clearInterval(t)
      return peak
    },
  }
}

async function runOne(bin: string, args: string[]): Promise<{peakMb: number; loadMs: number}> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {stdio: ['ignore', 'ignore', 'pipe']})
    const peak = watchPeak(child.pid!)
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('exit', (code) => {
      const peakMb = peak.stop()
      if (code !== 0) reject(new Error(`whisper exited ${code}: ${err.slice(-500)}`))
      const load = /load time\s*=\s*([\d.]+) ms/.exec(err)
      resolve({peakMb, loadMs: load ? Number(load[1]) : 0})
    })
  })
}

async function measure(label: string, bin: string, model: string, wavs: string[], workers: number, work: string): Promise<BenchResult[]> {
  const info = await inspectWhisper(bin)
  const threads = Math.max(1, Math.floor(availableParallelism() / workers))
  const queue = [...wavs]
  let peak = 0
  let load = 0
  let runs = 0
  const t0 = Date.now()
  await Promise.all(
    Array.from({length: workers}, async (_, w) => {
      for (let wav = queue.shift(); wav; wav = queue.shift()) {
        const args = whisperArgs(info, {model, wav, language: 'ja', threads, prefix: path.join(work, `out-${w}-${runs}`)})
        const r = await runOne(bin, args)
        peak = Math.max(peak, r.peakMb)
        load += r.loadMs
        runs++
      }
    }),
  )
  const wall = (Date.now() - t0) / 1000
  const audio = wavs.length * SECONDS
  return [
    {name: `${label}, ${workers} worker(s) × ${threads} thread(s): audio seconds per second`, value: audio / wall, unit: '× real time'},
    {name: `${label}, ${workers} worker(s): model load per episode`, value: load / runs, unit: 'ms'},
    {name: `${label}, ${workers} worker(s): peak memory of one whisper process`, value: peak, unit: 'MB'},
  ]
}

export async function benchTranscribe(): Promise<BenchResult[]> {
  const bin = builtWhisper()
  if (!bin) throw new Error('whisper.cpp is not built: run `npm run setup:whisper` first')
  const work = mkdtempSync(path.join(tmpdir(), 'animezipf-bench-tr-'))
  try {
    const wavs = Array.from({length: EPISODES}, (_, i) => {
      const wav = path.join(work, `ep${i + 1}.wav`)
      // a tone under pink noise: something to encode for the whole window, as an episode has
      execFileSync('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=${200 + 50 * i}:duration=${SECONDS}`,
        '-f',
        'lavfi',
        '-i',
        `anoisesrc=color=pink:amplitude=0.1:duration=${SECONDS}`,
        '-filter_complex',
        'amix=inputs=2',
        '-ar',
        '16000',
        '-ac',
        '1',
        '-c:a',
        'pcm_s16le',
        wav,
      ])
      return wav
    })
    const tiny = writeTinyModel(path.join(work, 'ggml-test-tiny.bin'))
    const results: BenchResult[] = [{name: `${EPISODES} files of ${SECONDS} s; binary ${bin}`, value: availableParallelism(), unit: 'cores'}]
    for (const workers of [1, 2]) results.push(...(await measure('generated model (1 layer, width 64)', bin, tiny, wavs, workers, work)))
    const real = process.env.ANIMEZIPF_TEST_MODEL
    if (real) {
      for (const workers of [1, 2]) results.push(...(await measure(path.basename(real), bin, real, wavs, workers, work)))
    } else {
      console.error('(set ANIMEZIPF_TEST_MODEL=/path/to/ggml-<model>.bin for the figures of a real model)')
    }
    return results
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}
