import type {AppContext} from '../app/context.js'
import type {Check} from './doctor.js'

/**
 * `doctor --stage scrape`: one request to the Jikan API ([scrape] base_url), so that "ready" means
 * reachable. Any HTTP answer means the network and the name work; no answer says why (the
 * resolver's or the socket's code).
 */
export async function jikanCheck(ctx: AppContext): Promise<Check> {
  const base = ctx.config.scrape.base_url.replace(/\/+$/, '')
  const host = new URL(base).host
  const fix = 'check the network (scrape needs it), or [scrape] base_url'
  try {
    const r = await fetch(`${base}/anime/1`, {signal: AbortSignal.timeout(10_000), headers: {accept: 'application/json', 'user-agent': 'animezipf'}})
    await r.body?.cancel()
    if (r.status >= 500)
      return {name: 'Jikan API', status: 'warn', detail: `${host} answered HTTP ${r.status} (the API is up but failing; scrape retries)`, stages: ['scrape']}
    return {name: 'Jikan API', status: 'ok', detail: `${host} answered (HTTP ${r.status})`, stages: ['scrape']}
  } catch (error) {
    const e = error as {name?: string; cause?: {code?: string}; message?: string}
    const why = e.name === 'TimeoutError' ? 'no answer in 10 s' : (e.cause?.code ?? e.message ?? 'unknown error')
    return {name: 'Jikan API', status: 'fail', detail: `cannot reach ${host}: ${why}`, fix, stages: ['scrape']}
  }
}
