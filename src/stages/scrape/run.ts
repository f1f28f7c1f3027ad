import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {EXIT, UserError} from '../../errors.js'
import {writeAnimeMetadata} from '../../formats/metadata.js'
import type {Queue} from '../../queue/index.js'
import type {AnimeRecord, NewJob} from '../../queue/rows.js'
import {type AnimeItem, type Category, type CategoryKind, JikanApi, toRecord} from './jikan-api.js'
import {JikanClient, JikanError} from './jikan-client.js'

export interface ScrapeOptions {
  limit?: number | undefined
  categories: string[]
  malId?: number | undefined
  refresh: boolean
  dryRun: boolean
}

interface Listed {
  category: Category
  anime: AnimeItem[]
  pages: number
}

const KIND_NAMES: Record<string, CategoryKind> = {
  genre: 'genre',
  genres: 'genre',
  theme: 'theme',
  themes: 'theme',
  demographic: 'demographic',
  demographics: 'demographic',
  studio: 'studio',
  studios: 'studio',
  explicit: 'explicit_genre',
  explicit_genre: 'explicit_genre',
}

/** --category KIND:NAME -> kind and name, or a one-line error. */
export function parseCategoryFlag(value: string): {kind: CategoryKind; name: string} {
  const at = value.indexOf(':')
  const kind = KIND_NAMES[value.slice(0, at).trim().toLowerCase()]
  const name = value.slice(at + 1).trim()
  if (at < 0 || !kind || !name)
    throw new UserError(
      `--category ${JSON.stringify(value)} is not KIND:NAME`,
      'e.g. --category genre:Action, theme:Military, demographic:Shounen, studio:Bones',
    )
  return {kind, name}
}

export function createJikan(ctx: AppContext, options: {refresh: boolean; dryRun: boolean; maxRetries?: number; timeoutMs?: number}): JikanApi {
  const s = ctx.config.scrape
  const client = new JikanClient({
    baseUrl: s.base_url,
    // windows a little longer than the nominal second and minute: the pace stays under the documented limits
    limits: [
      {count: s.requests_per_second, windowMs: 1100},
      {count: s.requests_per_minute, windowMs: 63_000},
    ],
    maxRetries: options.maxRetries ?? s.max_retries,
    backoffBaseMs: s.backoff_base_ms,
    backoffMaxMs: s.backoff_max_ms,
    timeoutMs: options.timeoutMs ?? s.timeout_seconds * 1000,
    paths: ctx.paths,
    cacheTtlMs: s.cache_ttl_hours * 3_600_000,
    refresh: options.refresh,
    writeCache: !options.dryRun,
    log: (m) => ctx.output.log(m),
  })
  return new JikanApi(client)
}

async function categoriesToRead(api: JikanApi, ctx: AppContext, wanted: {kind: CategoryKind; name: string}[]): Promise<Category[]> {
  const s = ctx.config.scrape
  const kinds = new Set<CategoryKind>(wanted.length > 0 ? wanted.map((w) => w.kind) : (s.kinds as CategoryKind[]))
  if (wanted.length === 0 && s.include_explicit_genres && kinds.has('genre')) kinds.add('explicit_genre')
  const all: Category[] = []
  for (const kind of ['genre', 'explicit_genre', 'theme', 'demographic'] as const) if (kinds.has(kind)) all.push(...(await api.genreCategories(kind)))
  if (kinds.has('studio')) all.push(...(await api.topProducers(s.top_studios)))
  if (wanted.length === 0) return all
  return wanted.map((w) => {
    const found = all.find((c) => c.kind === w.kind && c.name.toLowerCase() === w.name.toLowerCase())
    if (!found) {
      const names = all.filter((c) => c.kind === w.kind).map((c) => c.name)
      throw new UserError(
        `no ${w.kind} named "${w.name}"`,
        `known: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}${w.kind === 'studio' ? ` (studios: the top ${s.top_studios} producers)` : ''}`,
      )
    }
    return found
  })
}

/** The top N anime of a category, deduplicated across pages (score ties repeat items). */
async function topOfCategory(api: JikanApi, ctx: AppContext, category: Category, n: number): Promise<Listed> {
  const s = ctx.config.scrape
  const types = new Set(s.types.map((t) => t.toLowerCase()))
  const ascending = s.order_by === 'popularity' || s.order_by === 'rank'
  const seen = new Set<number>()
  const anime: AnimeItem[] = []
  let pages = 0
  for (let page = 1; anime.length < n; page++) {
    const query: Record<string, string | number> = {order_by: s.order_by, sort: ascending ? 'asc' : 'desc', limit: 25, page}
    if (category.kind === 'studio') query.producers = category.id
    else query.genres = category.id
    // the API filters one type; several are filtered here
    if (types.size === 1) query.type = [...types][0]!
    const {items, hasNext} = await api.searchPage(query)
    pages++
    for (const a of items) {
      if (seen.has(a.mal_id)) continue
      seen.add(a.mal_id)
      if (category.kind === 'studio' && !a.studios.some((st) => st.mal_id === category.id)) continue // a licensor or producer only
      if (types.size > 1 && !types.has((a.type ?? '').toLowerCase().replaceAll(' ', '_'))) continue
      if (!s.include_unscored && !(a.score !== null && a.score > 0)) continue
      if (anime.length < n) anime.push(a)
    }
    if (!hasNext) break
  }
  return {category, anime, pages}
}

interface EpisodePlan {
  episodes: number
  recaps: Set<number>
  note?: string
}

async function episodePlan(api: JikanApi, ctx: AppContext, a: AnimeItem): Promise<EpisodePlan> {
  if ((a.type ?? '').toLowerCase() === 'movie') return {episodes: 1, recaps: new Set()}
  if (a.status === 'Not yet aired') return {episodes: 0, recaps: new Set(), note: 'not yet aired'}
  if (a.episodes === null || ctx.config.scrape.episode_lists_for_all) {
    const list = await api.episodes(a.mal_id)
    const episodes = a.episodes ?? list.count
    return {episodes, recaps: list.recaps, note: a.episodes === null ? `${list.count} aired so far` : undefined}
  }
  return {episodes: a.episodes, recaps: new Set()}
}

/** `animezipf scrape --json` (the same shape under --dry-run, with `dry_run: true` and what would be stored). */
export interface ScrapeResult {
  dry_run: boolean
  categories_read: number
  anime_found: number
  unique_anime: number
  new_anime: number
  jobs_enqueued: number
  requests: number
  from_cache: number
  retries: number
  categories: {kind: string; name: string; anime: number; pages: number}[]
}

/** The scrape stage's lookup of one anime, for `import --mal-id` (one quick try: import works offline). */
export function animeLookup(ctx: AppContext, dryRun: boolean): (malId: number) => Promise<AnimeRecord | undefined> {
  return async (malId) => {
    const api = createJikan(ctx, {refresh: false, dryRun, maxRetries: 1, timeoutMs: 10_000})
    return toRecord(await api.anime(malId))
  }
}

/** What one scrape carries from list to list: the API, the queue, the figures so far and the anime stored. */
interface ScrapeRun {
  ctx: AppContext
  options: ScrapeOptions
  api: JikanApi
  queue: Queue
  summary: ScrapeResult
  /** mal_id -> anime row id, of the anime stored by this run (-1 under --dry-run) */
  stored: Map<number, number>
}

function emptySummary(dryRun: boolean): ScrapeResult {
  return {
    dry_run: dryRun,
    categories_read: 0,
    anime_found: 0,
    unique_anime: 0,
    new_anime: 0,
    jobs_enqueued: 0,
    requests: 0,
    from_cache: 0,
    retries: 0,
    categories: [],
  }
}

/** `animezipf scrape`: the top anime of every category, stored once each, one job per episode. */
export async function scrape(ctx: AppContext, options: ScrapeOptions): Promise<ServiceResult<ScrapeResult>> {
  const wanted = options.categories.map(parseCategoryFlag)
  const api = createJikan(ctx, options)
  const queue = await ctx.queue({readonly: options.dryRun})
  const run: ScrapeRun = {ctx, options, api, queue, summary: emptySummary(options.dryRun), stored: new Map()}
  try {
    if (options.malId !== undefined) await storeAnime(run, await api.anime(options.malId), undefined, null)
    else await readCategories(run, wanted)
  } catch (error) {
    if (error instanceof JikanError) return stopped(run, error)
    throw error
  }
  const summary = finishSummary(run)
  const text = [
    `${options.dryRun ? 'dry run: would store' : 'scrape:'} ${summary.categories_read} categories read, ${summary.anime_found} anime found, ${summary.unique_anime} unique, ${summary.new_anime} new, ` +
      `${summary.jobs_enqueued} job(s) ${options.dryRun ? 'to enqueue' : 'enqueued'}; ${summary.requests} request(s), ${summary.from_cache} from cache, ${summary.retries} retr${summary.retries === 1 ? 'y' : 'ies'}`,
  ]
  return {code: EXIT.OK, result: summary, text}
}

/** The request figures and the unique count, read into the summary once the run ends. */
function finishSummary(run: ScrapeRun): ScrapeResult {
  const {stats} = run.api.client
  return Object.assign(run.summary, {requests: stats.requests, from_cache: stats.cached, retries: stats.retries, unique_anime: run.stored.size})
}

/** Jikan failed for good: what was stored stays, the exit code says whether to try later. */
function stopped(run: ScrapeRun, error: JikanError): ServiceResult<ScrapeResult> {
  const {options} = run
  const code = error.transient ? EXIT.TRY_LATER : EXIT.JOBS_FAILED
  const kept = options.dryRun ? '' : `; ${run.stored.size} anime stored so far are kept, run again to continue`
  run.ctx.output.warn(`scrape stopped: ${error.url}: ${error.message}${kept}`)
  if (error.status === 404 && options.malId !== undefined)
    throw new UserError(`MyAnimeList has no anime ${options.malId}`, "check the id in the anime's MyAnimeList URL")
  return {code, result: finishSummary(run), text: []}
}

/** Every category's top list, one after the other, each anime stored with its rank there. */
async function readCategories(run: ScrapeRun, wanted: {kind: CategoryKind; name: string}[]): Promise<void> {
  const {ctx, api, summary} = run
  const s = ctx.config.scrape
  const n = run.options.limit ?? s.top_n
  const categories = await categoriesToRead(api, ctx, wanted)
  ctx.output.log(`scrape: ${categories.length} categories, top ${n} of each (${s.order_by}, ${s.types.join('/')})`)
  for (const category of categories) {
    const listed = await topOfCategory(api, ctx, category, n)
    let rank = 0
    for (const a of listed.anime) await storeAnime(run, a, category, ++rank)
    summary.categories_read++
    summary.categories.push({kind: category.kind, name: category.name, anime: listed.anime.length, pages: listed.pages})
    ctx.output.log(`${category.kind} ${category.name}: ${listed.anime.length} anime (${listed.pages} page(s)); ${run.stored.size} unique so far`)
  }
}

/** One anime of a list (or of --anime-id, with no category): stored once per run, its jobs enqueued; later lists add their category. */
async function storeAnime(run: ScrapeRun, a: AnimeItem, category: Category | undefined, rank: number | null): Promise<void> {
  const {ctx, queue, summary, options} = run
  summary.anime_found++
  const known = run.stored.get(a.mal_id)
  if (known !== undefined) {
    if (category && !options.dryRun) await queue.anime.addCategory(known, category.kind, category.name, rank, category.id)
    return
  }
  const isNew = !(await queue.anime.byMalId(a.mal_id))
  const plan = await episodePlan(run.api, ctx, a)
  if (options.dryRun) {
    run.stored.set(a.mal_id, -1)
    if (isNew) summary.new_anime++
    const existing = isNew ? 0 : (await queue.jobs.episodesOf({malId: a.mal_id})).length
    summary.jobs_enqueued += Math.max(0, plan.episodes - existing)
    return
  }
  const record = toRecord(a)
  writeAnimeMetadata(ctx.paths.metadataFile(a.mal_id), {...record, episodes_total: record.episodes_total ?? plan.episodes})
  // the anime, its categories and its jobs appear together or not at all
  const animeId = await queue.transaction(async (q) => {
    const id = await q.anime.upsert(record)
    if (category) await q.anime.addCategory(id, category.kind, category.name, rank, category.id)
    else
      for (const [kind, list] of [
        ['genre', a.genres],
        ['theme', a.themes],
        ['demographic', a.demographics],
        ['studio', a.studios],
      ] as const)
        for (const c of list) await q.anime.addCategory(id, kind, c.name, null, c.mal_id)
    summary.jobs_enqueued += await q.jobs.enqueue(episodeJobs(id, a, plan), ctx.config.queue.max_retries)
    return id
  })
  run.stored.set(a.mal_id, animeId)
  if (isNew) summary.new_anime++
  if (plan.note) ctx.output.debug(`${a.title}: ${plan.note}`)
}

/** One job per episode; recaps last (priority -1). */
function episodeJobs(animeId: number, a: AnimeItem, plan: EpisodePlan): NewJob[] {
  const jobs: NewJob[] = []
  for (let e = 1; e <= plan.episodes; e++) {
    jobs.push({
      animeId,
      malId: a.mal_id,
      animeTitle: a.title,
      animeTitleEnglish: a.title_english,
      episode: e,
      year: a.year,
      priority: plan.recaps.has(e) ? -1 : 0,
    })
  }
  return jobs
}
