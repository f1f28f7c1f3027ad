import {existsSync, readFileSync, statSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import type {DataPaths} from '../../paths.js'
import {writeFileAtomic} from '../../util/atomic.js'
import {Pacer, type PaceLimit} from './pacer.js'
import {backoffDelay} from '../../util/backoff.js'
import {counted} from '../../util/text.js'

/** An answer of the API that retrying will not change (404, 400, a body without the fields we need). */
export class JikanError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly transient: boolean,
  ) {
    super(message)
    this.name = 'JikanError'
  }
}

export interface JikanClientOptions {
  baseUrl: string
  limits: readonly PaceLimit[]
  maxRetries: number
  backoffBaseMs: number
  backoffMaxMs: number
  timeoutMs: number
  paths: DataPaths
  cacheTtlMs: number
  /** Ignore the cache (still refresh it unless writeCache is false). */
  refresh: boolean
  /** False for --dry-run: read the cache, write nothing. */
  writeCache: boolean
  random?: () => number
  log?: (message: string) => void
}

export interface ClientStats {
  requests: number
  cached: number
  retries: number
}

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504])

/** Seconds or an HTTP date, as Retry-After may carry. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** A cache file name a person can read: anime_5114, anime_q_genres=1_page=2, ... */
export function cacheKey(path: string, query: Record<string, string | number>): string {
  const q = Object.keys(query)
    .sort()
    .map((k) => `${k}=${query[k]}`)
    .join('_')
  const base = path.replace(/^\/+/, '').replaceAll('/', '_')
  return `${base}${q ? `_q_${q}` : ''}`.replaceAll(/[^\w=.-]+/g, '_').slice(0, 200)
}

/**
 * The Jikan v4 client: every request of the process paced under all limits at once, retried with
 * exponential backoff and jitter (Retry-After honoured), error bodies sent with HTTP 200 treated as
 * errors, and every successful response cached on disk so a repeated scrape makes no request.
 */
export class JikanClient {
  readonly stats: ClientStats = {requests: 0, cached: 0, retries: 0}
  private readonly pacer: Pacer
  private readonly random: () => number

  constructor(private readonly options: JikanClientOptions) {
    this.pacer = new Pacer(options.limits)
    this.random = options.random ?? Math.random
  }

  url(path: string, query: Record<string, string | number> = {}): string {
    const u = new URL(this.options.baseUrl.replace(/\/+$/, '') + path)
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v))
    return u.toString()
  }

  async get(path: string, query: Record<string, string | number> = {}): Promise<Record<string, unknown>> {
    const url = this.url(path, query)
    const cacheFile = this.options.paths.malCacheFile(cacheKey(path, query))
    if (!this.options.refresh && existsSync(cacheFile) && Date.now() - statSync(cacheFile).mtimeMs < this.options.cacheTtlMs) {
      try {
        const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as {body: Record<string, unknown>}
        this.stats.cached++
        return cached.body
      } catch {
        // a damaged cache file is fetched again
      }
    }
    const body = await this.fetchWithRetries(url)
    if (this.options.writeCache) writeFileAtomic(cacheFile, JSON.stringify({url, fetched_at: new Date().toISOString(), body}))
    return body
  }

  private async fetchWithRetries(url: string): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fetchOnce(url)
      } catch (error) {
        const e = error instanceof JikanError ? error : new JikanError(`${(error as Error).message}`, url, undefined, true)
        const retries = (e as JikanError & {unresolved?: boolean}).unresolved ? Math.min(1, this.options.maxRetries) : this.options.maxRetries
        if (!e.transient || attempt >= retries) {
          throw new JikanError(`${e.message}${e.transient ? ` (gave up after ${counted(attempt + 1, 'attempt')})` : ''}`, url, e.status, e.transient)
        }
        const wait =
          (e as JikanError & {retryAfterMs?: number}).retryAfterMs ??
          backoffDelay(attempt + 1, {baseMs: this.options.backoffBaseMs, maxMs: this.options.backoffMaxMs, random: this.random})
        this.stats.retries++
        this.options.log?.(`${url}: ${e.message}; retry ${attempt + 1}/${retries} in ${(wait / 1000).toFixed(1)}s`)
        await sleep(wait)
      }
    }
  }

  private async fetchOnce(url: string): Promise<Record<string, unknown>> {
    await this.pacer.take()
    this.stats.requests++
    let response: Response
    try {
      response = await fetch(url, {signal: AbortSignal.timeout(this.options.timeoutMs), headers: {accept: 'application/json', 'user-agent': 'animezipf'}})
    } catch (error) {
      const cause = (error as {cause?: {code?: string}}).cause?.code
      // a name that does not resolve is no network (or no DNS), not a busy server: retried once, not with the full backoff
      if (cause === 'ENOTFOUND' || cause === 'EAI_AGAIN')
        throw Object.assign(new JikanError(`cannot resolve ${new URL(url).hostname} (${cause}): no network, or no DNS`, url, undefined, true), {
          unresolved: true,
        })
      throw new JikanError(`network error: ${cause ?? (error as Error).message}`, url, undefined, true)
    }
    const text = await response.text().catch(() => '')
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      const err = new JikanError(
        `HTTP ${response.status} with a body that is not JSON (${text.length} bytes, truncated or an HTML error page)`,
        url,
        response.status,
        true,
      )
      if (response.status === 404) throw new JikanError('not found (HTTP 404)', url, 404, false)
      throw Object.assign(err, {retryAfterMs: retryAfterMs(response.headers.get('retry-after'))})
    }
    const b = body as Record<string, unknown>
    // Jikan sometimes sends its error body with HTTP 200: the body's status and type say so
    const bodyStatus = Number(b.status)
    const isErrorBody =
      typeof b === 'object' &&
      b !== null &&
      b.type !== undefined &&
      (b.error !== undefined || b.message !== undefined || b.messages !== undefined) &&
      !('data' in b)
    const status = !response.ok ? response.status : isErrorBody ? (Number.isFinite(bodyStatus) ? bodyStatus : 500) : 200
    if (status !== 200) {
      const what = [b.type, b.message ?? b.error ?? (b.messages ? JSON.stringify(b.messages) : undefined)].filter(Boolean).join(': ')
      const transient = TRANSIENT_STATUS.has(status)
      const err = new JikanError(`HTTP ${status}${response.ok ? ' (error body sent with HTTP 200)' : ''}${what ? ` ${what}` : ''}`, url, status, transient)
      throw Object.assign(err, {retryAfterMs: retryAfterMs(response.headers.get('retry-after'))})
    }
    if (typeof b !== 'object' || b === null || !('data' in b)) throw new JikanError('response has no "data" field', url, 200, false)
    return b
  }
}
