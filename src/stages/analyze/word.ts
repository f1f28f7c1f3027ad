import {existsSync} from 'node:fs'

import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, UserError} from '../../errors.js'
import type {DataPaths} from '../../paths.js'
import {requireAnime} from '../../queue/anime.js'
import type {Queue} from '../../queue/index.js'
import {readFrequencyCsv} from '../../formats/frequency-csv.js'
import {readTextFile} from '../../util/gzip-file.js'
import {counted} from '../../util/text.js'
import {normalizeWidth} from '../tokenize/clean.js'
import type {Token} from '../tokenize/token.js'

export interface WordOptions {
  word: string
  lines: number
  malId?: number | undefined
}

/** A row of a frequency list for one of the word's base forms. */
export interface WordRank {
  word: string
  pos: string
  rank: number
  count: number
}

/** A line where the word is said, with its times in the episode. */
export interface SaidLine {
  mal_id: number
  anime: string
  episode: number
  start: number | null
  end: number | null
  text: string
}

export interface GroupWordRank extends WordRank {
  kind: 'genre' | 'studio'
  name: string
}

/** `word --json`: the query, the base forms it takes, its ranks overall and per anime, genre and studio, and lines. */
export interface WordResult {
  word: string
  base_forms: string[]
  overall: WordRank[]
  anime: ({mal_id: number; title: string} & WordRank)[]
  genres: GroupWordRank[]
  studios: GroupWordRank[]
  lines: SaidLine[]
}

type TokenizedEpisode = Awaited<ReturnType<Queue['analysis']['tokenizedEpisodes']>>[number]

/** The rows of a frequency list for these base forms, with their ranks (row order is rank order). */
async function ranksIn(file: string, forms: ReadonlySet<string>): Promise<WordRank[]> {
  if (!existsSync(file)) return []
  const out: WordRank[] = []
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

/** What the scan of the tokens files found: the word's base forms, the lines it is said in, and episodes kept without lines. */
interface WordSightings {
  forms: Set<string>
  lines: SaidLine[]
  withoutLines: number
}

/**
 * Lines where it is said, and the base forms the word takes (a surface form such as 食べた counts as
 * 食べる): the scan goes on until the lines are found and the word is known as a base form, so the
 * answer does not depend on --lines; a word that is nowhere reads every tokens file once.
 */
async function findSightings(paths: DataPaths, episodes: TokenizedEpisode[], word: string, maxLines: number): Promise<WordSightings> {
  const found: WordSightings = {forms: new Set([word]), lines: [], withoutLines: 0}
  const knownAsBase = (await ranksIn(paths.allAnimeFreq, found.forms)).length > 0
  for (const e of episodes) {
    if (found.lines.length >= maxLines && (knownAsBase || found.forms.size > 1)) break
    const file = paths.absolute(e.tokens_path)
    if (!existsSync(file)) continue
    const doc = JSON.parse(readTextFile(file)) as TokensDoc
    if (!doc.lines) found.withoutLines++
    scanEpisode(doc, e, word, maxLines, found)
  }
  return found
}

/** One episode's tokens: each token of the word adds its base form, and its line (once) while lines are wanted. */
function scanEpisode(doc: TokensDoc, e: TokenizedEpisode, word: string, maxLines: number, found: WordSightings): void {
  const seen = new Set<number>()
  doc.tokens.forEach((t, i) => {
    if (t.base_form !== word && t.surface !== word) return
    if (t.base_form && t.base_form !== '*') found.forms.add(t.base_form)
    if (!doc.lines || found.lines.length >= maxLines) return
    const li = lineOf(doc.lines, i)
    if (seen.has(li)) return
    seen.add(li)
    const line = doc.lines[li]!
    const end = doc.lines[li + 1]?.first_token ?? doc.tokens.length
    const text = doc.tokens
      .slice(line.first_token, end)
      .map((x) => x.surface)
      .join('')
    found.lines.push({mal_id: e.mal_id, anime: e.anime_title, episode: e.episode, start: line.start, end: line.end, text})
  })
}

/** The base forms' ranks in the frequency lists analyze wrote: overall, per anime (most said first), per genre and studio. */
async function ranksAcross(
  queue: Queue,
  paths: DataPaths,
  episodes: TokenizedEpisode[],
  forms: ReadonlySet<string>,
): Promise<Omit<WordResult, 'word' | 'base_forms' | 'lines'>> {
  const overall = await ranksIn(paths.allAnimeFreq, forms)
  const animeIds = [...new Map(episodes.map((e) => [e.mal_id, e.anime_title])).entries()]
  const anime: WordResult['anime'] = []
  for (const [malId, title] of animeIds) {
    for (const r of await ranksIn(paths.animeWordFreq(malId), forms)) anime.push({mal_id: malId, title, ...r})
  }
  const groups: GroupWordRank[] = []
  const names = new Set((await queue.analysis.groupMembership()).map((m) => `${m.kind}\u0000${m.name}`))
  // a group's file name depends on its siblings' names (see DataPaths.groupFreq)
  const siblings = (kind: string) => [...names].filter((k) => k.startsWith(`${kind}\u0000`)).map((k) => k.split('\u0000')[1]!)
  for (const key of [...names].sort()) {
    const [kind, name] = key.split('\u0000') as ['genre' | 'studio', string]
    for (const r of await ranksIn(paths.groupFreq(kind, name, siblings(kind)), forms)) groups.push({kind, name, ...r})
  }
  anime.sort((a, b) => b.count - a.count || a.mal_id - b.mal_id)
  return {overall, anime, genres: groups.filter((g) => g.kind === 'genre'), studios: groups.filter((g) => g.kind === 'studio')}
}

function clockTime(t: number | null): string {
  return t === null ? '--:--' : `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(Math.floor(t % 60)).padStart(2, '0')}`
}

/** The lines printed: ranks overall, per anime (20 at most), per group, then where it is said. */
function wordText(r: WordResult, withoutLines: number, ranksWritten: boolean): string[] {
  const text: string[] = []
  if (r.overall.length === 0 && r.lines.length === 0) {
    text.push(`${r.word}: not in the corpus${ranksWritten ? '' : ' (run `animezipf analyze` for ranks and counts)'}`)
  } else {
    for (const o of r.overall) text.push(`${o.word} (${o.pos}): rank ${o.rank} overall, ${counted(o.count, 'time')}`)
    if (r.overall.length === 0) text.push(`${r.word}: no ranks yet (run \`animezipf analyze\`)`)
    for (const a of r.anime.slice(0, 20)) text.push(`  ${a.title}: rank ${a.rank}, ${counted(a.count, 'time')}`)
    // genres sort before studios, as the groups were read
    for (const g of [...r.genres, ...r.studios]) text.push(`  ${g.kind} ${g.name}: rank ${g.rank}, ${counted(g.count, 'time')}`)
    if (r.lines.length > 0) text.push('', 'said in:')
    for (const l of r.lines) text.push(`  ${l.anime} ep ${l.episode} ${clockTime(l.start)}-${clockTime(l.end)}  ${l.text}`)
  }
  if (withoutLines > 0) text.push(`(${withoutLines} episode(s) were tokenized before lines were kept: \`animezipf tokenize --force\` adds them)`)
  return text
}

/**
 * `animezipf word WORD`: its rank and count overall and per anime, genre and studio (from the
 * frequency lists analyze wrote), and lines where it is said (from the tokens files, with times).
 */
export async function lookUpWord(ctx: AppContext, options: WordOptions): Promise<ServiceResult<WordResult>> {
  // the query as the corpus was cleaned: ＡＫＢ is AKB when widths were normalised
  const trimmed = options.word.trim()
  const word = ctx.config.tokenize.cleaning.normalize_width ? normalizeWidth(trimmed) : trimmed
  if (!word) throw new UserError('which word?', 'e.g. animezipf word 食べる (a base form or a surface form)')
  ctx.requireCorpus()
  const queue = await ctx.queue({readonly: true})
  await requireAnime(queue.anime, options.malId)
  const episodes = await queue.analysis.tokenizedEpisodes(options.malId)
  const {paths} = ctx
  const {forms, lines, withoutLines} = await findSightings(paths, episodes, word, options.lines)
  const ranks = await ranksAcross(queue, paths, episodes, forms)
  const result: WordResult = {word, base_forms: [...forms], ...ranks, lines}
  return {code: EXIT.OK, result, text: wordText(result, withoutLines, existsSync(paths.allAnimeFreq))}
}
