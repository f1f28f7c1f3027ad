import {expect} from 'chai'
import path from 'node:path'

import {DataPaths} from '../../src/paths.js'
import {JikanApi} from '../../src/stages/scrape/jikan-api.js'
import {JikanClient, JikanError} from '../../src/stages/scrape/jikan-client.js'
import {FakeJikan} from '../fakes/jikan-server.js'
import {tempDir} from '../helpers.js'

describe('Jikan client against the local stand-in', function () {
  this.timeout(60_000)
  let server: FakeJikan
  let base: string

  beforeEach(async () => {
    server = new FakeJikan()
    base = await server.start()
  })
  afterEach(() => server.stop())

  const client = (over: Partial<ConstructorParameters<typeof JikanClient>[0]> = {}) =>
    new JikanClient({
      baseUrl: base,
      limits: [{count: 50, windowMs: 1000}],
      maxRetries: 4,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      timeoutMs: 5000,
      paths: new DataPaths(path.join(tempDir(), 'data')),
      cacheTtlMs: 3_600_000,
      refresh: false,
      writeCache: true,
      ...over,
    })

  it('paces requests so that a server enforcing the limit never has to refuse one', async () => {
    // the exact spacing under several limits is the pacer's, on a fake clock (pacer.unit.test.ts);
    // here the server refuses (429) what comes faster than 2 a second, and the client, whose window
    // is longer than the server's by a margin for the trip's jitter, is never refused
    server.scenario = {perSecondLimit: 2}
    const c = client({limits: [{count: 2, windowMs: 1500}], maxRetries: 0})
    await Promise.all(Array.from({length: 6}, (_, i) => c.get(`/anime/${1001 + i}`)))
    expect(server.requests.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200, 200])
    expect(c.stats).to.include({requests: 6, retries: 0})
  })

  it('gives up after one retry when the name of the API does not resolve (offline), saying so', async () => {
    // what Node's fetch throws when getaddrinfo fails, without asking any resolver
    const real = globalThis.fetch
    let calls = 0
    globalThis.fetch = (async () => {
      calls++
      throw new TypeError('fetch failed', {cause: Object.assign(new Error('getaddrinfo ENOTFOUND api.jikan.moe'), {code: 'ENOTFOUND'})})
    }) as typeof fetch
    try {
      const said: string[] = []
      const err = await client({baseUrl: 'https://api.jikan.moe/v4', maxRetries: 7, log: (m) => said.push(m)})
        .get('/anime/1001')
        .catch((e: unknown) => e)
      expect(err).to.be.instanceOf(JikanError)
      expect((err as JikanError).transient).to.equal(true)
      expect((err as Error).message).to.equal('cannot resolve api.jikan.moe (ENOTFOUND): no network, or no DNS (gave up after 2 attempts)')
      expect(calls).to.equal(2)
      expect(said).to.have.length(1)
      expect(said[0]).to.match(/retry 1\/1 in/)
      // with no retry allowed, one attempt, said in the singular
      const once = await client({baseUrl: 'https://api.jikan.moe/v4', maxRetries: 0})
        .get('/anime/1002')
        .catch((e: unknown) => e)
      expect((once as Error).message).to.match(/\(gave up after 1 attempt\)$/)
    } finally {
      globalThis.fetch = real
    }
  })

  it('retries a 429 burst with backoff, then succeeds', async () => {
    server.scenario = {burst429: 3}
    const c = client()
    const body = await c.get('/anime/1001')
    expect((body.data as {mal_id: number}).mal_id).to.equal(1001)
    expect(c.stats).to.include({requests: 4, retries: 3})
    expect(server.requests.map((r) => r.status)).to.deep.equal([429, 429, 429, 200])
  })

  it('honours Retry-After', async () => {
    // the wait the client chose, as it says it: the server's second, not its own backoff (20-200 ms)
    server.scenario = {burst429: 1, retryAfterSeconds: 1}
    const said: string[] = []
    await client({log: (m) => said.push(m)}).get('/anime/1002')
    expect(server.requests.map((r) => r.status)).to.deep.equal([429, 200])
    expect(said).to.have.length(1)
    expect(said[0]).to.match(/HTTP 429 .*; retry 1\/4 in 1\.0s$/)
  })

  it('retries a 500 UpstreamException, an error body sent with HTTP 200 and a truncated body', async () => {
    server.scenario = {upstream500Once: '/anime/1003', errorBody200Once: '/anime/1004', truncatedOnce: '/anime/1005'}
    const c = client()
    for (const id of [1003, 1004, 1005]) expect(((await c.get(`/anime/${id}`)).data as {mal_id: number}).mal_id).to.equal(id)
    expect(c.stats.retries).to.equal(3)
    expect(server.requests.map((r) => r.status)).to.deep.equal([500, 200, 200, 200, 200, 200])
  })

  it('ends a request the server never answers at the timeout, and tries again', async () => {
    server.scenario = {hangOnce: '/anime/1003'}
    const c = client({timeoutMs: 500})
    const body = await c.get('/anime/1003')
    expect((body.data as {mal_id: number}).mal_id).to.equal(1003)
    expect(server.requests.map((r) => r.status)).to.deep.equal([0, 200])
    expect(c.stats).to.include({retries: 1})
  })

  for (const status of [502, 503, 504, 408]) {
    it(`retries an HTML error page with HTTP ${status} (a proxy in front of the API)`, async () => {
      server.scenario = {htmlStatusOnce: {path: '/anime/1004', status}}
      const c = client()
      const body = await c.get('/anime/1004')
      expect((body.data as {mal_id: number}).mal_id).to.equal(1004)
      expect(server.requests.map((r) => r.status)).to.deep.equal([status, 200])
    })
  }

  it('retries an HTML page sent with HTTP 200 instead of JSON', async () => {
    server.scenario = {htmlStatusOnce: {path: '/anime/1005', status: 200}}
    const body = await client().get('/anime/1005')
    expect((body.data as {mal_id: number}).mal_id).to.equal(1005)
    expect(server.requests.map((r) => r.status)).to.deep.equal([200, 200])
  })

  it('stays under a per-minute limit the server enforces, by its own count', async () => {
    server.scenario = {perMinuteLimit: 5}
    // the client's minute is the server's: five requests, then the sixth waits for the window
    const c = client({limits: [{count: 5, windowMs: 60_000}]})
    await Promise.all(Array.from({length: 5}, (_, i) => c.get(`/anime/${1001 + i}`)))
    expect(server.requests.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200])
    // a client that ignores it is told so, and backs off
    server.scenario = {perMinuteLimit: 5}
    const greedy = client({limits: [{count: 50, windowMs: 1000}], maxRetries: 0})
    let error: JikanError | undefined
    try {
      await greedy.get('/anime/1010')
    } catch (e) {
      error = e as JikanError
    }
    expect(error?.status).to.equal(429)
    expect(error?.transient).to.equal(true)
  })

  it('gives up on a permanent error at once, naming the URL', async () => {
    const c = client()
    const error = await c.get('/anime/999999').catch((e: unknown) => e)
    expect(error).to.be.instanceOf(JikanError)
    expect((error as JikanError).transient).to.equal(false)
    expect((error as JikanError).url).to.contain('/anime/999999')
    expect(server.requests).to.have.length(1)
  })

  it('gives up on a transient error after max_retries', async () => {
    server.scenario = {burst429: 100}
    const error = await client({maxRetries: 2})
      .get('/anime/1001')
      .catch((e: unknown) => e)
    expect((error as JikanError).transient).to.equal(true)
    expect((error as Error).message).to.match(/gave up after 3 attempts/)
    expect(server.requests).to.have.length(3)
  })

  it('a response without the fields the pipeline needs is a permanent error naming the URL', async () => {
    server.scenario = {dropTitles: true}
    const api = new JikanApi(client())
    const error = await api.searchPage({genres: 1, page: 1}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(JikanError)
    expect((error as JikanError).transient).to.equal(false)
    expect((error as Error).message).to.match(/anime \d+ has no "title"/)
    expect((error as JikanError).url).to.match(/\/anime\?genres=1&page=1$/)
  })

  it('serves a repeated request from its disk cache; refresh ignores the cache', async () => {
    const paths = new DataPaths(path.join(tempDir(), 'data'))
    const a = client({paths})
    await a.get('/anime', {genres: 1, page: 1})
    await a.get('/anime', {genres: 1, page: 1})
    expect(a.stats).to.include({requests: 1, cached: 1})
    const b = client({paths})
    await b.get('/anime', {page: 1, genres: 1})
    expect(b.stats).to.include({requests: 0, cached: 1})
    const c = client({paths, refresh: true})
    await c.get('/anime', {genres: 1, page: 1})
    expect(c.stats.requests).to.equal(1)
    expect(server.requests).to.have.length(2)
  })
})
