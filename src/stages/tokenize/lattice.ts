// A faster lattice builder for kuromoji, giving the same lattice as its own.
//
// kuromoji's ViterbiBuilder.build copies the whole rest of the sentence at every position, encodes it
// to UTF-8 for the dictionary's prefix search and wraps it again to group unknown characters: work
// quadratic in the sentence length, and most of the tokenizer's time on subtitle text. This one looks
// at most MAX_KEY characters ahead for dictionary words (no IPADIC entry is that long), walks the
// dictionary's double array over the text's UTF-8 bytes without building them, and groups unknown
// characters in place. Tests compare both builders' output token by token.
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

/** Longer than any IPADIC entry (the longest are well under 40 characters). */
export const MAX_KEY = 64

interface TrieHit {
  k: string
  v: number
}

interface Trie {
  commonPrefixSearch(key: string): TrieHit[]
  traverse(parent: number, code: number): number
  bc: {getBase(index: number): number}
}

interface Dictionary {
  trie: Trie
  token_info_dictionary: {target_map: Record<number, number[]>; dictionary: {getShort(offset: number): number}}
  unknown_dictionary: {
    target_map: Record<number, number[]>
    dictionary: {getShort(offset: number): number}
    lookup(ch: string): {class_id: number; class_name: string; is_always_invoke: number; is_grouping: number}
  }
}

interface Builder extends Dictionary {
  build(sentence: string): unknown
}

type NodeCtor = new (name: number, cost: number, start: number, length: number, type: string, left: number, right: number, surface: string) => unknown
interface Lattice {
  append(node: unknown): void
  appendEos(): void
}

function load() {
  return {
    ViterbiLattice: require('kuromoji/src/viterbi/ViterbiLattice.js') as new () => Lattice,
    ViterbiNode: require('kuromoji/src/viterbi/ViterbiNode.js') as NodeCtor,
    SurrogateAwareString: require('kuromoji/src/util/SurrogateAwareString.js') as new (s: string) => {
      length: number
      index_mapping: number[]
      charAt(i: number): string
    },
  }
}

const ROOT = 0
const TERMINAL = 0
const NOT_FOUND = -1

/**
 * The double array's common-prefix search, walking the UTF-8 bytes of text[from..to) without
 * building them: the hits are the dictionary keys that begin at `from`.
 */
function prefixSearch(trie: Trie, text: string, from: number, to: number, hits: TrieHit[]): TrieHit[] {
  hits.length = 0
  let parent = ROOT
  const step = (byte: number): boolean => {
    const child = trie.traverse(parent, byte)
    if (child === NOT_FOUND) return false
    parent = child
    return true
  }
  for (let i = from; i < to; i++) {
    let cp = text.charCodeAt(i)
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = (cp - 0xd800) * 0x400 + low - 0xdc00 + 0x10000
        i++
      }
    }
    let ok: boolean
    if (cp < 0x80) ok = step(cp)
    else if (cp < 0x800) ok = step(0xc0 | (cp >> 6)) && step(0x80 | (cp & 0x3f))
    else if (cp < 0x10000) ok = step(0xe0 | (cp >> 12)) && step(0x80 | ((cp >> 6) & 0x3f)) && step(0x80 | (cp & 0x3f))
    else ok = step(0xf0 | (cp >> 18)) && step(0x80 | ((cp >> 12) & 0x3f)) && step(0x80 | ((cp >> 6) & 0x3f)) && step(0x80 | (cp & 0x3f))
    if (!ok) break
    const leaf = trie.traverse(parent, TERMINAL)
    if (leaf !== NOT_FOUND) {
      const base = trie.bc.getBase(leaf)
      if (base <= 0) hits.push({k: text.slice(from, i + 1), v: -base - 1})
    }
  }
  return hits
}

interface FeatureSource {
  getFeatures(id: number | string): string
}

/**
 * kuromoji decodes a token's feature string from its UTF-8 dictionary buffer for every token it
 * outputs; words repeat, so the decoded strings are kept (at most one per dictionary entry used).
 */
function memoizeFeatures(dictionary: FeatureSource): void {
  const decode = dictionary.getFeatures.bind(dictionary)
  const seen = new Map<number | string, string>()
  dictionary.getFeatures = (id) => {
    let features = seen.get(id)
    if (features === undefined) {
      features = decode(id)
      seen.set(id, features)
    }
    return features
  }
}

/** Replace a kuromoji tokenizer's lattice builder with the bounded one, and memoise its feature lookups. */
export function installFastLattice(tokenizer: {viterbi_builder: Builder; token_info_dictionary?: FeatureSource; unknown_dictionary?: FeatureSource}): void {
  if (tokenizer.token_info_dictionary) memoizeFeatures(tokenizer.token_info_dictionary)
  if (tokenizer.unknown_dictionary) memoizeFeatures(tokenizer.unknown_dictionary)
  const {ViterbiLattice, ViterbiNode, SurrogateAwareString} = load()
  const b = tokenizer.viterbi_builder
  const known = b.token_info_dictionary
  const unknown = b.unknown_dictionary
  // the character class of a character never changes: look each one up once
  const classes = new Map<string, ReturnType<Dictionary['unknown_dictionary']['lookup']>>()
  const classOf = (ch: string) => {
    let c = classes.get(ch)
    if (c === undefined) {
      c = unknown.lookup(ch)
      classes.set(ch, c)
    }
    return c
  }
  const hits: TrieHit[] = []
  b.build = (sentenceText: string) => {
    const lattice = new ViterbiLattice()
    const sentence = new SurrogateAwareString(sentenceText)
    for (let pos = 0; pos < sentence.length; pos++) {
      const from = sentence.index_mapping[pos]!
      const vocabulary = prefixSearch(b.trie, sentenceText, from, Math.min(sentenceText.length, from + MAX_KEY), hits)
      for (const hit of vocabulary) {
        for (const id of known.target_map[hit.v]!) {
          const tokenId = Number(id)
          const d = known.dictionary
          lattice.append(new ViterbiNode(tokenId, d.getShort(tokenId + 4), pos + 1, hit.k.length, 'KNOWN', d.getShort(tokenId), d.getShort(tokenId + 2), hit.k))
        }
      }
      const head = sentence.charAt(pos)
      const headClass = classOf(head)
      if (vocabulary.length === 0 || headClass.is_always_invoke === 1) {
        let surface = head
        let length = 1 // kuromoji counts a lone head character in characters, a group in UTF-16 units
        if (headClass.is_grouping === 1) {
          let grouped = false
          for (let k = pos + 1; k < sentence.length; k++) {
            const next = sentence.charAt(k)
            if (classOf(next).class_name !== headClass.class_name) break
            surface += next
            grouped = true
          }
          if (grouped) length = surface.length
        }
        for (const id of unknown.target_map[headClass.class_id]!) {
          const unkId = Number(id)
          const d = unknown.dictionary
          lattice.append(new ViterbiNode(unkId, d.getShort(unkId + 4), pos + 1, length, 'UNKNOWN', d.getShort(unkId), d.getShort(unkId + 2), surface))
        }
      }
    }
    lattice.appendEos()
    return lattice
  }
}
