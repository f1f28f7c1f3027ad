import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import path from 'node:path'

import {UserError} from '../../errors.js'
import type {DataPaths} from '../../paths.js'

/** The ggml models whisper.cpp publishes that a Japanese corpus can use, with their quantized variants. */
export const MODEL_NAME = /^(tiny|base|small|medium|large-v3|large-v3-turbo)(-q5_0|-q5_1|-q8_0)?$/

export function checkModelName(name: string): void {
  if (!MODEL_NAME.test(name)) {
    throw new UserError(
      `unknown whisper model "${name}"`,
      'one of tiny, base, small, medium, large-v3, large-v3-turbo, optionally with -q5_0, -q5_1 or -q8_0 (e.g. large-v3-turbo-q5_0)',
    )
  }
}

/** A model's name as its file is named (data/models/ggml-<name>.bin): no slash, so never a file outside models/. */
export const PLAIN_MODEL_NAME = /^[A-Za-z0-9._-]+$/

/** The model file, which must exist and start like a ggml file. */
export function modelFileFor(paths: DataPaths, name: string): string {
  if (!PLAIN_MODEL_NAME.test(name))
    throw new UserError(
      `whisper model ${JSON.stringify(name)} is not a plain name`,
      'a model is named by letters, digits, ".", "_" and "-" (e.g. large-v3-turbo): its file is data/models/ggml-<model>.bin',
    )
  const file = paths.modelFile(name)
  if (!existsSync(file)) {
    throw new UserError(
      `whisper model "${name}" is not at ${file}`,
      MODEL_NAME.test(name)
        ? `run \`animezipf transcribe --download-model ${name}\`, or put a ggml file fetched elsewhere there`
        : `put a ggml file there, or choose a published model with --model`,
    )
  }
  if (!isGgml(file))
    throw new UserError(`${file} is not a whisper.cpp ggml model (wrong magic number)`, `delete it and run \`animezipf transcribe --download-model ${name}\``)
  return file
}

export function isGgml(file: string): boolean {
  const fd = openSync(file, 'r')
  try {
    const b = Buffer.alloc(4)
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === 0x67676d6c
  } finally {
    closeSync(fd)
  }
}

export interface ModelDownload {
  file: string
  bytes: number
  resumedFrom: number
}

/**
 * Fetch a model to `<target>.part` (resumed with a Range request when one is there), check its
 * size against what the server announced and its ggml magic, then rename it into place.
 */
export async function downloadModel(
  url: string,
  target: string,
  onProgress: (done: number, total: number | null) => void,
  signal?: AbortSignal,
): Promise<ModelDownload> {
  mkdirSync(path.dirname(target), {recursive: true})
  const part = `${target}.part`
  const have = existsSync(part) ? statSync(part).size : 0
  let response: Response
  try {
    response = await fetch(url, {headers: have > 0 ? {Range: `bytes=${have}-`} : {}, signal, redirect: 'follow'})
  } catch (error) {
    // fetch says only "fetch failed": the host and the resolver's or the socket's reason say what to fix
    const e = error as {cause?: {code?: string; message?: string}; message?: string}
    throw new Error(`cannot reach ${new URL(url).host}: ${e.cause?.code ?? e.cause?.message ?? e.message ?? 'unknown error'}`)
  }
  if (response.status === 416 && have > 0) {
    // the part file is already as long as the model, or longer: start again
    rmSync(part, {force: true})
    return downloadModel(url, target, onProgress, signal)
  }
  if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`)
  const resumed = response.status === 206
  let total: number | null = null
  if (resumed) {
    const m = /bytes\s+(\d+)-\d+\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '')
    // a range that does not start where the part file ends would splice two different files
    if (!m || Number(m[1]) !== have) {
      await response.body?.cancel()
      rmSync(part, {force: true})
      return downloadModel(url, target, onProgress, signal)
    }
    total = Number(m[2])
  } else {
    const len = response.headers.get('content-length')
    total = len ? Number(len) : null
  }
  const start = resumed ? have : 0
  const fd = openSync(part, resumed ? 'a' : 'w')
  let done = start
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      writeSync(fd, chunk)
      done += chunk.byteLength
      onProgress(done, total)
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  if (total === null)
    throw new Error(`${url} did not say how big the model is, so a cut-off download could not be told from a whole one; fetch it by hand into ${target}`)
  if (done !== total) throw new Error(`the download stopped at ${done} of ${total} bytes; run the same command again to resume`)
  if (!isGgml(part)) throw new Error(`${url} did not send a ggml model (wrong magic number); check [transcribe] model_url`)
  renameSync(part, target)
  return {file: target, bytes: done, resumedFrom: start}
}
