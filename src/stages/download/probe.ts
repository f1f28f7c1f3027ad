import {lastMeaningfulLine, runTool} from '../../util/process.js'
import {VIDEO_EXTENSIONS} from '../../paths.js'

/** What ffprobe says of a downloaded file. */
export interface MediaProbe {
  /** Seconds, when the container says. */
  duration: number | null
  audioStreams: number
  videoStreams: number
  /** ffprobe's format_name ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mpegts"...). */
  format: string
  /** The extension the file should carry for its real container. */
  extension: string
}

/** The file extension of a container as ffprobe names it. */
export function containerExtension(format: string, fileExtension: string): string {
  const names = format.split(',')
  const own = fileExtension.replace(/^\./, '').toLowerCase()
  if (names.includes('mp4') || names.includes('mov')) return ['mp4', 'm4v', 'mov'].includes(own) ? own : 'mp4'
  if (names.includes('matroska') || names.includes('webm')) return own === 'webm' ? 'webm' : 'mkv'
  if (names.includes('mpegts')) return 'ts'
  if (names.includes('flv')) return 'flv'
  if (names.includes('avi')) return 'avi'
  // only names cleanup knows for a video (paths.ts): anything else is stored as .bin
  return (VIDEO_EXTENSIONS as readonly string[]).includes(own) ? own : 'bin'
}

export class ProbeError extends Error {
  constructor(
    message: string,
    /** ffprobe itself could not run (not installed): no file would pass. */
    readonly missing = false,
  ) {
    super(message)
    this.name = 'ProbeError'
  }
}

/** Run ffprobe on a file: streams and duration, or why it is not a media file. */
export async function probeMedia(ffprobe: string, file: string, timeoutMs: number, signal?: AbortSignal): Promise<MediaProbe> {
  const run = await runTool(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], {env: process.env, timeoutMs, signal})
  if (run.notFound) throw new ProbeError(`ffprobe not found: ${ffprobe}`, true)
  if (run.timedOut) throw new ProbeError(`ffprobe did not finish in ${Math.round(timeoutMs / 1000)}s`)
  if (run.exitCode !== 0)
    throw new ProbeError(`not a media file ffprobe can read: ${lastMeaningfulLine(run.stderr).replace(`${file}: `, '') || `exit ${run.exitCode}`}`)
  let parsed: {streams?: {codec_type?: string; duration?: string}[]; format?: {format_name?: string; duration?: string}}
  try {
    parsed = JSON.parse(run.stdout) as typeof parsed
  } catch {
    throw new ProbeError('ffprobe printed no JSON')
  }
  const streams = parsed.streams ?? []
  const audio = streams.filter((s) => s.codec_type === 'audio')
  const durations = [parsed.format?.duration, ...audio.map((s) => s.duration)].map((d) => Number(d)).filter((d) => Number.isFinite(d) && d > 0)
  const format = parsed.format?.format_name ?? ''
  const dot = file.lastIndexOf('.')
  return {
    duration: durations[0] ?? null,
    audioStreams: audio.length,
    videoStreams: streams.filter((s) => s.codec_type === 'video').length,
    format,
    extension: containerExtension(format, dot >= 0 ? file.slice(dot) : ''),
  }
}
