// A local stand-in of the Anthropic Messages API (POST /v1/messages), reached by the real SDK
// through ANTHROPIC_BASE_URL. Replies are scripted per anime: the first line of the prompt that
// names a scripted title picks the script; each request takes the script's next step. An error step
// with `echoKey` repeats the API key it was sent in its message, as a proxy echoing request headers may.
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

export type Step = {tool: Record<string, unknown>} | {text: string} | {status: 429 | 529 | 500 | 400 | 401; retryAfterMs?: number; echoKey?: boolean}

export interface RecordedRequest {
  headers: IncomingMessage['headers']
  body: {
    model: string
    max_tokens: number
    tools?: {name: string; input_schema: {properties: Record<string, unknown>; required: string[]}}[]
    tool_choice?: {type: string; name?: string}
    messages: {role: string; content: string}[]
  }
  prompt: string
  replied: number
  usage?: {input_tokens: number; output_tokens: number}
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
}

export class AnthropicStandIn {
  readonly requests: RecordedRequest[] = []
  private readonly scripts = new Map<string, Step[]>()
  private server: Server | undefined
  /** The API key the server accepts (any other is 401, as the real API answers). */
  constructor(readonly apiKey: string) {}

  script(title: string, steps: Step[]): void {
    this.scripts.set(title, [...steps])
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`
  }

  /** Token totals of the replies that carried usage (what the caller should have been billed). */
  get billed(): {input: number; output: number} {
    return this.requests.reduce((t, r) => ({input: t.input + (r.usage?.input_tokens ?? 0), output: t.output + (r.usage?.output_tokens ?? 0)}), {
      input: 0,
      output: 0,
    })
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = ''
    for await (const chunk of req) raw += chunk
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {'content-type': 'application/json', 'request-id': `req_${this.requests.length}`, ...headers})
      res.end(JSON.stringify(body))
    }
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') {
      send(404, {type: 'error', error: {type: 'not_found_error', message: `${req.method} ${req.url}`}})
      return
    }
    const body = JSON.parse(raw) as RecordedRequest['body']
    const prompt = typeof body.messages?.[0]?.content === 'string' ? body.messages[0].content : JSON.stringify(body.messages)
    const record: RecordedRequest = {headers: req.headers, body, prompt, replied: 0}
    this.requests.push(record)
    // the key comes as x-api-key or as a bearer token (newer SDKs); a request without anthropic-version is refused too
    const key = req.headers['x-api-key'] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (key !== this.apiKey) {
      record.replied = 401
      send(401, {type: 'error', error: {type: 'authentication_error', message: 'invalid x-api-key'}})
      return
    }
    if (!req.headers['anthropic-version']) {
      record.replied = 400
      send(400, {type: 'error', error: {type: 'invalid_request_error', message: 'anthropic-version header is required'}})
      return
    }
    const title = [...this.scripts.keys()].find((t) => prompt.includes(`title: ${t}\n`))
    const step = title ? this.scripts.get(title)!.shift() : undefined
    if (!step) {
      record.replied = 500
      send(500, {type: 'error', error: {type: 'api_error', message: `no scripted reply for this prompt: ${prompt.slice(0, 80)}`}})
      return
    }
    if ('status' in step) {
      record.replied = step.status
      const message = step.echoKey ? `upstream refused the request with headers x-api-key: ${String(key)}` : `scripted ${step.status}`
      send(
        step.status,
        {type: 'error', error: {type: ERROR_TYPES[step.status], message}},
        step.retryAfterMs === undefined ? {} : {'retry-after-ms': String(step.retryAfterMs)},
      )
      return
    }
    // billed like the real API: a figure per request, roughly a token per four bytes of prompt
    const usage = {input_tokens: 300 + Math.ceil(Buffer.byteLength(prompt) / 4), output_tokens: 'tool' in step ? 60 : 25}
    record.usage = usage
    record.replied = 200
    const content =
      'tool' in step
        ? [{type: 'tool_use', id: `toolu_${this.requests.length}`, name: body.tool_choice?.name ?? 'record_selection', input: step.tool}]
        : [{type: 'text', text: step.text}]
    send(200, {
      id: `msg_${this.requests.length}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content,
      stop_reason: 'tool' in step ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage,
    })
  }
}
