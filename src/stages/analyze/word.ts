import {existsSync} from 'node:fs'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, UserError} from '../../errors.js'
import {requireAnime} from '../../queue/anime.js'
import {readFrequencyCsv} from '../../formats/frequency-csv.js'
import {readTextFile} from '../../util/gzip-file.js'
import {normalizeWidth} from '../tokenize/clean.js'
import type {Token} from '../tokenize/token.js'

export interface WordOptions {
  word: string
  lines: number
  malId?: number | undefined
}

interface Ranked {
  word: string
  pos: string
  rank: number
  count: number
}

interface SaidLine {
  mal_id: number
  anime: string
  episode: number
  start: number | null
  end: number | null
  text: string
}

/** The rows of a frequency list for these base forms, with their ranks (row order is rank order). */
async function ranksIn(file: string, forms: ReadonlySet<string>): Promise<Ranked[]> {
  if (!existsSync(file)) return []
  const out: Ranked[] = []
  let rank = 0
  await readFrequencyCsv(file, (word, pos, _reading, count) => {
    rank++
    if (forms.has(word)) out.push({word, pos, rank, count})
  })
  return out
}

interface TokensDoc {
  tokens: Token[]
  lines?: {segment: number; start: number | null; end: number | null; first_token: number}[]
}

/** The line a token belongs to: the last line whose first token is at or before it. */
function lineOf(lines: NonNullable<TokensDoc['lines']>, token: number): number {
  let lo = 0
  let hi = lines.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (lines[mid]!.first_token <= token) lo = mid
    else hi = mid - 1
  }
  return lo
}

/**
 * `animezipf word WORD`: its rank and count overall and per anime, genre and studio (from the
 * frequency lists analyze wrote), and lines where it is said (from the tokens files, with times).
 */
export async function lookUpWord(ctx: AppContext, options: WordOptions): Promise<ServiceResult> {
  // the query as the corpus was cleaned: ＡＫＢ is AKB when widths were normalised
  const trimmed = options.word.trim()
  const word = ctx.config.tokenize.cleaning.normalize_width ? normalizeWidth(trimmed) : trimmed
  if (!word) throw new UserError('which word?', 'e.g. animezipf word 食べる (a base form or a surface form)')
  const queue = await ctx.queue({readonly: true})
  await requireAnime(queue.anime, options.malId)
  const episodes = await queue.analysis.tokenizedEpisodes(options.malId)
  const {paths} = ctx

  // lines where it is said, and the base forms the word takes (a surface form such as 食べた counts as
  // 食べる): the scan goes on until the lines are found and the word is known as a base form, so the
  // answer does not depend on --lines; a word that is nowhere reads every tokens file once
  const forms = new Set([word])
  const knownAsBase = (await ranksIn(paths.allAnimeFreq, forms)).length > 0
  const lines: SaidLine[] = []
  let withoutLines = 0
  for (const e of episodes) {
    if (lines.length >= options.lines && (knownAsBase || forms.size > 1)) break
    const file = paths.absolute(e.tokens_path)
    if (!existsSync(file)) continue
    const doc = JSON.parse(readTextFile(file)) as TokensDoc
    if (!doc.lines) withoutLines++
    const seen = new Set<number>()
    doc.tokens.forEach((t, i) => {
      if (t.base_form !== word && t.surface !== word) return
      if (t.base_form && t.base_form !== '*') forms.add(t.base_form)
      if (!doc.lines || lines.length >= options.lines) return
      const li = lineOf(doc.lines, i)
      if (seen.has(li)) return
      seen.add(li)
      const line = doc.lines[li]!
      const end = doc.lines[li + 1]?.first_token ?? doc.tokens.length
      const text = doc.tokens
        .slice(line.first_token, end)
        .map((x) => x.surface)
        .join('')
      lines.push({mal_id: e.mal_id, anime: e.anime_title, episode: e.episode, start: line.start, end: line.end, text})
    })
  }

  const overall = await ranksIn(paths.allAnimeFreq, forms)
  const animeIds = [...new Map(episodes.map((e) => [e.mal_id, e.anime_title])).entries()]
  const anime = []
  for (const [malId, title] of animeIds) {
    for (const r of await ranksIn(paths.animeWordFreq(malId), forms)) anime.push({mal_id: malId, title, ...r})
  }
  const groups = []
  const names = new Set((await queue.analysis.groupMembership()).map((m) => `${m.kind}\u0000${m.name}`))
  const siblings = (kind: string) => [...names].filter((k) => k.startsWith(`${kind}\u0000`)).map((k) => k.split('\u0000')[1]!)
  for (const key of [...names].sort()) {
    const [kind, name] = key.split('\u0000') as ['genre' | 'studio', string]
    for (const r of await ranksIn(paths.groupFreq(kind, name, siblings(kind)), forms)) groups.push({kind, name, ...r})
  }
  anime.sort((a, b) => b.count - a.count || a.mal_id - b.mal_id)

  const result = {
    word,
    base_forms: [...forms],
    overall,
    anime,
    genres: groups.filter((g) => g.kind === 'genre'),
    studios: groups.filter((g) => g.kind === 'studio'),
    lines,
  }
  const fmtTime = (t: number | null) => (t === null ? '--:--' : `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(Math.floor(t % 60)).padStart(2, '0')}`)
  const text: string[] = []
  if (overall.length === 0 && lines.length === 0) {
    text.push(`${word}: not in the corpus${existsSync(paths.allAnimeFreq) ? '' : ' (run `animezipf analyze` for ranks and counts)'}`)
  } else {
    for (const o of overall) text.push(`${o.word} (${o.pos}): rank ${o.rank} overall, ${o.count} times`)
    if (overall.length === 0) text.push(`${word}: no ranks yet (run \`animezipf analyze\`)`)
    for (const a of anime.slice(0, 20)) text.push(`  ${a.title}: rank ${a.rank}, ${a.count} times`)
    for (const g of groups) text.push(`  ${g.kind} ${g.name}: rank ${g.rank}, ${g.count} times`)
    if (lines.length > 0) text.push('', 'said in:')
    for (const l of lines) text.push(`  ${l.anime} ep ${l.episode} ${fmtTime(l.start)}-${fmtTime(l.end)}  ${l.text}`)
  }
  if (withoutLines > 0) text.push(`(${withoutLines} episode(s) were tokenized before lines were kept: \`animezipf tokenize --force\` adds them)`)
  return {code: EXIT.OK, result, text}
}
