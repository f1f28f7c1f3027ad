import {JOB_STAGES} from '../stages.js'

const stageList = JOB_STAGES.map((s) => `'${s}'`).join(', ')

/**
 * SQLite schema migrations, applied in order; PRAGMA user_version holds how many ran.
 * postgres/migrations.ts holds the same schema, version for version, in PostgreSQL's types.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the design's schema, corrected, plus what a crash-safe queue needs
  `
CREATE TABLE anime (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  mal_id INTEGER UNIQUE NOT NULL,
  title TEXT NOT NULL,
  title_english TEXT,
  title_japanese TEXT,
  title_synonyms TEXT,
  type TEXT,
  episodes_total INTEGER,
  status TEXT,
  aired_from DATE,
  aired_to DATE,
  season TEXT,
  year INTEGER,
  genres TEXT,
  explicit_genres TEXT,
  themes TEXT,
  demographics TEXT,
  studios TEXT,
  score REAL,
  scored_by INTEGER,
  rank INTEGER,
  popularity INTEGER,
  source TEXT,
  rating TEXT,
  duration_minutes INTEGER,
  episodes_processed INTEGER DEFAULT 0,
  processing_status TEXT DEFAULT 'pending',
  fetched_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
-- mal_id is UNIQUE, which already indexes it (the design's second idx_mal_id clashed with the jobs index)
CREATE INDEX idx_anime_rank ON anime(rank);
CREATE INDEX idx_anime_score ON anime(score);
CREATE INDEX idx_anime_processing_status ON anime(processing_status);

-- Which category lists an anime came from, and at what rank; analyze groups by these.
CREATE TABLE anime_categories (
  anime_id INTEGER NOT NULL REFERENCES anime(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK(kind IN ('genre', 'explicit_genre', 'theme', 'demographic', 'studio')),
  name TEXT NOT NULL,
  category_mal_id INTEGER,
  rank INTEGER,
  PRIMARY KEY (anime_id, kind, name)
);
CREATE INDEX idx_anime_categories_kind_name ON anime_categories(kind, name);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  anime_id INTEGER NOT NULL,
  anime_title TEXT NOT NULL,
  anime_title_english TEXT,
  mal_id INTEGER,
  episode INTEGER NOT NULL,
  season INTEGER,
  year INTEGER,
  stage TEXT NOT NULL DEFAULT 'queued' CHECK(stage IN (${stageList})),
  progress REAL DEFAULT 0.0 CHECK(progress >= 0.0 AND progress <= 1.0),
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  started_at TIMESTAMP,
  completed_at TIMESTAMP,
  error_message TEXT,
  retry_count INTEGER DEFAULT 0,
  max_retries INTEGER DEFAULT 3,
  video_path TEXT,
  transcript_path TEXT,
  tokens_path TEXT,
  analysis_path TEXT,
  duration_seconds INTEGER,
  video_size_bytes INTEGER,
  audio_size_bytes INTEGER,
  transcript_size_bytes INTEGER,
  tokens_size_bytes INTEGER,
  word_count INTEGER,
  token_count INTEGER,
  video_deleted BOOLEAN DEFAULT 0,
  audio_deleted BOOLEAN DEFAULT 0,
  priority INTEGER DEFAULT 0,
  depends_on INTEGER,
  -- the lease: who holds the job and until when; NULL when nobody does
  lease_owner TEXT,
  lease_expires_at TIMESTAMP,
  -- how many times the job was claimed (retry_count counts failures)
  attempts INTEGER NOT NULL DEFAULT 0,
  -- not claimable before this time (backoff after a transient failure)
  run_after TIMESTAMP,
  -- for stage = 'failed': the running stage it failed in ('tokenizing', ...)
  failed_stage TEXT,
  FOREIGN KEY (depends_on) REFERENCES jobs(id),
  FOREIGN KEY (anime_id) REFERENCES anime(id),
  UNIQUE(anime_id, episode)
);
-- the claim: WHERE stage = ? ORDER BY priority DESC, created_at, id
CREATE INDEX idx_jobs_claim ON jobs(stage, priority DESC, created_at, id);
CREATE INDEX idx_jobs_anime_stage ON jobs(anime_id, stage);
CREATE INDEX idx_jobs_updated_at ON jobs(updated_at);
CREATE INDEX idx_jobs_mal_id ON jobs(mal_id);
CREATE INDEX idx_jobs_lease ON jobs(lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX idx_jobs_failed ON jobs(failed_stage, error_message) WHERE stage = 'failed';

-- Every job's history: claims, finishes, retries, failures, releases, recoveries.
CREATE TABLE job_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  at TIMESTAMP NOT NULL,
  stage TEXT NOT NULL,
  event TEXT NOT NULL,
  level TEXT NOT NULL CHECK(level IN ('debug', 'info', 'warn', 'error')),
  message TEXT,
  worker TEXT
);
CREATE INDEX idx_job_events_job ON job_events(job_id, id);
CREATE INDEX idx_job_events_throughput ON job_events(event, stage, at);

CREATE TABLE analysis_results (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  anime_id INTEGER NOT NULL,
  zipf_alpha REAL,
  zipf_constant REAL,
  r_squared REAL,
  total_words INTEGER,
  unique_words INTEGER,
  vocabulary_richness REAL,
  top_10_words TEXT,
  top_50_words TEXT,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (anime_id) REFERENCES anime(id)
);
CREATE INDEX idx_analysis_results_anime ON analysis_results(anime_id, id);

CREATE TABLE workers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  worker_type TEXT NOT NULL CHECK(worker_type IN ('downloader', 'transcriber', 'tokenizer', 'analyzer', 'scraper', 'selector')),
  status TEXT CHECK(status IN ('idle', 'busy', 'error', 'stopped')),
  current_job_id INTEGER,
  last_heartbeat TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  owner TEXT NOT NULL,
  pid INTEGER,
  hostname TEXT,
  started_at TIMESTAMP,
  FOREIGN KEY (current_job_id) REFERENCES jobs(id) ON DELETE SET NULL
);
CREATE INDEX idx_workers_heartbeat ON workers(status, last_heartbeat);

CREATE TABLE anime_selection_cache (
  mal_id INTEGER PRIMARY KEY,
  anime_title TEXT NOT NULL,
  search_query TEXT NOT NULL,
  selected_index INTEGER NOT NULL,
  selected_title TEXT NOT NULL,
  confidence TEXT NOT NULL CHECK(confidence IN ('high', 'medium', 'low', 'no_candidates')),
  reason TEXT,
  mal_episodes INTEGER,
  selected_episodes INTEGER,
  episode_match TEXT CHECK(episode_match IN ('exact', 'close', 'acceptable', 'mismatch', 'unknown', NULL)),
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (mal_id) REFERENCES anime(mal_id)
);
CREATE INDEX idx_selection_cache_confidence ON anime_selection_cache(confidence);
CREATE INDEX idx_selection_cache_episode_match ON anime_selection_cache(episode_match);

-- updated_at follows every change unless the statement set it itself
CREATE TRIGGER update_anime_timestamp AFTER UPDATE ON anime WHEN NEW.updated_at IS OLD.updated_at
BEGIN
  UPDATE anime SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER update_jobs_timestamp AFTER UPDATE ON jobs WHEN NEW.updated_at IS OLD.updated_at
BEGIN
  UPDATE jobs SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
`,
  // 2: the analysis figures beyond the log-log line, and what the analysis was computed from
  `
ALTER TABLE analysis_results ADD COLUMN episodes_analyzed INTEGER;
ALTER TABLE analysis_results ADD COLUMN partial BOOLEAN DEFAULT 0;
ALTER TABLE analysis_results ADD COLUMN rank_range TEXT;
ALTER TABLE analysis_results ADD COLUMN mle_alpha REAL;
ALTER TABLE analysis_results ADD COLUMN mle_s REAL;
ALTER TABLE analysis_results ADD COLUMN mle_alpha_se REAL;
ALTER TABLE analysis_results ADD COLUMN mle_xmin INTEGER;
ALTER TABLE analysis_results ADD COLUMN mle_n_tail INTEGER;
ALTER TABLE analysis_results ADD COLUMN ks_d REAL;
ALTER TABLE analysis_results ADD COLUMN bootstrap_p REAL;
ALTER TABLE analysis_results ADD COLUMN lognormal_r REAL;
ALTER TABLE analysis_results ADD COLUMN lognormal_p REAL;
ALTER TABLE analysis_results ADD COLUMN zm_s REAL;
ALTER TABLE analysis_results ADD COLUMN zm_b REAL;
ALTER TABLE analysis_results ADD COLUMN heaps_k REAL;
ALTER TABLE analysis_results ADD COLUMN heaps_beta REAL;
ALTER TABLE analysis_results ADD COLUMN coverage TEXT;
ALTER TABLE analysis_results ADD COLUMN hapax_share REAL;
ALTER TABLE analysis_results ADD COLUMN total_tokens INTEGER;
ALTER TABLE analysis_results ADD COLUMN input_signature TEXT;
`,
  // 3: lease expiries counted per stage attempt, the host that holds a job's video, one-at-a-time work
  `
ALTER TABLE jobs ADD COLUMN expiries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN video_host TEXT;
CREATE INDEX idx_jobs_video_host ON jobs(stage, video_host);
-- a lease on work that only one process may do at a time (rebuilding the aggregate), and what it last produced
CREATE TABLE run_locks (
  name TEXT PRIMARY KEY,
  owner TEXT,
  expires_at TIMESTAMP,
  signature TEXT,
  updated_at TIMESTAMP
);
`,
  // 4: select: every candidate list ani-cli printed, what a selection cost, attempts of anime not yet selected
  `
CREATE TABLE anime_candidates (
  mal_id INTEGER NOT NULL,
  query TEXT NOT NULL,
  idx INTEGER NOT NULL,
  text TEXT NOT NULL,
  episodes INTEGER,
  single BOOLEAN NOT NULL DEFAULT 0,
  listed_at TIMESTAMP NOT NULL,
  PRIMARY KEY (mal_id, query, idx)
);
ALTER TABLE anime_selection_cache ADD COLUMN method TEXT;
ALTER TABLE anime_selection_cache ADD COLUMN model TEXT;
ALTER TABLE anime_selection_cache ADD COLUMN api_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE anime_selection_cache ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE anime_selection_cache ADD COLUMN updated_at TIMESTAMP;
CREATE TABLE selection_attempts (
  mal_id INTEGER PRIMARY KEY,
  attempts INTEGER NOT NULL DEFAULT 0,
  no_results INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  run_after TIMESTAMP,
  updated_at TIMESTAMP
);
CREATE TABLE api_usage (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TIMESTAMP NOT NULL,
  mal_id INTEGER,
  model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL
);
`,
  // 5: download: when downloads paused for disk space and why; a selection whose index moved in ani-cli's list
  `
CREATE TABLE disk_pauses (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host TEXT NOT NULL,
  owner TEXT NOT NULL,
  started_at TIMESTAMP NOT NULL,
  ended_at TIMESTAMP,
  reason TEXT NOT NULL,
  usage_bytes INTEGER NOT NULL,
  resumed_usage_bytes INTEGER
);
CREATE INDEX idx_disk_pauses_host ON disk_pauses(host, started_at);
ALTER TABLE anime_selection_cache ADD COLUMN moved_from_index INTEGER;
ALTER TABLE anime_selection_cache ADD COLUMN index_checked_at TIMESTAMP;
`,
  // 6: transcribe: each transcription's audio length and processing time (the real-time factor per model)
  `
CREATE TABLE transcriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  at TIMESTAMP NOT NULL,
  host TEXT NOT NULL,
  model TEXT NOT NULL,
  threads INTEGER NOT NULL,
  audio_seconds REAL NOT NULL,
  processing_seconds REAL NOT NULL,
  segments INTEGER NOT NULL,
  hallucinated INTEGER NOT NULL
);
CREATE INDEX idx_transcriptions_at ON transcriptions(at);
`,
  // 7: import: a digest of each imported transcript's text, to notice the same subtitles imported twice
  `
ALTER TABLE jobs ADD COLUMN content_hash TEXT;
CREATE INDEX idx_jobs_content_hash ON jobs(content_hash) WHERE content_hash IS NOT NULL;
`,
]

export const SCHEMA_VERSION = MIGRATIONS.length
