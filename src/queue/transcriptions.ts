import {type Clock, sqlTime, systemClock} from './clock.js'
import type {Sql} from './sql.js'

export interface TranscriptionRecord {
  jobId: number
  host: string
  model: string
  threads: number
  audioSeconds: number
  processingSeconds: number
  segments: number
  hallucinated: number
}

/** Each transcription's audio length and processing time: real-time factors and the backlog's ETA. */
export class TranscriptionStore {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
  ) {}

  async record(r: TranscriptionRecord): Promise<void> {
    await this.sql.run(
      `INSERT INTO transcriptions (job_id, at, host, model, threads, audio_seconds, processing_seconds, segments, hallucinated)
       VALUES (@jobId, @at, @host, @model, @threads, @audio, @processing, @segments, @hallucinated)`,
      {...r, at: sqlTime(this.clock.now()), audio: r.audioSeconds, processing: r.processingSeconds},
    )
  }

  async hasJob(jobId: number): Promise<boolean> {
    return (await this.sql.get(`SELECT 1 AS x FROM transcriptions WHERE job_id = @jobId`, {jobId})) !== undefined
  }

  /** Per model: episodes, audio seconds, processing seconds and their ratio (audio seconds per second of work, per worker). */
  async perModel(): Promise<{model: string; episodes: number; audio_seconds: number; processing_seconds: number; realtime_factor: number | null}[]> {
    const rows = await this.sql.all<{model: string; n: number; a: number; p: number}>(
      `SELECT model, COUNT(*) AS n, SUM(audio_seconds) AS a, SUM(processing_seconds) AS p FROM transcriptions GROUP BY model ORDER BY model`,
    )
    return rows.map((r) => ({
      model: r.model,
      episodes: r.n,
      audio_seconds: Math.round(r.a),
      processing_seconds: Math.round(r.p),
      realtime_factor: r.p > 0 ? Number((r.a / r.p).toFixed(2)) : null,
    }))
  }

  /** Audio seconds transcribed since a time, over every worker and host. */
  async audioSince(sinceMs: number): Promise<number> {
    const row = await this.sql.get<{a: number | null}>(`SELECT SUM(audio_seconds) AS a FROM transcriptions WHERE at >= @since`, {since: sqlTime(sinceMs)})
    return row?.a ?? 0
  }

  /** Audio seconds waiting in 'downloaded' and 'transcribing' (MyAnimeList's length where the video has none). */
  async backlogSeconds(): Promise<{episodes: number; seconds: number}> {
    const row = await this.sql.get<{n: number; s: number | null}>(
      `SELECT COUNT(*) AS n, SUM(COALESCE(j.duration_seconds, a.duration_minutes * 60, 1440)) AS s
       FROM jobs j LEFT JOIN anime a ON a.id = j.anime_id WHERE j.stage IN ('downloaded', 'transcribing')`,
    )
    return {episodes: row?.n ?? 0, seconds: row?.s ?? 0}
  }
}
