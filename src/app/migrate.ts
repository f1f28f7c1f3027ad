import {moveLegacyMetadata} from '../formats/metadata.js'
import type {DataPaths} from '../paths.js'

/**
 * Bring a data folder written by an older animezipf to today's layout. Run once per read-write
 * run, after the queue opened (its own migrations are the queue's); each step is idempotent.
 */
export function migrateDataLayout(paths: DataPaths): void {
  // metadata/<mal_id>.json was videos/<mal_id>/metadata.json before 0.1
  moveLegacyMetadata(paths)
}
