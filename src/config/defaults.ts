/**
 * Every configuration key with its default. config.toml documents the same keys; a test
 * checks that the shipped file and these defaults agree. Types are inferred from the values:
 * numbers are integers unless listed in FLOAT_KEYS, strings listed in PATH_KEYS are paths.
 */
export const DEFAULTS = {
  data: {
    root_dir: 'data',
    storage_dir: '',
    storage_shared: false,
  },
  disk_management: {
    hard_limit_gb: 300,
    pause_threshold_gb: 280,
    resume_threshold_gb: 250,
    check_interval_seconds: 30,
    cache_duration_seconds: 5,
    max_concurrent_downloads: 5,
    min_free_gb: 5,
    cleanup: {
      delete_video_after_transcription: true,
      delete_audio_after_transcription: true,
    },
  },
  processing: {
    max_concurrent_transcriptions: 1,
    max_concurrent_tokenizations: 0,
  },
  output: {
    compress: true,
  },
  scrape: {
    base_url: 'https://api.jikan.moe/v4',
    requests_per_second: 3,
    requests_per_minute: 60,
    max_retries: 6,
    backoff_base_ms: 1000,
    backoff_max_ms: 60_000,
    timeout_seconds: 30,
    cache_ttl_hours: 168,
    top_n: 50,
    order_by: 'score',
    types: ['tv'],
    include_unscored: false,
    kinds: ['genre', 'theme', 'demographic', 'studio'],
    include_explicit_genres: false,
    top_studios: 50,
    episode_lists_for_all: false,
  },
  ani_cli: {
    path: 'ani-cli',
    search_timeout_seconds: 90,
  },
  download: {
    quality: 'worst',
    min_confidence: 'medium',
    timeout_seconds: 1800,
    min_bytes: 1_000_000,
    duration_tolerance_percent: 40,
    typical_episode_mb: 250,
  },
  transcribe: {
    whisper_bin: '',
    model: 'large-v3-turbo',
    language: 'ja',
    threads: 0,
    timeout_seconds: 21600,
    model_url: 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-{model}.bin',
    max_repeats: 3,
    low_confidence: 0.2,
    stock_phrases: ['ご視聴ありがとうございました', 'チャンネル登録', '高評価', 'ご覧いただきありがとうございます', '字幕'],
    max_hallucinated_percent: 50,
  },
  media: {
    ffmpeg: 'ffmpeg',
    ffprobe: 'ffprobe',
    probe_timeout_seconds: 60,
  },
  select: {
    model: 'claude-haiku-4-5',
    workers: 4,
    max_candidates_probed: 8,
    max_tokens: 400,
    api_max_retries: 4,
    api_timeout_seconds: 60,
    input_usd_per_mtok: 1.0,
    output_usd_per_mtok: 5.0,
    no_results_confirmations: 3,
  },
  import: {
    max_file_mb: 20,
    max_cues: 20000,
    max_line_chars: 2000,
    min_japanese_percent: 30,
  },
  tokenize: {
    exclude_pos: ['記号'],
    cleaning: {
      normalize_width: true,
      ruby: true,
      speaker_labels: true,
      sound_notes: true,
      music_marks: true,
      drop_hallucinated: true,
    },
  },
  queue: {
    url: '',
    host_id: '',
    max_retries: 3,
    lease_seconds: 300,
    backoff_base_seconds: 30,
    backoff_max_seconds: 3600,
    shutdown_grace_seconds: 30,
    busy_timeout_seconds: 10,
  },
}

export type Config = typeof DEFAULTS

/** Numeric keys that accept fractions; every other number must be a whole number. */
export const FLOAT_KEYS = new Set<string>([
  'disk_management.hard_limit_gb',
  'disk_management.pause_threshold_gb',
  'disk_management.resume_threshold_gb',
  'disk_management.min_free_gb',
  'transcribe.low_confidence',
  'select.input_usd_per_mtok',
  'select.output_usd_per_mtok',
])

/** String keys holding paths: relative values resolve against the config file's folder. */
export const PATH_KEYS = new Set<string>(['data.root_dir', 'data.storage_dir'])

/** Program keys: a value with a slash is a path (relative: to the config file), a bare name is looked up on PATH. */
export const PROGRAM_KEYS = new Set<string>(['ani_cli.path', 'media.ffmpeg', 'media.ffprobe', 'transcribe.whisper_bin'])

/** Numeric keys that must be at least 1 (all others must be at least 0). */
/** String keys limited to a set of values. */
export const CHOICES: Record<string, readonly string[]> = {
  'scrape.order_by': ['score', 'members', 'popularity', 'scored_by', 'favorites', 'rank'],
  'scrape.types': ['tv', 'movie', 'ova', 'special', 'ona', 'music', 'cm', 'pv', 'tv_special'],
  'scrape.kinds': ['genre', 'theme', 'demographic', 'studio'],
  'download.min_confidence': ['high', 'medium', 'low'],
}

export const POSITIVE_KEYS = new Set<string>([
  'scrape.requests_per_second',
  'scrape.requests_per_minute',
  'scrape.top_n',
  'scrape.timeout_seconds',
  'queue.lease_seconds',
  'disk_management.check_interval_seconds',
  'disk_management.max_concurrent_downloads',
  'processing.max_concurrent_transcriptions',
  'ani_cli.search_timeout_seconds',
  'download.timeout_seconds',
  'download.typical_episode_mb',
  'media.probe_timeout_seconds',
  'transcribe.timeout_seconds',
  'import.max_file_mb',
  'import.max_cues',
  'import.max_line_chars',
  'select.workers',
  'select.max_tokens',
  'select.api_timeout_seconds',
  'select.no_results_confirmations',
])
