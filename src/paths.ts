import {createHash} from 'node:crypto'
import {lstatSync, realpathSync} from 'node:fs'
import path from 'node:path'

import {attemptPrefix} from './util/attempts.js'

/** Zero-padded episode stem used in every per-episode file name (ep001). */
export function episodeStem(episode: number): string {
  return `ep${String(episode).padStart(3, '0')}`
}

/** The containers a downloaded video may be stored as (download names it by what ffprobe found). */
export const VIDEO_EXTENSIONS = ['mp4', 'm4v', 'mov', 'mkv', 'webm', 'ts', 'flv', 'avi', 'mpg', 'mpeg', 'wmv', 'ogv', '3gp', 'bin'] as const

/** The per-episode files animezipf makes, by folder kind: the only names cleanup ever removes. */
const OWN_NAMES = {
  video: new RegExp(`^ep(\\d{3,})\\.(?:${VIDEO_EXTENSIONS.join('|')})$`),
  audio: /^ep(\d{3,})\.wav$/,
  transcript: /^ep(\d{3,})\.(?:json|txt)(?:\.gz)?$/,
  tokens: /^ep(\d{3,})(?:_tokens\.json(?:\.gz)?|_freq\.csv)$/,
} as const

export type EpisodeFileKind = keyof typeof OWN_NAMES

/**
 * The episode of a file name animezipf makes in a folder of this kind (ep007.mp4 -> 7), or
 * undefined for any other name (a user's notes.txt, ep099_mine.json, ep7.mp4).
 */
export function episodeOfOwnFile(kind: EpisodeFileKind, name: string): number | undefined {
  const m = OWN_NAMES[kind].exec(name)
  if (!m) return undefined
  const episode = Number(m[1])
  return episodeStem(episode) === `ep${m[1]}` ? episode : undefined
}

/**
 * True when `file` is a regular file (not a link) whose folder, with every link resolved, lies
 * inside `root` resolved: a folder linked elsewhere (videos/42/episodes -> ~/Videos) is not ours.
 */
export function ownedRegularFile(file: string, root: string): boolean {
  try {
    if (!lstatSync(file).isFile()) return false
    const realRoot = realpathSync(root)
    const rel = path.relative(realRoot, realpathSync(path.dirname(file)))
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
  } catch {
    return false
  }
}

/** A name safe to use as a file name for a genre or studio ("Slice of Life" -> slice_of_life). */
export function slug(name: string): string {
  const s = name
    .normalize('NFKC')
    .toLowerCase()
    .replaceAll(/[^\p{L}\p{N}]+/gu, '_')
    .replaceAll(/^_+|_+$/g, '')
  return s || 'unnamed'
}

/** A group's file stem: its slug, plus a hash of the exact name when another name shares the slug. */
export function groupStem(name: string, siblings: readonly string[]): string {
  const s = slug(name)
  const clash = siblings.some((o) => o !== name && slug(o) === s)
  return clash ? `${s}_${createHash('sha1').update(name).digest('hex').slice(0, 6)}` : s
}

/**
 * Every file location of the data folder. Nothing else joins data paths.
 * Temporary video lives under storage_dir (which may be another disk); the rest under root_dir.
 * Anime folders are named by MyAnimeList id.
 */
export class DataPaths {
  constructor(
    readonly root: string,
    readonly storage: string = root,
  ) {}

  get jobsDb(): string {
    return path.join(this.root, 'jobs.db')
  }

  // temporary
  get videosRoot(): string {
    return path.join(this.storage, 'videos')
  }

  videoDir(malId: number): string {
    return path.join(this.videosRoot, String(malId), 'episodes')
  }

  /** An episode's video, named by the real container of the file ani-cli wrote (ani-cli 5 writes .mp4). */
  videoFile(malId: number, episode: number, extension = 'mp4'): string {
    return path.join(this.videoDir(malId), `${episodeStem(episode)}.${extension}`)
  }

  /**
   * Where downloads run: one fresh folder per attempt, on the storage disk (so the final rename
   * never crosses a filesystem and partial files count against the disk limits), named by job and
   * process so that a later run can remove the folders of processes that died.
   */
  get downloadsInProgress(): string {
    return path.join(this.videosRoot, '.downloading')
  }

  /** The name prefix of one download attempt's folder (mkdtemp completes it). */
  downloadAttempt(jobId: number): string {
    return path.join(this.downloadsInProgress, attemptPrefix('j', jobId))
  }

  /** The name prefix of one transcription attempt's scratch folder (mkdtemp completes it). */
  scratchAttempt(jobId: number): string {
    return path.join(this.workRoot, attemptPrefix('t', jobId))
  }

  /** A video as the queue stores it: relative to storage_dir, which may differ between hosts. */
  storedVideo(file: string): string {
    return path.relative(this.storage, file)
  }

  /** The file a stored video path names on this host. */
  videoAbsolute(stored: string): string {
    return path.resolve(this.storage, stored)
  }

  /**
   * The file a job's stored video path names, only when it is that episode's own video in its
   * anime's folder (a row saying /home/x/holiday.mp4 or ../../song.wav names nothing of ours).
   */
  episodeVideo(stored: string, malId: number, episode: number): string | undefined {
    const file = this.videoAbsolute(stored)
    return path.dirname(file) === this.videoDir(malId) && episodeOfOwnFile('video', path.basename(file)) === episode ? file : undefined
  }

  get audioRoot(): string {
    return path.join(this.root, 'audio')
  }

  audioFile(malId: number, episode: number): string {
    return path.join(this.audioRoot, String(malId), `${episodeStem(episode)}.wav`)
  }

  /** whisper.cpp models: ggml-<name>.bin. */
  get modelsDir(): string {
    return path.join(this.root, 'models')
  }

  modelFile(name: string): string {
    return path.join(this.modelsDir, `ggml-${name}.bin`)
  }

  /** Scratch folders of running stages (whisper's output prefix): one per attempt, removed whatever happens. */
  get workRoot(): string {
    return path.join(this.root, 'tmp')
  }

  // permanent
  get metadataRoot(): string {
    return path.join(this.root, 'metadata')
  }

  /** Anime metadata: permanent, so under root_dir (shared by every host), not beside the temporary videos. */
  metadataFile(malId: number): string {
    return path.join(this.metadataRoot, `${malId}.json`)
  }

  /** Where metadata.json lived before it moved under root_dir (moved on the next read-write run). */
  legacyMetadataFile(malId: number): string {
    return path.join(this.videosRoot, String(malId), 'metadata.json')
  }

  get transcriptsRoot(): string {
    return path.join(this.root, 'transcripts')
  }

  transcriptDir(malId: number): string {
    return path.join(this.transcriptsRoot, String(malId))
  }

  /** Transcript JSON; `.json.gz` when compressed storage is on. */
  transcriptJson(malId: number, episode: number, compressed: boolean): string {
    return path.join(this.transcriptDir(malId), `${episodeStem(episode)}.json${compressed ? '.gz' : ''}`)
  }

  transcriptTxt(malId: number, episode: number, compressed: boolean): string {
    return path.join(this.transcriptDir(malId), `${episodeStem(episode)}.txt${compressed ? '.gz' : ''}`)
  }

  get tokensRoot(): string {
    return path.join(this.root, 'tokens')
  }

  tokensDir(malId: number): string {
    return path.join(this.tokensRoot, String(malId))
  }

  tokensFile(malId: number, episode: number, compressed: boolean): string {
    return path.join(this.tokensDir(malId), `${episodeStem(episode)}_tokens.json${compressed ? '.gz' : ''}`)
  }

  freqCsv(malId: number, episode: number): string {
    return path.join(this.tokensDir(malId), `${episodeStem(episode)}_freq.csv`)
  }

  get analysisRoot(): string {
    return path.join(this.root, 'analysis')
  }

  get perAnimeRoot(): string {
    return path.join(this.analysisRoot, 'per_anime')
  }

  animeAnalysisDir(malId: number): string {
    return path.join(this.perAnimeRoot, String(malId))
  }

  animeWordFreq(malId: number): string {
    return path.join(this.animeAnalysisDir(malId), 'word_freq.csv')
  }

  /** The anime's vocabulary growth on its token stream and where each word was first said (for the corpus curve). */
  vocabularyGrowth(malId: number): string {
    return path.join(this.animeAnalysisDir(malId), 'vocabulary_growth.json.gz')
  }

  zipfParams(malId: number): string {
    return path.join(this.animeAnalysisDir(malId), 'zipf_params.json')
  }

  statistics(malId: number): string {
    return path.join(this.animeAnalysisDir(malId), 'statistics.json')
  }

  zipfPlot(malId: number): string {
    return path.join(this.animeAnalysisDir(malId), 'zipf_plot.html')
  }

  get aggregatedDir(): string {
    return path.join(this.analysisRoot, 'aggregated')
  }

  get allAnimeFreq(): string {
    return path.join(this.aggregatedDir, 'all_anime_freq.csv')
  }

  /**
   * A group's files. Names that make the same slug ("Sci-Fi" and "sci fi") would overwrite each
   * other: with the other names of the kind given, a colliding name gets a short hash of itself.
   */
  groupFreq(kind: 'genre' | 'studio', name: string, siblings: readonly string[] = []): string {
    return path.join(this.aggregatedDir, `by_${kind}`, `${groupStem(name, siblings)}_freq.csv`)
  }

  groupFit(kind: 'genre' | 'studio', name: string, siblings: readonly string[] = []): string {
    return path.join(this.aggregatedDir, `by_${kind}`, `${groupStem(name, siblings)}_zipf.json`)
  }

  get comparisonHtml(): string {
    return path.join(this.aggregatedDir, 'comparison.html')
  }

  get globalPlot(): string {
    return path.join(this.aggregatedDir, 'global_zipf_plot.html')
  }

  /** Words a viewer must know per anime (the learners' table of the report). */
  get difficultyJson(): string {
    return path.join(this.aggregatedDir, 'difficulty.json')
  }

  get globalFit(): string {
    return path.join(this.aggregatedDir, 'global_zipf.json')
  }

  get reportsDir(): string {
    return path.join(this.analysisRoot, 'reports')
  }

  get finalReport(): string {
    return path.join(this.reportsDir, 'final_report.html')
  }

  get cacheDir(): string {
    return path.join(this.root, 'cache')
  }

  get malCacheDir(): string {
    return path.join(this.cacheDir, 'mal_cache')
  }

  malCacheFile(key: string): string {
    return path.join(this.malCacheDir, `${key}.json`)
  }

  /** Paths relative to root are what the database stores. */
  relative(file: string): string {
    return path.relative(this.root, file)
  }

  absolute(stored: string): string {
    return path.resolve(this.root, stored)
  }
}
