import type {JobStage} from './stages.js'

// Row types of every table, as both backends return them: integers as numbers, booleans as 0/1,
// times as UTC text 'YYYY-MM-DD HH:MM:SS.SSS'.

export interface JobRow {
  id: number
  anime_id: number
  anime_title: string
  anime_title_english: string | null
  mal_id: number | null
  episode: number
  stage: JobStage
  priority: number
  created_at: string
  started_at: string | null
  completed_at: string | null
  error_message: string | null
  retry_count: number
  max_retries: number
  attempts: number
  /** Lease expiries in the current stage attempt (reset when the job moves on). */
  expiries: number
  lease_owner: string | null
  lease_expires_at: string | null
  run_after: string | null
  failed_stage: string | null
  video_path: string | null
  /** The host whose storage_dir holds the video. */
  video_host: string | null
  transcript_path: string | null
  tokens_path: string | null
  analysis_path: string | null
  transcript_size_bytes: number | null
  tokens_size_bytes: number | null
  word_count: number | null
  token_count: number | null
  duration_seconds: number | null
  video_size_bytes: number | null
  audio_size_bytes: number | null
  video_deleted: number | null
  audio_deleted: number | null
}

/** Columns a stage may set when it finishes a job (a fixed list: never user input in SQL). */
export const JOB_COLUMNS = [
  'video_path',
  'video_host',
  'transcript_path',
  'tokens_path',
  'analysis_path',
  'duration_seconds',
  'video_size_bytes',
  'audio_size_bytes',
  'transcript_size_bytes',
  'tokens_size_bytes',
  'word_count',
  'token_count',
  'video_deleted',
  'audio_deleted',
  'content_hash',
] as const
export type JobColumn = (typeof JOB_COLUMNS)[number]
export type JobFields = Partial<Record<JobColumn, string | number | null>>

export interface NewJob {
  animeId: number
  malId: number
  animeTitle: string
  animeTitleEnglish?: string | null
  episode: number
  stage?: JobStage
  priority?: number
  year?: number | null
  /** Columns to set on insert, e.g. transcript_path for imported subtitles. */
  fields?: JobFields
}

export interface JobEvent {
  id: number
  job_id: number
  at: string
  stage: string
  event: string
  level: string
  message: string | null
  worker: string | null
}

export type EventLevel = 'debug' | 'info' | 'warn' | 'error'

/** An anime as stages write it; list fields are arrays here and JSON text in the table. */
export interface AnimeRecord {
  mal_id: number
  title: string
  title_english?: string | null
  title_japanese?: string | null
  title_synonyms?: string[]
  type?: string | null
  episodes_total?: number | null
  status?: string | null
  aired_from?: string | null
  aired_to?: string | null
  season?: string | null
  year?: number | null
  genres?: string[]
  explicit_genres?: string[]
  themes?: string[]
  demographics?: string[]
  studios?: string[]
  score?: number | null
  scored_by?: number | null
  rank?: number | null
  popularity?: number | null
  source?: string | null
  rating?: string | null
  duration_minutes?: number | null
}

export interface AnimeRow extends Omit<AnimeRecord, 'title_synonyms' | 'genres' | 'explicit_genres' | 'themes' | 'demographics' | 'studios'> {
  id: number
  title_synonyms: string | null
  genres: string | null
  explicit_genres: string | null
  themes: string | null
  demographics: string | null
  studios: string | null
  fetched_at: string
  updated_at: string
}

export type CategoryKind = 'genre' | 'explicit_genre' | 'theme' | 'demographic' | 'studio'

export interface AnalysisCandidate {
  anime_id: number
  mal_id: number
  title: string
  tokenized: number
  complete: number
  pending: number
  failed: number
}

export interface EpisodeInput {
  job_id: number
  episode: number
  tokens_path: string | null
  tokens_size_bytes: number | null
  word_count: number | null
  token_count: number | null
}

export interface AnalysisRow {
  anime_id: number
  zipf_alpha: number | null
  zipf_constant: number | null
  r_squared: number | null
  total_words: number | null
  unique_words: number | null
  vocabulary_richness: number | null
  top_10_words: string | null
  top_50_words: string | null
  episodes_analyzed: number | null
  partial: number | null
  rank_range: string | null
  mle_alpha: number | null
  mle_s: number | null
  mle_alpha_se: number | null
  mle_xmin: number | null
  mle_n_tail: number | null
  ks_d: number | null
  bootstrap_p: number | null
  lognormal_r: number | null
  lognormal_p: number | null
  zm_s: number | null
  zm_b: number | null
  heaps_k: number | null
  heaps_beta: number | null
  coverage: string | null
  hapax_share: number | null
  total_tokens: number | null
  input_signature: string | null
}

export interface AnalyzedAnime {
  anime_id: number
  mal_id: number
  title: string
  analysis_id: number
  mle_s: number | null
  mle_alpha: number | null
  mle_alpha_se: number | null
  total_words: number | null
  unique_words: number | null
  episodes_analyzed: number | null
  partial: number | null
  input_signature: string | null
}

export interface AnimeProgress {
  mal_id: number
  title: string
  total: number
  complete: number
  failed: number
  running: number
  waiting: number
  last_activity: string | null
}

export interface RunningJob {
  id: number
  mal_id: number | null
  anime_title: string
  episode: number
  stage: string
  lease_owner: string
  started_at: string | null
  lease_expires_at: string
  expired: boolean
}

export type WorkerStatus = 'idle' | 'busy' | 'error' | 'stopped'

export interface WorkerRow {
  id: number
  worker_type: string
  status: string
  current_job_id: number | null
  last_heartbeat: string
  owner: string
  pid: number | null
  hostname: string | null
  started_at: string | null
}
