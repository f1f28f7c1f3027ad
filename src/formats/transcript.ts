/** The transcript JSON every producer writes (import now, transcribe later) and tokenize reads. */
export interface Segment {
  id: number
  start: number
  end: number
  text: string
  /** 0..1 from the recognizer; null for imported subtitles. */
  confidence: number | null
  /** Set by transcribe for whisper's repeated or no-speech segments; tokenize skips them. */
  hallucinated?: boolean
  /** Why it was flagged. */
  hallucination?: 'repeated' | 'stock_phrase' | 'low_confidence'
}

/** What transcribe flagged as whisper's inventions, by kind (counts of segments). */
export interface HallucinationSummary {
  segments: number
  repeated: number
  stock_phrase: number
  low_confidence: number
  /** Share of the transcript's speech time flagged (0..1). */
  share: number
}

export interface Transcript {
  anime_id: number
  episode: number
  duration_seconds: number | null
  language: string
  /** 'whisper-base', ... or 'subtitles' for imported files. */
  model: string
  source?: {kind: 'whisper' | 'subtitles' | 'text'; file?: string; format?: string; encoding?: string}
  segments: Segment[]
  transcribed_at: string
  /** transcribe: what was flagged and how the recognizer ran. */
  hallucinations?: HallucinationSummary
  whisper?: {binary: string; threads: number; processing_seconds: number; realtime_factor: number | null}
}

/** The plain-text companion: one segment per line. */
export function transcriptText(t: Transcript): string {
  return t.segments.map((s) => s.text.replaceAll('\n', ' ')).join('\n') + '\n'
}

/** Validate a parsed transcript; returns a reason when it is not one. */
export function transcriptProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not a JSON object'
  const t = value as Partial<Transcript>
  if (!Array.isArray(t.segments)) return 'no "segments" array'
  for (const [i, s] of t.segments.entries()) {
    if (typeof s?.text !== 'string') return `segment ${i} has no text`
  }
  return undefined
}
