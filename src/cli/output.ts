import {Chalk, type ChalkInstance} from 'chalk'

export interface OutputOptions {
  json: boolean
  verbose: boolean
  /** Defaults to: stdout is a TTY and NO_COLOR is unset. */
  color?: boolean
  stdout?: NodeJS.WriteStream | NodeJS.WritableStream
  stderr?: NodeJS.WriteStream | NodeJS.WritableStream
}

/**
 * Where a command's words go. Results go to stdout (one JSON object with --json, nothing else
 * there); progress and log lines go to stderr. No ANSI codes unless stdout is a TTY and NO_COLOR is unset.
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

  /** A timestamped log line (stderr): what cron mails and what a log file keeps. */
  log(message: string): void {
    this.err.write(`${new Date().toISOString().slice(0, 19)}Z ${message}\n`)
  }

  debug(message: string): void {
    if (this.verbose) this.log(message)
  }

  warn(message: string): void {
    this.err.write(`${this.color.yellow('warning:')} ${message}\n`)
  }

  /** Human-readable result text (stdout); suppressed under --json. */
  print(text: string): void {
    if (!this.json) this.out.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** One result per line (a stream of views: status --watch --json). */
  resultLine(value: unknown): void {
    if (this.json) this.out.write(`${JSON.stringify(value)}\n`)
  }

  /** The machine-readable result (stdout), only under --json. */
  result(value: unknown): void {
    if (this.json) this.out.write(`${JSON.stringify(value, null, 2)}\n`)
  }
}
