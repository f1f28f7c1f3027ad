import {closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import {tempNameFor} from '../../util/atomic.js'
import {recordGroup} from '../../util/attempts.js'
import {lastMeaningfulLine, runTool} from '../../util/process.js'

/** Seconds of audio in a 16 kHz mono s16 WAV, from its header; null when it is not one. */
export function wavSeconds(file: string): number | null {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const head = Buffer.alloc(4096)
    const n = readSync(fd, head, 0, head.length, 0)
    if (n < 44 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return null
    // walk the chunks: fmt tells the rate and width, data its length
    let off = 12
    let rate = 0
    let channels = 0
    let bits = 0
    while (off + 8 <= n) {
      const id = head.toString('ascii', off, off + 4)
      const size = head.readUInt32LE(off + 4)
      if (id === 'fmt ') {
        channels = head.readUInt16LE(off + 10)
        rate = head.readUInt32LE(off + 12)
        bits = head.readUInt16LE(off + 22)
      } else if (id === 'data') {
        if (rate !== 16000 || channels !== 1 || bits !== 16) return null
        // ffmpeg streaming to a pipe leaves the size unset (0xFFFFFFFF): the file size says
        const bytes = size === 0xffffffff || size === 0 ? statSync(file).size - off - 8 : size
        return bytes / (rate * channels * (bits / 8))
      }
      off += 8 + size + (size % 2)
    }
    return null
  } catch {
    return null
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The episode's audio as whisper.cpp wants it (16 kHz, mono, signed 16-bit WAV), written beside
 * the target under a temp name and renamed. An earlier attempt's complete file is reused.
 */
export async function extractAudio(
  ffmpeg: string,
  video: string,
  target: string,
  timeoutMs: number,
  signal?: AbortSignal,
  scratch?: string,
): Promise<{bytes: number; seconds: number; reused: boolean}> {
  if (existsSync(target)) {
    const seconds = wavSeconds(target)
    if (seconds !== null && seconds > 0) return {bytes: statSync(target).size, seconds, reused: true}
    rmSync(target, {force: true})
  }
  mkdirSync(path.dirname(target), {recursive: true})
  // in the attempt's scratch folder when there is one (a later run removes it, and kills a stray
  // ffmpeg by the process group recorded there), else beside the target
  const tmp = scratch ? path.join(scratch, 'audio.wav') : tempNameFor(target)
  try {
    const run = await runTool(
      ffmpeg,
      ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', video, '-vn', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_s16le', '-f', 'wav', tmp],
      {
        env: process.env,
        timeoutMs,
        signal,
        onStart: scratch ? (pid) => recordGroup(scratch, pid) : undefined,
      },
    )
    if (run.notFound) throw new Error(`ffmpeg not found: ${ffmpeg}`)
    if (run.timedOut) throw new Error(`ffmpeg did not finish in ${Math.round(timeoutMs / 1000)}s (killed)`)
    if (run.exitCode !== 0) throw new Error(`ffmpeg could not extract the audio: ${lastMeaningfulLine(run.stderr) || `exit ${run.exitCode}`}`)
    const seconds = wavSeconds(tmp)
    if (seconds === null) throw new Error('ffmpeg wrote no 16 kHz mono WAV')
    if (seconds < 0.5) throw new Error(`the video's audio track lasts ${seconds.toFixed(2)} s`)
    try {
      renameSync(tmp, target)
    } catch (error) {
      // the scratch folder on another filesystem than the audio: copy beside the target, then rename
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
      const near = tempNameFor(target)
      copyFileSync(tmp, near)
      renameSync(near, target)
    }
    return {bytes: statSync(target).size, seconds, reused: false}
  } finally {
    rmSync(tmp, {force: true})
  }
}
