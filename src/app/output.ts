import {Chalk, type ChalkInstance} from 'chalk'

import {printable, terminalJson} from '../util/text.js'

export interface OutputOptions {
  json: boolean
  verbose: boolean
  /** Defaults to: stdout is a TTY and NO_COLOR is unset. */
  color?: boolean
  stdout?: NodeJS.WriteStream | NodeJS.WritableStream
  stderr?: NodeJS.WriteStream | NodeJS.WritableStream
}

/** The colour and style codes chalk writes (and nothing else a terminal would obey). */
const SGR = /(\u001B\[[0-9;]*m)/

/**
 * Where a command's words go. Results go to stdout (one JSON object with --json, nothing else
 * there); progress and log lines go to stderr. No ANSI codes unless stdout is a TTY and NO_COLOR is unset.
 * Whatever is written passes through `printable`: a title, a file name or a tool's message holding
 * ESC, a carriage return or a bidi override is shown escaped, never obeyed (only our own colours pass).
 */
export class Output {
  readonly json: boolean
  readonly verbose: boolean
  readonly interactive: boolean
  readonly color: ChalkInstance
  private readonly out: NodeJS.WritableStream
  private readonly err: NodeJS.WritableStream

  constructor(options: OutputOptions) {
    this.out = options.stdout ?? process.stdout
    this.err = options.stderr ?? process.stderr
    this.json = options.json
    this.verbose = options.verbose
    const tty = Boolean((this.out as NodeJS.WriteStream).isTTY)
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== ''
    const useColor = options.color ?? (tty && !noColor)
    this.color = new Chalk({level: useColor ? 1 : 0})
    // live redrawing lines only for a person at a terminal
    this.interactive = tty && !options.json && !noColor && process.env.CI === undefined
  }

  /** Text as it may reach the terminal: its own newlines and tabs, our colours, every other control escaped. */
  private safe(text: string): string {
    if (this.color.level === 0) return printable(text, 'lines')
    return text
      .split(SGR)
      .map((part, i) => (i % 2 === 1 ? part : printable(part, 'lines')))
      .join('')
  }

  /** A timestamped log line (stderr): what cron mails and what a log file keeps. */
  log(message: string): void {
    this.err.write(`${new Date().toISOString().slice(0, 19)}Z ${this.safe(message)}\n`)
  }

  debug(message: string): void {
    if (this.verbose) this.log(message)
  }

  warn(message: string): void {
    this.err.write(`${this.color.yellow('warning:')} ${this.safe(message)}\n`)
  }

  /** Human-readable result text (stdout); suppressed under --json. */
  print(text: string): void {
    if (!this.json) this.out.write(this.safe(text.endsWith('\n') ? text : `${text}\n`))
  }

  /** One result per line (a stream of views: status --watch --json). */
  resultLine(value: unknown): void {
    if (this.json) this.out.write(`${terminalJson(JSON.stringify(value))}\n`)
  }

  /** The machine-readable result (stdout), only under --json. */
  result(value: unknown): void {
    if (this.json) this.out.write(`${terminalJson(JSON.stringify(value, null, 2))}\n`)
  }
}
