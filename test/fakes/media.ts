// Real short media files for the download and transcribe tests, made with the real ffmpeg at test
// time (never committed). CI installs ffmpeg; its absence is a failure, not a skip.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

let made: {episode: string; videoOnly: string} | undefined

/** A 3-second episode (a tone and a black picture, mp4) and the same picture without audio. */
export function testMedia(): {episode: string; videoOnly: string} {
  if (made && existsSync(made.episode)) return made
  // (not the test helpers' tempDir: the benchmarks use these files too, outside mocha)
  const dir = mkdtempSync(path.join(tmpdir(), 'animezipf-media-'))
  const episode = path.join(dir, 'episode.mp4')
  const videoOnly = path.join(dir, 'video-only.mp4')
  const ffmpeg = (args: string[]) => {
    try {
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {stdio: 'pipe'})
    } catch (error) {
      throw new Error(`ffmpeg is needed for these tests (apt install ffmpeg; .ci/run installs it): ${(error as Error).message}`)
    }
  }
  const picture = ['-f', 'lavfi', '-i', 'color=c=black:s=64x36:r=5:d=3']
  ffmpeg([
    ...picture,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=16000:duration=3',
    '-shortest',
    '-c:v',
    'mpeg4',
    '-c:a',
    'aac',
    '-b:a',
    '32k',
    episode,
  ])
  ffmpeg([...picture, '-an', '-c:v', 'mpeg4', videoOnly])
  made = {episode, videoOnly}
  return made
}
