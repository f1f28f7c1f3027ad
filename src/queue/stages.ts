/** Every stage a job can be in, in pipeline order (the CHECK list of jobs.stage). */
export const JOB_STAGES = [
  'queued',
  'downloading',
  'downloaded',
  'transcribing',
  'transcribed',
  'tokenizing',
  'tokenized',
  'analyzing',
  'complete',
  'failed',
] as const

export type JobStage = (typeof JOB_STAGES)[number]

export type WorkerType = 'downloader' | 'transcriber' | 'tokenizer' | 'analyzer' | 'selector'

/** A stage of work: jobs move input -> running (leased) -> output. */
export interface StageDef {
  name: 'select' | 'download' | 'transcribe' | 'tokenize' | 'analyze'
  input: JobStage
  running: JobStage
  output: JobStage
  workerType: WorkerType
  /** Its input lives on one host's storage_dir (the downloaded video): claim only local jobs unless storage is shared. */
  hostBound?: boolean
}

export const STAGES: Record<Exclude<StageDef['name'], 'select'>, StageDef> = {
  download: {name: 'download', input: 'queued', running: 'downloading', output: 'downloaded', workerType: 'downloader'},
  transcribe: {name: 'transcribe', input: 'downloaded', running: 'transcribing', output: 'transcribed', workerType: 'transcriber', hostBound: true},
  tokenize: {name: 'tokenize', input: 'transcribed', running: 'tokenizing', output: 'tokenized', workerType: 'tokenizer'},
  analyze: {name: 'analyze', input: 'tokenized', running: 'analyzing', output: 'complete', workerType: 'analyzer'},
}

export const RUNNING_STAGES: readonly JobStage[] = Object.values(STAGES).map((s) => s.running)

/** The stage a leased job goes back to when its lease is released or expires. */
export function inputOf(running: string): JobStage | undefined {
  return Object.values(STAGES).find((s) => s.running === running)?.input
}

/** The stages a job passes through before reaching `stage` (its input side included, 'failed' not). */
export function stagesBefore(stage: JobStage): JobStage[] {
  const pipeline: readonly JobStage[] = JOB_STAGES.filter((s) => s !== 'failed')
  return pipeline.slice(0, pipeline.indexOf(stage))
}

/** select works on anime, not on jobs: its units are leases on anime (run_locks), its jobs stay 'queued'. */
export const SELECT_STAGE: StageDef = {name: 'select', input: 'queued', running: 'queued', output: 'queued', workerType: 'selector'}
