// A whisper.cpp ggml model made here, at test time (never committed): random weights in the layout
// that whisper.cpp 1.5's loader (whisper_model_load) reads, multilingual (51865 tokens, so `-l ja`
// works), one encoder and one decoder layer of width 64, the real 30-second audio window. About
// 7 MB. Its transcripts are meaningless; loading it, the command line, the JSON whisper writes and
// our reading of it are real.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {seededRandom} from '../../src/stages/analyze/optimize.js'

const F32 = 0
const F16 = 1

/** IEEE 754 half precision bits of a float (round to nearest; enough for small random weights). */
function half(v: number): number {
  const f = new Float32Array([v])
  const x = new Uint32Array(f.buffer)[0]!
  const sign = (x >>> 16) & 0x8000
  const exp = ((x >>> 23) & 0xff) - 127 + 15
  const mant = x & 0x7fffff
  if (exp <= 0) return sign
  if (exp >= 31) return sign | 0x7c00
  return sign | (exp << 10) | Math.round(mant / 0x2000)
}

/** A seeded normal generator (the project's seeded uniform + Box-Muller): the same file every time. */
function normal(seed: number): () => number {
  const uniform = seededRandom(seed)
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform())
}

export interface TinyModelOptions {
  state?: number
  heads?: number
  layers?: number
  seed?: number
}

/** Write the model to `file` and return its path. */
export function writeTinyModel(file: string, options: TinyModelOptions = {}): string {
  const state = options.state ?? 64
  const heads = options.heads ?? 4
  const layers = options.layers ?? 1
  const nVocab = 51865
  const audioCtx = 1500
  const textCtx = 448
  const mels = 80
  const nFft = 201
  const rand = normal(options.seed ?? 1)
  const chunks: Buffer[] = []
  const i32 = (...v: number[]) => {
    const b = Buffer.alloc(4 * v.length)
    v.forEach((x, i) => b.writeInt32LE(x, 4 * i))
    chunks.push(b)
  }
  const u32 = (v: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(v, 0)
    chunks.push(b)
  }

  u32(0x67676d6c)
  i32(nVocab, audioCtx, state, heads, layers, textCtx, state, heads, layers, mels, 1)
  // mel filters: triangles over the 201 FFT bins
  i32(mels, nFft)
  const filters = Buffer.alloc(4 * mels * nFft)
  for (let m = 0; m < mels; m++) {
    const centre = ((m + 1) * (nFft - 1)) / (mels + 1)
    const width = (nFft - 1) / (mels + 1)
    for (let k = 0; k < nFft; k++) filters.writeFloatLE(Math.max(0, 1 - Math.abs(k - centre) / width), 4 * (m * nFft + k))
  }
  chunks.push(filters)
  // the vocabulary: 256 single bytes, then kana and kanji (the rest of the ids are special tokens)
  const tokens = 50257
  i32(tokens)
  for (let i = 0; i < tokens; i++) {
    const bytes = i < 256 ? Buffer.from([i]) : Buffer.from(String.fromCodePoint(0x3041 + ((i - 256) % 0x6000)), 'utf8')
    i32(bytes.length)
    chunks.push(bytes)
  }

  const tensor = (name: string, ne: number[], type: number, fill: 'one' | 'zero' | 'rand', fileNe = ne) => {
    const n = ne.reduce((a, b) => a * b, 1)
    i32(fileNe.length, Buffer.byteLength(name), type, ...fileNe)
    chunks.push(Buffer.from(name))
    const value = () => (fill === 'one' ? 1 : fill === 'zero' ? 0 : 0.02 * rand())
    const data = Buffer.alloc(n * (type === F16 ? 2 : 4))
    for (let i = 0; i < n; i++) {
      if (type === F16) data.writeUInt16LE(half(value()), 2 * i)
      else data.writeFloatLE(value(), 4 * i)
    }
    chunks.push(data)
  }
  const block = (prefix: string, cross: boolean) => {
    const attn = (p: string) => {
      tensor(`${prefix}.${p}.query.weight`, [state, state], F16, 'rand')
      tensor(`${prefix}.${p}.query.bias`, [state], F32, 'zero')
      tensor(`${prefix}.${p}.key.weight`, [state, state], F16, 'rand')
      tensor(`${prefix}.${p}.value.weight`, [state, state], F16, 'rand')
      tensor(`${prefix}.${p}.value.bias`, [state], F32, 'zero')
      tensor(`${prefix}.${p}.out.weight`, [state, state], F16, 'rand')
      tensor(`${prefix}.${p}.out.bias`, [state], F32, 'zero')
    }
    tensor(`${prefix}.mlp_ln.weight`, [state], F32, 'one')
    tensor(`${prefix}.mlp_ln.bias`, [state], F32, 'zero')
    tensor(`${prefix}.mlp.0.weight`, [state, 4 * state], F16, 'rand')
    tensor(`${prefix}.mlp.0.bias`, [4 * state], F32, 'zero')
    tensor(`${prefix}.mlp.2.weight`, [4 * state, state], F16, 'rand')
    tensor(`${prefix}.mlp.2.bias`, [state], F32, 'zero')
    tensor(`${prefix}.attn_ln.weight`, [state], F32, 'one')
    tensor(`${prefix}.attn_ln.bias`, [state], F32, 'zero')
    attn('attn')
    if (cross) {
      tensor(`${prefix}.cross_attn_ln.weight`, [state], F32, 'one')
      tensor(`${prefix}.cross_attn_ln.bias`, [state], F32, 'zero')
      attn('cross_attn')
    }
  }
  tensor('encoder.positional_embedding', [state, audioCtx], F32, 'rand')
  tensor('encoder.conv1.weight', [3, mels, state], F16, 'rand')
  // conv biases are stored as one value per channel; the loader spreads them over the window
  tensor('encoder.conv1.bias', [1, state], F32, 'zero')
  tensor('encoder.conv2.weight', [3, state, state], F16, 'rand')
  tensor('encoder.conv2.bias', [1, state], F32, 'zero')
  tensor('encoder.ln_post.weight', [state], F32, 'one')
  tensor('encoder.ln_post.bias', [state], F32, 'zero')
  for (let i = 0; i < layers; i++) block(`encoder.blocks.${i}`, false)
  tensor('decoder.positional_embedding', [state, textCtx], F32, 'rand')
  tensor('decoder.token_embedding.weight', [state, nVocab], F16, 'rand')
  tensor('decoder.ln.weight', [state], F32, 'one')
  tensor('decoder.ln.bias', [state], F32, 'zero')
  for (let i = 0; i < layers; i++) block(`decoder.blocks.${i}`, true)

  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, Buffer.concat(chunks))
  return file
}
