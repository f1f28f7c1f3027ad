// A local stand-in for the Jikan v4 API: the real response shapes, pagination, filters and failure
// modes (429 bursts, UpstreamException 500s, error bodies sent with HTTP 200, truncated JSON).
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

interface Named {
  mal_id: number
  type: string
  name: string
  url: string
}

export interface FakeAnime {
  mal_id: number
  title: string
  score: number | null
  episodes: number | null
  type?: string
  status?: string
  genres?: number[]
  themes?: number[]
  demographics?: number[]
  studios?: number[]
  licensors?: number[]
  producers?: number[]
  aired?: number
  recaps?: number[]
  /** MyAnimeList's duration text; 'Unknown' as the real API says it for shows without one */
  duration?: string
}

export const GENRES: Record<string, {id: number; name: string}[]> = {
  genres: [
    {id: 1, name: 'Action'},
    {id: 8, name: 'Drama'},
    {id: 4, name: 'Comedy'},
  ],
  explicit_genres: [{id: 12, name: 'Hentai'}],
  themes: [{id: 38, name: 'Military'}],
  demographics: [{id: 27, name: 'Shounen'}],
}

export const PRODUCERS = [
  {id: 17, name: 'Aniplex', count: 900},
  {id: 4, name: 'Bones', count: 150},
  {id: 11, name: 'Madhouse', count: 120},
]

/** 40 anime: score ties across page boundaries, many in several categories, one airing, one unscored... */
export function defaultAnime(): FakeAnime[] {
  const list: FakeAnime[] = []
  for (let i = 1; i <= 36; i++) {
    list.push({
      mal_id: 1000 + i,
      title: `Show "${i}" 's story`,
      // ties: pairs share a score
      score: Math.round((9.2 - Math.floor((i - 1) / 2) * 0.05) * 100) / 100,
      episodes: 12 + (i % 3),
      genres: [i % 2 === 0 ? 1 : 8, ...(i % 5 === 0 ? [4] : [])],
      themes: i % 4 === 0 ? [38] : [],
      demographics: i % 3 === 0 ? [27] : [],
      studios: [i % 2 === 0 ? 4 : 11],
      licensors: [17],
    })
  }
  list.push({
    mal_id: 21,
    title: 'Endless Voyage',
    score: 9.45,
    episodes: null,
    status: 'Currently Airing',
    genres: [1],
    studios: [4],
    aired: 130,
    recaps: [54, 55],
  })
  list.push({mal_id: 30, title: 'Unrated Thing', score: null, episodes: 12, genres: [1], studios: [4]})
  list.push({mal_id: 31, title: 'Licensed Only', score: 9.5, episodes: 10, genres: [8], studios: [11], licensors: [4]})
  list.push({mal_id: 32, title: 'A Movie', score: 9.0, episodes: 1, type: 'Movie', genres: [8], studios: [4]})
  return list
}

function named(ids: number[] | undefined, kind: string, names: Map<number, string>): Named[] {
  return (ids ?? []).map((id) => ({mal_id: id, type: kind, name: names.get(id) ?? `#${id}`, url: `https://myanimelist.net/${kind}/${id}`}))
}

export interface Scenario {
  /** the first N requests of the run answer 429 */
  burst429?: number
  retryAfterSeconds?: number
  /** answer once with 500 UpstreamException for the first path (with query) containing this */
  upstream500Once?: string
  /** answer once with an error body sent with HTTP 200 */
  errorBody200Once?: string
  /** answer once with a truncated JSON body */
  truncatedOnce?: string
  /** always answer 400 for a path (with query) containing this: a permanent error */
  permanent400?: string
  /** anime items without a title (a response missing what the pipeline needs) */
  dropTitles?: boolean
  /** more requests than this in any 1 s is answered 429, as the real API does */
  perSecondLimit?: number
  /** more requests than this in any 60 s is answered 429 (Jikan's per-minute limit) */
  perMinuteLimit?: number
  /** never answer, once, a path containing this (the client's request timeout must end it) */
  hangOnce?: string
  /** answer once with this status and a plain HTML page (a proxy or Cloudflare in front of the API) */
  htmlStatusOnce?: {path: string; status: number}
}

export class FakeJikan {
  readonly requests: {t: number; path: string; status: number}[] = []
  private server: Server | undefined
  private fired = new Set<string>()
  scenario: Scenario = {}
  anime: FakeAnime[] = defaultAnime()

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v4`
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()))
  }

  private names(): Map<number, string> {
    const m = new Map<number, string>()
    for (const list of Object.values(GENRES)) for (const g of list) m.set(g.id, g.name)
    return m
  }

  private item(a: FakeAnime) {
    const genreNames = this.names()
    const producerNames = new Map(PRODUCERS.map((p) => [p.id, p.name]))
    return {
      mal_id: a.mal_id,
      url: `https://myanimelist.net/anime/${a.mal_id}`,
      titles: [{type: 'Default', title: a.title}],
      title: this.scenario.dropTitles ? undefined : a.title,
      title_english: `${a.title} (EN)`,
      title_japanese: 'テスト',
      title_synonyms: [],
      type: a.type ?? 'TV',
      source: 'Original',
      episodes: a.episodes,
      status: a.status ?? 'Finished Airing',
      airing: a.status === 'Currently Airing',
      aired: {from: '2020-04-01T00:00:00+00:00', to: null, prop: {}, string: 'Apr 2020 to ?'},
      duration: a.duration ?? (a.type === 'Movie' ? '1 hr 52 min' : '24 min per ep'),
      rating: 'PG-13 - Teens 13 or older',
      score: a.score,
      scored_by: a.score ? 1000 : null,
      rank: a.score ? 10 : null,
      popularity: 100,
      members: 5000,
      favorites: 10,
      season: 'spring',
      year: 2020,
      producers: named(a.producers, 'anime', producerNames),
      licensors: named(a.licensors, 'anime', producerNames),
      studios: named(a.studios, 'anime', producerNames),
      genres: named(a.genres, 'anime', genreNames),
      explicit_genres: [],
      themes: named(a.themes, 'anime', genreNames),
      demographics: named(a.demographics, 'anime', genreNames),
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
    res.writeHead(status, {'content-type': 'application/json', ...headers})
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
    return status
  }

  private once(key: string | undefined, path: string): boolean {
    if (!key || !path.includes(key) || this.fired.has(key)) return false
    this.fired.add(key)
    return true
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname.replace(/^\/v4/, '')
    const full = path + url.search
    const now = Date.now()
    const recent = this.requests.filter((r) => r.t > now - 1000).length
    const lastMinute = this.requests.filter((r) => r.t > now - 60_000).length
    const s = this.scenario
    let status: number
    if (this.once(s.hangOnce, full)) {
      // hold the connection open and say nothing
      this.requests.push({t: now, path: full, status: 0})
      return
    }
    if (s.htmlStatusOnce && this.once(s.htmlStatusOnce.path, full)) {
      res.writeHead(s.htmlStatusOnce.status, {'content-type': 'text/html'})
      res.end(`<!DOCTYPE html><html><head><title>${s.htmlStatusOnce.status}</title></head><body><h1>Bad Gateway</h1><p>cloudflare</p></body></html>`)
      this.requests.push({t: now, path: full, status: s.htmlStatusOnce.status})
      return
    }
    if (s.burst429 && this.requests.length < s.burst429) {
      status = this.send(
        res,
        429,
        {status: 429, type: 'RateLimitException', message: 'You are being rate-limited.', error: null},
        s.retryAfterSeconds ? {'retry-after': String(s.retryAfterSeconds)} : {},
      )
    } else if ((s.perSecondLimit && recent >= s.perSecondLimit) || (s.perMinuteLimit && lastMinute >= s.perMinuteLimit)) {
      status = this.send(res, 429, {status: 429, type: 'RateLimitException', message: 'You are being rate-limited.', error: null})
    } else if (s.permanent400 && full.includes(s.permanent400)) {
      status = this.send(res, 400, {
        status: 400,
        type: 'ValidationException',
        messages: {page: ['The page must be at least 1.']},
        error: 'Invalid or incomplete request.',
      })
    } else if (this.once(s.upstream500Once, full)) {
      status = this.send(res, 500, {
        status: 500,
        type: 'UpstreamException',
        message: 'Request to MyAnimeList.net has failed. The upstream server has returned a non-successful status code.',
        error: 'Internal Server Error',
      })
    } else if (this.once(s.errorBody200Once, full)) {
      status = this.send(res, 200, {status: 504, type: 'UpstreamException', message: 'Request to MyAnimeList.net timed out', error: 'Gateway Timeout'})
    } else if (this.once(s.truncatedOnce, full)) {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end('{"pagination":{"last_visible_page":2,"has_next_page":tr')
      status = 200
    } else {
      status = this.route(path, url.searchParams, res)
    }
    this.requests.push({t: now, path: full, status})
  }

  private route(path: string, q: URLSearchParams, res: ServerResponse): number {
    if (path === '/genres/anime') {
      const list = GENRES[q.get('filter') ?? 'genres'] ?? []
      return this.send(res, 200, {data: list.map((g) => ({mal_id: g.id, name: g.name, url: '', count: 100}))})
    }
    if (path === '/producers') {
      const page = Number(q.get('page') ?? 1)
      const sorted = [...PRODUCERS].sort((a, b) => b.count - a.count)
      const slice = sorted.slice((page - 1) * 2, page * 2)
      return this.send(res, 200, {
        pagination: {last_visible_page: 2, has_next_page: page * 2 < sorted.length},
        data: slice.map((p) => ({
          mal_id: p.id,
          url: '',
          titles: [
            {type: 'Default', title: p.name},
            {type: 'Japanese', title: 'テスト'},
          ],
          favorites: 1,
          established: null,
          about: null,
          count: p.count,
        })),
      })
    }
    const episodes = /^\/anime\/(\d+)\/episodes$/.exec(path)
    if (episodes) {
      const a = this.anime.find((x) => x.mal_id === Number(episodes[1]))
      if (!a) return this.send(res, 404, {status: 404, type: 'BadResponseException', message: 'Resource does not exist', error: '404 on ...'})
      const total = a.aired ?? a.episodes ?? 0
      const page = Number(q.get('page') ?? 1)
      const eps = Array.from({length: total}, (_, i) => i + 1).slice((page - 1) * 100, page * 100)
      return this.send(res, 200, {
        pagination: {last_visible_page: Math.ceil(total / 100), has_next_page: page * 100 < total},
        data: eps.map((e) => ({mal_id: e, url: null, title: `Episode ${e}`, aired: null, score: null, filler: false, recap: (a.recaps ?? []).includes(e)})),
      })
    }
    const one = /^\/anime\/(\d+)$/.exec(path)
    if (one) {
      const a = this.anime.find((x) => x.mal_id === Number(one[1]))
      if (!a)
        return this.send(res, 404, {
          status: 404,
          type: 'BadResponseException',
          message: 'Resource does not exist',
          error: '404 on https://myanimelist.net/anime/',
        })
      return this.send(res, 200, {data: this.item(a)})
    }
    if (path === '/anime') {
      const limit = Number(q.get('limit') ?? 25)
      if (limit > 25)
        return this.send(res, 400, {
          status: 400,
          type: 'ValidationException',
          messages: {limit: ['The limit may not be greater than 25.']},
          error: 'Invalid or incomplete request.',
        })
      const page = Number(q.get('page') ?? 1)
      const genre = q.get('genres')
      const producer = q.get('producers')
      const type = q.get('type')
      let list = this.anime.filter((a) => {
        if (genre && ![...(a.genres ?? []), ...(a.themes ?? []), ...(a.demographics ?? [])].includes(Number(genre))) return false
        if (producer && ![...(a.studios ?? []), ...(a.licensors ?? []), ...(a.producers ?? [])].includes(Number(producer))) return false
        if (type && (a.type ?? 'TV').toLowerCase() !== type) return false
        return true
      })
      // score descending; unscored last; ties in no stable order, as on the real API
      list = list.sort((a, b) => (b.score ?? -1) - (a.score ?? -1))
      const start = (page - 1) * limit
      // ties repeat across pages: the page starts with the previous page's last item
      const slice = page > 1 ? list.slice(start - 1, start - 1 + limit) : list.slice(0, limit)
      return this.send(res, 200, {
        pagination: {
          last_visible_page: Math.ceil(list.length / limit),
          has_next_page: start + limit < list.length,
          current_page: page,
          items: {count: slice.length, total: list.length, per_page: limit},
        },
        data: slice.map((a) => this.item(a)),
      })
    }
    return this.send(res, 404, {status: 404, type: 'BadResponseException', message: 'Resource does not exist', error: ''})
  }
}

/** The most requests the server saw in any window of `ms`. */
export function maxInWindow(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b)
  let best = 0
  let lo = 0
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= ms) lo++
    best = Math.max(best, hi - lo + 1)
  }
  return best
}
