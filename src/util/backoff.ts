/** Exponential backoff with jitter, shared by the job queue and the HTTP clients. */
export interface Backoff {
  baseMs: number
  maxMs: number
  /** 0..1, for tests; Math.random by default. */
  random?: () => number
}

/** The wait before retry number `retry` (1 = the first retry): between half and all of base * 2^(retry-1), capped. */
export function backoffDelay(retry: number, backoff: Backoff): number {
  const exp = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, retry - 1))
  const r = (backoff.random ?? Math.random)()
  return Math.round(exp * (0.5 + r / 2))
}
