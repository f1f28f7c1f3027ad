import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'

import {UserError} from '../errors.js'

/** A config file is a page of settings: anything bigger is the wrong file (or /dev/zero). */
export const MAX_CONFIG_BYTES = 1_000_000

/**
 * The text of a config file: a regular file of at most MAX_CONFIG_BYTES, in UTF-8 (a byte-order
 * mark dropped). A device, a pipe or a folder is refused before a byte is read, so /dev/zero
 * cannot fill the memory and a FIFO cannot hang the run.
 */
export function readConfigText(file: string): string {
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer (no effect on a regular file)
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw new UserError(
      `cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'check the --config path (or ANIMEZIPF_CONFIG) and its permissions',
    )
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new UserError(`${file} is not a regular file`, 'point --config (or ANIMEZIPF_CONFIG) at a config.toml')
    if (st.size > MAX_CONFIG_BYTES)
      throw new UserError(`${file} is ${(st.size / 1e6).toFixed(1)} MB: a config file is at most 1 MB`, 'point --config at the config.toml, not another file')
    // read one byte past the cap: a file that grew since fstat is refused too
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1)
    let n = 0
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      if (n === buf.length) throw new UserError(`${file} is over 1 MB: a config file is at most 1 MB`, 'point --config at the config.toml, not another file')
    }
    const bytes = buf.subarray(0, n)
    const bad = firstInvalidUtf8(bytes)
    if (bad >= 0) {
      const line = bytes.subarray(0, bad).filter((b) => b === 0x0a).length + 1
      throw new UserError(`${file}: not valid UTF-8 at line ${line} (byte ${bad})`, 'save the file as UTF-8')
    }
    // editors on Windows start UTF-8 files with a byte-order mark: not part of the TOML
    return bytes.toString('utf8').replace(/^\uFEFF/, '')
  } finally {
    closeSync(fd)
  }
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0
  while (i < b.length) {
    const c = b[i]!
    if (c < 0x80) {
      i++
      continue
    }
    let need: number
    let min: number
    if (c >= 0xc2 && c <= 0xdf) [need, min] = [1, 0x80]
    else if (c >= 0xe0 && c <= 0xef) [need, min] = [2, 0x800]
    else if (c >= 0xf0 && c <= 0xf4) [need, min] = [3, 0x10000]
    else return i
    let cp = c & (0x3f >> need)
    for (let k = 1; k <= need; k++) {
      const d = b[i + k]
      if (d === undefined || (d & 0xc0) !== 0x80) return i
      cp = (cp << 6) | (d & 0x3f)
    }
    // overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i
    i += need + 1
  }
  return -1
}
