import {readFileSync} from 'node:fs'
import {gunzipSync, gzipSync} from 'node:zlib'

import {writeFileAtomic} from './atomic.js'

/** Write text atomically, gzip-compressed when the name ends in .gz (zcat reads it). Returns bytes written. */
export function writeTextFile(target: string, text: string): number {
  const data = target.endsWith('.gz') ? gzipSync(text, {level: 6}) : Buffer.from(text, 'utf8')
  writeFileAtomic(target, data)
  return data.length
}

/** Read a text file written by writeTextFile, plain or gzip. */
export function readTextFile(file: string): string {
  const data = readFileSync(file)
  return (data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data).toString('utf8')
}
