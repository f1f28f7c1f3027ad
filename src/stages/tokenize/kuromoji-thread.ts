// A worker thread holding one kuromoji tokenizer (IPADIC). Messages: {id, lines} -> {id, tokens} | {id, error}.
import {createRequire} from 'node:module'
import path from 'node:path'
import {parentPort} from 'node:worker_threads'

import type {Token} from './token.js'

interface KuromojiToken {
  surface_form: string
  pos: string
  pos_detail_1: string
  reading?: string
  basic_form: string
}
interface KuromojiTokenizer {
  tokenize(text: string): KuromojiToken[]
}

const require = createRequire(import.meta.url)
const kuromoji = require('kuromoji') as {
  builder(options: {dicPath: string}): {build(cb: (err: Error | null, t: KuromojiTokenizer) => void): void}
}
const dicPath = path.join(path.dirname(require.resolve('kuromoji/package.json')), 'dict')

kuromoji.builder({dicPath}).build((err, tokenizer) => {
  if (err) {
    parentPort!.postMessage({ready: false, error: err.message})
    return
  }
  parentPort!.on('message', (msg: {id: number; lines: string[]}) => {
    try {
      const tokens: Token[] = []
      for (const line of msg.lines) {
        for (const t of tokenizer.tokenize(line)) {
          tokens.push({
            surface: t.surface_form,
            pos: t.pos,
            pos_detail: t.pos_detail_1,
            reading: t.reading ?? '*',
            base_form: t.basic_form,
          })
        }
      }
      parentPort!.postMessage({id: msg.id, tokens})
    } catch (error) {
      parentPort!.postMessage({id: msg.id, error: (error as Error).message})
    }
  })
  parentPort!.postMessage({ready: true})
})
