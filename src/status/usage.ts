import type {DataPaths} from '../paths.js'
import type {QueueStats} from '../queue/stats.js'
import {fileBytes, folderBytes} from '../util/disk.js'

/** The permanent part of the disk use: what stays once episodes are transcribed. */
export interface PermanentUsage {
  transcripts: number
  tokens: number
  analysis: number
  cache: number
  models: number
  metadata: number
  database: number
}

/**
 * Bytes the tool keeps for good, measured the same way by `status` and by download's disk monitor:
 * per-episode outputs summed from the sizes the queue recorded when they were written (walking
 * 100,000s of files would take seconds), the few folders walked, the SQLite file and its WAL.
 */
export async function permanentUsage(paths: DataPaths, stats: QueueStats, sqliteFile: string | undefined): Promise<PermanentUsage> {
  const outputs = await stats.outputSizes()
  return {
    transcripts: outputs.transcripts,
    tokens: outputs.tokens,
    analysis: folderBytes(paths.analysisRoot),
    cache: folderBytes(paths.cacheDir),
    models: folderBytes(paths.modelsDir),
    metadata: folderBytes(paths.metadataRoot),
    database: sqliteFile ? fileBytes(sqliteFile) + fileBytes(`${sqliteFile}-wal`) : 0,
  }
}

export function sum(parts: object): number {
  return Object.values(parts).reduce((a: number, b) => a + (typeof b === 'number' ? b : 0), 0)
}
