import {createHash} from 'node:crypto'
import {existsSync, readdirSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import type {AppContext} from '../../app/context.js'
import {EXIT, UserError, errorMessage} from '../../errors.js'
import {writeAnimeMetadata} from '../../formats/metadata.js'
import {type Transcript, transcriptText} from '../../formats/transcript.js'
import type {ServiceResult} from '../../app/result.js'
import {animeIdLabel, LOCAL_ID_BASE, parseList} from '../../queue/anime.js'
import type {Queue} from '../../queue/index.js'
import type {AnimeRecord, AnimeRow, NewJob} from '../../queue/rows.js'
import {writeTextFile} from '../../util/gzip-file.js'
import {cleanText} from '../../util/text.js'
import {printable} from '../../util/process.js'
import {episodeFromName, naturalCompare} from './episodes.js'
import {EPISODE_RANGE, YEAR_RANGE} from './ranges.js'
import {type SubtitleFile, describeProblems, readSubtitleFile} from './file.js'
import type {SubtitleFormat} from './subtitles.js'

export interface ImportOptions {
  paths: string[]
  malId?: number | undefined
  title?: string | undefined
  titleJapanese?: string | undefined
  episodeFrom?: number | undefined
  genres: string[]
  studios: string[]
  year?: number | undefined
  dryRun: boolean
  /** Import files whose text was imported before (normally refused: it would be counted twice). */
  allowDuplicate?: boolean
  /** Look an anime up by MyAnimeList id (the scrape stage's Jikan client); undefined when unreachable. */
  lookup?: (malId: number) => Promise<AnimeRecord | undefined>
}

const EXTENSIONS = new Set(['.srt', '.ass', '.ssa', '.vtt', '.txt'])

/** A digest of a transcript's text (width-folded, spaces out): the same subtitles under two names or two encodings match. */
export function contentHash(cues: readonly {text: string}[]): string {
  const text = cues.map((c) => c.text.normalize('NFKC').replaceAll(/\s+/g, '')).join('\n')
  return createHash('sha256').update(text).digest('hex')
}

interface Parsed extends SubtitleFile {
  file: string
  detected: number | undefined
  episode?: number
}

/** Files named on the command line; folders contribute their subtitle files. */
function expandPaths(inputs: string[]): string[] {
  const files: string[] = []
  for (const input of inputs) {
    const p = path.resolve(input)
    if (!existsSync(p)) throw new UserError(`no such file or folder: ${input}`, 'check the path')
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort(naturalCompare)) {
        if (EXTENSIONS.has(path.extname(name).toLowerCase())) files.push(path.join(p, name))
      }
    } else files.push(p)
  }
  if (files.length === 0) throw new UserError('no subtitle files found', 'give .srt, .ass, .ssa, .vtt or .txt files, or a folder holding them')
  return files
}

/** A number flag in its range (what the command's flags check, for callers that are not the command). */
function checkRange(flag: string, value: number | undefined, range: {min: number; max: number}, what: string): void {
  if (value === undefined) return
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new UserError(`${flag} ${value} is out of range`, `give ${what}, from ${range.min} to ${range.max}`)
}

/** Number the episodes: by the numbers in the names, or in order from --episode-from. */
function assignEpisodes(parsed: Parsed[], episodeFrom: number | undefined, warn: (m: string) => void): void {
  const allNumbered = parsed.every((p) => p.detected !== undefined)
  const distinct = new Set(parsed.map((p) => p.detected)).size === parsed.length
  parsed.sort((a, b) => (allNumbered ? a.detected! - b.detected! : 0) || naturalCompare(a.file, b.file))
  if (episodeFrom === undefined && allNumbered && distinct) {
    for (const p of parsed) p.episode = p.detected!
    return
  }
  if (episodeFrom === undefined && parsed.length > 1) {
    warn(`episode numbers not found (or repeated) in the file names; numbering from 1 in name order (use --episode-from to choose)`)
  }
  parsed.forEach((p, i) => {
    p.episode = (episodeFrom ?? 1) + i
  })
}

async function resolveAnime(ctx: AppContext, queue: Queue, options: ImportOptions): Promise<{row: AnimeRow | undefined; record: AnimeRecord}> {
  const extra = {genres: options.genres, studios: options.studios}
  if (options.malId !== undefined) {
    if (options.malId <= 0 || options.malId >= LOCAL_ID_BASE)
      throw new UserError(`--mal-id ${options.malId} is not a MyAnimeList id`, "use the number in the anime's MyAnimeList URL, or --title")
    const row = await queue.anime.byMalId(options.malId)
    if (row) return {row, record: withExtra(rowToRecord(row), extra)}
    let fetched: AnimeRecord | undefined
    try {
      fetched = await options.lookup?.(options.malId)
    } catch (error) {
      ctx.output.warn(`could not fetch MyAnimeList id ${options.malId}: ${errorMessage(error)}`)
    }
    if (fetched) return {row: undefined, record: {...fetched, ...nonEmpty(extra), year: options.year ?? fetched.year}}
    if (!options.title) {
      throw new UserError(
        `anime ${options.malId} is not in the database and MyAnimeList (Jikan) could not be reached`,
        'add --title "…" to import it with that id anyway',
      )
    }
    return {row: undefined, record: {mal_id: options.malId, title: options.title, ...extra, year: options.year ?? null}}
  }
  if (!options.title) throw new UserError('which anime are these subtitles of?', 'give --mal-id ID (MyAnimeList) or --title "TITLE"')
  const row = await queue.anime.byTitle(options.title)
  if (row) return {row, record: withExtra(rowToRecord(row), extra)}
  return {
    row: undefined,
    record: {
      mal_id: await queue.anime.nextLocalMalId(),
      title: options.title,
      title_japanese: options.titleJapanese ?? null,
      ...extra,
      year: options.year ?? null,
    },
  }
}

function nonEmpty(extra: {genres: string[]; studios: string[]}): Partial<AnimeRecord> {
  const out: Partial<AnimeRecord> = {}
  if (extra.genres.length > 0) out.genres = extra.genres
  if (extra.studios.length > 0) out.studios = extra.studios
  return out
}

/** An anime already there, with the genres and studios given now added to its own (never dropping any). */
function withExtra(record: AnimeRecord, extra: {genres: string[]; studios: string[]}): AnimeRecord {
  const union = (a: string[] | undefined, b: string[]) => [...new Set([...(a ?? []), ...b])]
  return {...record, genres: union(record.genres, extra.genres), studios: union(record.studios, extra.studios)}
}

function rowToRecord(row: AnimeRow): AnimeRecord {
  return {
    ...row,
    title_synonyms: parseList(row.title_synonyms),
    genres: parseList(row.genres),
    explicit_genres: parseList(row.explicit_genres),
    themes: parseList(row.themes),
    demographics: parseList(row.demographics),
    studios: parseList(row.studios),
  }
}

/** What happened (or, under --dry-run, would happen) to one file. */
export type ImportFileStatus = 'already imported' | 'duplicate, skipped' | 'would import' | 'imported'

/** One file of an import, in the --json result. */
export interface ImportFilePlan {
  file: string
  episode: number
  format: SubtitleFormat
  encoding: string
  cues: number
  status: ImportFileStatus
}

/** A file that was not imported, and why. */
export interface ImportRefusal {
  file: string
  error: string
}

/** `animezipf import --json` (the same shape under --dry-run, with `dry_run: true` and `imported: 0`). */
export interface ImportResult {
  dry_run: boolean
  anime: {mal_id: number; title: string}
  files: ImportFilePlan[]
  imported: number
  already_imported: number
  groups_added: string[]
  bad: ImportRefusal[]
}

/** Names typed on a command line are text from outside: stored without control characters. */
function cleanNames(options: ImportOptions): ImportOptions {
  return {
    ...options,
    title: options.title === undefined ? undefined : cleanText(options.title).trim(),
    titleJapanese: options.titleJapanese === undefined ? undefined : cleanText(options.titleJapanese).trim(),
    genres: [...new Set(options.genres.map((g) => cleanText(g).trim()).filter((g) => g !== ''))],
    studios: [...new Set(options.studios.map((s) => cleanText(s).trim()).filter((s) => s !== ''))],
  }
}

/** The checks the command's flags make, for callers that are not the command (the demo). */
function checkOptions(options: ImportOptions): void {
  if (options.malId === undefined && !options.title?.trim())
    throw new UserError('which anime are these subtitles of?', 'give --mal-id ID (MyAnimeList) or --title "TITLE"')
  if (options.title && options.title.length > 300)
    throw new UserError(`--title is ${options.title.length} characters long`, "give the anime's title (at most 300 characters)")
  checkRange('--episode-from', options.episodeFrom, EPISODE_RANGE, "the first file's episode number")
  checkRange('--year', options.year, YEAR_RANGE, 'the year the anime aired')
}

/** Read every file; a file that is not Japanese subtitles is warned about and kept in `bad`. */
function readFiles(ctx: AppContext, files: string[]): {parsed: Parsed[]; bad: ImportRefusal[]} {
  const {output} = ctx
  const parsed: Parsed[] = []
  const bad: ImportRefusal[] = []
  for (const file of files) {
    try {
      const read = readSubtitleFile(file, ctx.config.import)
      // cues with impossible times are left out, each said with its line (the first few, then how many more)
      if (read.problems.length > 0) output.warn(`${printable(file)}: ${read.problems.length} cue(s) left out: ${printable(describeProblems(read.problems, 3))}`)
      parsed.push({...read, file, detected: episodeFromName(file)})
    } catch (error) {
      bad.push({file, error: errorMessage(error)})
      output.warn(`skipped ${printable(file)}: ${errorMessage(error)}`)
    }
  }
  // nothing usable: say why, and write nothing (no anime row without episodes)
  if (parsed.length === 0) {
    const first = bad[0]!
    throw new UserError(
      `no file could be imported: ${printable(path.basename(first.file))}: ${first.error}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`,
      'see the warnings above for each file',
    )
  }
  return {parsed, bad}
}

/**
 * The same text twice (another title, another episode, or two files of this batch) would be counted twice:
 * such files are refused (added to `bad`, warned about); returns each refused file with why.
 */
async function refuseDuplicates(
  ctx: AppContext,
  queue: Queue,
  d: {candidates: Parsed[]; hashes: Map<Parsed, string>; bad: ImportRefusal[]; anyImportedBefore: boolean},
): Promise<Map<Parsed, string>> {
  const duplicates = new Map<Parsed, string>()
  const seen = new Map<string, Parsed>()
  for (const p of d.candidates) {
    const h = d.hashes.get(p)!
    const before = (await queue.jobs.byContentHash(h))[0]
    if (before) duplicates.set(p, `the same text as "${before.anime_title}" ep ${before.episode} (${animeIdLabel(before.mal_id)}), imported already`)
    else if (seen.has(h)) duplicates.set(p, `the same text as ${printable(path.basename(seen.get(h)!.file))} of this import`)
    else seen.set(h, p)
  }
  for (const [p, why] of duplicates) {
    d.bad.push({file: p.file, error: `${why} (--allow-duplicate to import it anyway)`})
    ctx.output.warn(`skipped ${printable(p.file)}: ${why}`)
  }
  // every file refused: one line, and nothing written (no anime row for a title with no episode)
  if (duplicates.size > 0 && duplicates.size === d.candidates.length && !d.anyImportedBefore) {
    const [p, why] = [...duplicates][0]!
    throw new UserError(`no file could be imported: ${printable(path.basename(p.file))}: ${why}`, '--allow-duplicate imports it anyway')
  }
  return duplicates
}

/** The genres and studios given now that an anime already there lacks ("genre X", "studio Y"). */
function groupsToAdd(row: AnimeRow | undefined, options: ImportOptions): string[] {
  if (!row) return []
  return [
    ...options.genres.filter((g) => !parseList(row.genres).includes(g)).map((g) => `genre ${g}`),
    ...options.studios.filter((g) => !parseList(row.studios).includes(g)).map((g) => `studio ${g}`),
  ]
}

/** A re-import with no new file that names new genres or studios: they are added to the anime all the same. */
async function addGroups(ctx: AppContext, queue: Queue, row: AnimeRow, record: AnimeRecord, options: ImportOptions): Promise<void> {
  await queue.transaction(async (q) => {
    await q.anime.upsert(record)
    for (const g of options.genres) await q.anime.addCategory(row.id, 'genre', g, null, null)
    for (const st of options.studios) await q.anime.addCategory(row.id, 'studio', st, null, null)
  })
  writeAnimeMetadata(ctx.paths.metadataFile(record.mal_id), record)
}

/**
 * The anime row, its groups and its jobs in one transaction: an import that fails half-way (a full disk,
 * a value the database refuses) leaves no anime without episodes, and takes back the transcripts it wrote.
 */
async function writeImportOrNothing(ctx: AppContext, queue: Queue, w: Omit<ImportWrite, 'written'>): Promise<AnimeRecord> {
  const written: string[] = []
  try {
    return await queue.transaction((q) => writeImport(ctx, q, {...w, written}))
  } catch (error) {
    for (const file of written) rmSync(file, {force: true})
    throw error
  }
}

/** `animezipf import`: subtitle files become transcripts and jobs in 'transcribed'. */
export async function importSubtitles(ctx: AppContext, options: ImportOptions): Promise<ServiceResult<ImportResult>> {
  options = cleanNames(options)
  checkOptions(options)
  const {parsed, bad} = readFiles(ctx, expandPaths(options.paths))
  assignEpisodes(parsed, options.episodeFrom, (m) => ctx.output.warn(m))

  const queue = await ctx.queue({readonly: options.dryRun})
  const {row, record: found} = await resolveAnime(ctx, queue, options)
  let record = found
  const existing = new Set<number>(row ? await queue.jobs.episodesOf({animeId: row.id}) : [])
  const hashes = new Map<Parsed, string>(parsed.map((p) => [p, contentHash(p.cues)]))
  const candidates = parsed.filter((p) => !existing.has(p.episode!))
  const anyImportedBefore = parsed.some((p) => existing.has(p.episode!))
  const duplicates = options.allowDuplicate ? new Map<Parsed, string>() : await refuseDuplicates(ctx, queue, {candidates, hashes, bad, anyImportedBefore})
  const fresh = candidates.filter((p) => !duplicates.has(p))

  // a re-import that names genres or studios the anime lacks: they are added (and said), even with no new file
  const addedGroups = groupsToAdd(row, options)
  if (!options.dryRun && row && addedGroups.length > 0 && fresh.length === 0) await addGroups(ctx, queue, row, record, options)
  if (!options.dryRun && fresh.length > 0)
    record = await writeImportOrNothing(ctx, queue, {record, isNew: !row && options.malId === undefined, parsed, fresh, hashes})

  const status = (p: Parsed): ImportFileStatus =>
    existing.has(p.episode!) ? 'already imported' : duplicates.has(p) ? 'duplicate, skipped' : options.dryRun ? 'would import' : 'imported'
  const files = parsed.map((p) => ({file: p.file, episode: p.episode!, format: p.format, encoding: p.encoding, cues: p.cues.length, status: status(p)}))
  const result: ImportResult = {
    dry_run: options.dryRun,
    anime: {mal_id: record.mal_id, title: record.title},
    files,
    imported: options.dryRun ? 0 : fresh.length,
    already_imported: parsed.length - candidates.length,
    groups_added: addedGroups,
    bad,
  }
  const code = parsed.length === 0 ? EXIT.USAGE : bad.length > 0 ? EXIT.JOBS_FAILED : EXIT.OK
  return {code, result, text: importReport(result, fresh.length)}
}

/** The lines for a person: the count, one line per file and per bad file, the groups added, what comes next. */
function importReport(result: ImportResult, fresh: number): string[] {
  const {dry_run: dryRun, anime, already_imported: already, bad, groups_added: addedGroups} = result
  const text = [
    `${dryRun ? 'dry run: would import' : 'imported'} ${fresh} episode(s) of "${anime.title}" (${animeIdLabel(anime.mal_id)})` +
      `${already ? `, ${already} already imported` : ''}${bad.length ? `, ${bad.length} bad file(s) skipped` : ''}`,
  ]
  for (const p of result.files)
    text.push(`  ep ${String(p.episode).padStart(3)}  ${p.status.padEnd(16)} ${printable(path.basename(p.file))} (${p.format}, ${p.encoding}, ${p.cues} cues)`)
  for (const b of bad) text.push(`  bad      ${printable(path.basename(b.file))}: ${b.error}`)
  if (addedGroups.length > 0)
    text.push(
      `${dryRun ? 'would add' : 'added'} to "${anime.title}": ${addedGroups.join(', ')}${dryRun ? '' : ' (`animezipf analyze --force` recomputes the group figures)'}`,
    )
  if (fresh > 0 && !dryRun) text.push('next: `animezipf tokenize`')
  return text
}

/** What an import writes: the anime, every parsed file (for the episode count), the fresh ones, their digests. */
interface ImportWrite {
  record: AnimeRecord
  isNew: boolean
  parsed: Parsed[]
  fresh: Parsed[]
  hashes: Map<Parsed, string>
  /** The files written so far, for the caller to take back if the transaction fails. */
  written: string[]
}

/** Write an import's rows and files (inside the caller's transaction); returns the anime's record with its id. */
async function writeImport(ctx: AppContext, queue: Queue, w: ImportWrite): Promise<AnimeRecord> {
  const {paths, config} = ctx
  let {record} = w
  if (w.isNew) {
    // a new title: its local id is allocated and its row inserted in one step no other import can interleave
    const local = await queue.anime.findOrCreateLocal(record)
    record = {...record, mal_id: local.row.mal_id}
  }
  const animeId = await queue.anime.upsert(record)
  for (const g of record.genres ?? []) await queue.anime.addCategory(animeId, 'genre', g, null, null)
  for (const s of record.studios ?? []) await queue.anime.addCategory(animeId, 'studio', s, null, null)
  const maxEpisode = w.parsed.reduce((m, p) => Math.max(m, p.episode!), record.episodes_total ?? 0)
  if (!record.episodes_total) await queue.anime.fillEpisodesTotal(animeId, maxEpisode)
  writeAnimeMetadata(paths.metadataFile(record.mal_id), {...record, episodes_total: record.episodes_total ?? maxEpisode})
  const compress = config.output.compress
  const jobs: NewJob[] = []
  // files first (atomically), rows after: a row never points at a file that is not there
  for (const p of w.fresh) {
    const transcript: Transcript = {
      anime_id: record.mal_id,
      episode: p.episode!,
      duration_seconds: p.format === 'text' ? null : Math.round(p.cues.reduce((m, c) => Math.max(m, c.end), 0)),
      language: 'ja',
      model: 'subtitles',
      source: {kind: p.format === 'text' ? 'text' : 'subtitles', file: path.basename(p.file), format: p.format, encoding: p.encoding},
      segments: p.cues.map((c, i) => ({id: i, start: c.start, end: c.end, text: c.text, confidence: null})),
      transcribed_at: new Date().toISOString(),
    }
    const jsonFile = paths.transcriptJson(record.mal_id, p.episode!, compress)
    const txtFile = paths.transcriptTxt(record.mal_id, p.episode!, compress)
    w.written.push(jsonFile, txtFile)
    const bytes = writeTextFile(jsonFile, JSON.stringify(transcript)) + writeTextFile(txtFile, transcriptText(transcript))
    jobs.push({
      animeId,
      malId: record.mal_id,
      animeTitle: record.title,
      animeTitleEnglish: record.title_english ?? null,
      episode: p.episode!,
      stage: 'transcribed',
      year: record.year ?? null,
      fields: {
        transcript_path: paths.relative(jsonFile),
        transcript_size_bytes: bytes,
        duration_seconds: transcript.duration_seconds,
        content_hash: w.hashes.get(p)!,
      },
    })
  }
  await queue.jobs.enqueue(jobs, config.queue.max_retries)
  return record
}
