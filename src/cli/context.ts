import {statSync} from 'node:fs'
import path from 'node:path'

import {AppContext} from '../app/context.js'
import {Output} from '../app/output.js'
import {loadConfig, unknownVariables} from '../config/load.js'
import {UserError} from '../errors.js'
import {DataPaths} from '../paths.js'

export interface GlobalFlags {
  config?: string | undefined
  'data-dir'?: string | undefined
  json: boolean
  verbose: boolean
}

/** A data folder must be a folder, or not exist yet under a folder: never a file (or under one). */
function checkFolder(dir: string, setting: string): void {
  let p = path.resolve(dir)
  for (;;) {
    let st
    try {
      st = statSync(p)
    } catch {
      if (path.dirname(p) === p) return
      p = path.dirname(p)
      continue
    }
    if (!st.isDirectory()) {
      throw new UserError(
        p === path.resolve(dir) ? `${setting} ${dir} is a file, not a folder` : `${setting} ${dir} is under ${p}, which is a file`,
        `point ${setting} at a folder (it is created when missing)`,
      )
    }
    return
  }
}

export function createContext(flags: GlobalFlags, overrides: Record<string, unknown> = {}): AppContext {
  const allOverrides: Record<string, unknown> = {...overrides}
  // an empty --data-dir (an unset shell variable) would otherwise mean the default folder
  if (flags['data-dir'] !== undefined && flags['data-dir'].trim() === '')
    throw new UserError('--data-dir is empty', 'give the data folder, or leave --data-dir out to use [data] root_dir')
  if (flags['data-dir']) allOverrides['data.root_dir'] = path.resolve(flags['data-dir'])
  const loaded = loadConfig({explicitPath: flags.config, overrides: allOverrides})
  const {config} = loaded
  checkFolder(config.data.root_dir, flags['data-dir'] ? '--data-dir' : '[data] root_dir')
  if (config.data.storage_dir !== config.data.root_dir) checkFolder(config.data.storage_dir, '[data] storage_dir')
  const output = new Output({json: flags.json, verbose: flags.verbose})
  for (const line of unknownVariables()) output.warn(line)
  return new AppContext(config, loaded.file, new DataPaths(config.data.root_dir, config.data.storage_dir), output)
}
