import {Command, Flags, Interfaces} from '@oclif/core'

import {EXIT, UserError} from '../errors.js'
import {queueFaultError} from '../queue/faults.js'
import {printable, terminalJson} from '../util/text.js'
import type {AppContext} from '../app/context.js'
import {createContext} from './context.js'
import type {ServiceResult} from '../app/result.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * What every animezipf command shares: --config, --data-dir, --json, --verbose, the exit codes,
 * and errors rendered as one line with a hint (the stack only with --verbose). `R` is the named
 * type of the command's `--json` result (as Salesforce's `SfCommand<T>`): `finish` takes only that.
 */
export abstract class BaseCommand<T extends typeof Command, R extends object = object> extends Command {
  static override baseFlags = {
    config: Flags.string({description: 'config file (default: ./config.toml when present, else built-in defaults)', helpGroup: 'GLOBAL'}),
    'data-dir': Flags.string({description: 'data folder; overrides [data] root_dir', helpGroup: 'GLOBAL'}),
    json: Flags.boolean({description: 'print the result as one JSON object on stdout (logs go to stderr)', default: false, helpGroup: 'GLOBAL'}),
    verbose: Flags.boolean({description: 'more log lines, and stack traces of errors', default: false, helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  private appContext: AppContext | undefined

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  /** Config, paths, output and queue for this run. Flag overrides by dotted config key. */
  protected context(overrides: Record<string, unknown> = {}): AppContext {
    this.appContext ??= createContext(this.flags, overrides)
    return this.appContext
  }

  /** End the command with an exit code, letting stdout drain. */
  protected done(code: number): void {
    process.exitCode = code
  }

  /** Print a service's result (one JSON object under --json, its summary lines otherwise) and set the exit code. */
  protected finish(r: ServiceResult<R>): void {
    const output = this.context().output
    output.result(r.result)
    for (const line of r.text) output.print(line)
    this.done(r.code)
  }

  protected override async catch(err: Error & {oclif?: {exit?: number}; code?: string}): Promise<unknown> {
    const verbose = this.argv.includes('--verbose') || process.argv.includes('--verbose')
    if (err.code === 'EEXIT') throw err
    let message: string
    let hint: string | undefined
    let code: number
    // the queue's database damaged or gone, met anywhere in the run: the user's to fix, or to wait out
    const fault = err instanceof UserError ? err : queueFaultError(err, this.queueWhere())
    if (fault) {
      message = fault.message
      hint = fault.hint
      code = fault.exitCode
    } else if (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED') {
      // another process held the queue's write lock for longer than [queue] busy_timeout_seconds
      message = 'the queue is busy: another animezipf process has held its write lock too long'
      hint = 'run again later, or raise [queue] busy_timeout_seconds'
      code = EXIT.TRY_LATER
    } else if (err.oclif?.exit === 2 || err.name === 'CLIError' || /Parse|Flag|Arg/.test(err.constructor.name)) {
      // oclif's own usage errors (unknown flag, bad value, missing argument): what is wrong and what
      // was expected, on one line
      const lines = err.message.split('\n').map((l) => l.trim())
      const end = lines.findIndex((l) => /^(See more help with|Note:)/i.test(l))
      message = (end < 0 ? lines : lines.slice(0, end))
        .filter(Boolean)
        .join(' ')
        .replaceAll(/\s{2,}/g, ' — ')
        .replace(/(Parsing --?[\w-]+)\s+/, '$1: ')
        .replace(/:\s*:/g, ':')
        // oclif's wrapper and its own pointer to the help (in the colon form of the command's name)
        .replace(/^The following errors? occurred:\s*/i, '')
        .replace(/\s*\(see `[^`]*--help`\)/g, '')
        .replace(/^Missing required flag:?\s+-*([\w-]+)/i, 'missing required flag --$1')
      hint = `see \`animezipf ${this.id ? `${this.id.replaceAll(':', ' ')} ` : ''}--help\``
      code = EXIT.USAGE
    } else {
      message = `internal error: ${err.message.split('\n')[0]}`
      hint = verbose ? undefined : 'run again with --verbose for the stack trace'
      code = EXIT.JOBS_FAILED
    }
    // one line, and a title or a file name quoted in it cannot steer the terminal
    process.stderr.write(`animezipf: ${printable(`${message}${hint ? ` (${hint})` : ''}`, 'line')}\n`)
    // a script reading --json gets the error as JSON too
    if (this.argv.includes('--json')) process.stdout.write(`${terminalJson(JSON.stringify({error: {code, message, hint: hint ?? null}}))}\n`)
    if (verbose && err.stack) process.stderr.write(`${printable(err.stack, 'lines')}\n`)
    process.exitCode = code
    return undefined
  }

  /** The queue's file or masked URL, for an error that names it (undefined before the config is read). */
  private queueWhere(): string | undefined {
    try {
      return this.appContext?.queueLocation.display
    } catch {
      return undefined
    }
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    await this.appContext?.close()
    return super.finally(err)
  }
}

/**
 * Upper bounds of the number flags: past them a number overflows what the databases hold (a LIMIT
 * of 10^20), what a timer holds, or runs without end. Each is refused in one line as it is parsed.
 */
export const FLAG_MAX = {
  /** jobs or anime in one run */
  count: 1_000_000_000,
  /** a MyAnimeList id or a job id: an integer both engines and JavaScript hold exactly */
  id: Number.MAX_SAFE_INTEGER,
  /** workers or threads at once */
  workers: 256,
} as const

/** The flags every stage command adds to its own: spread them into `static flags`. */
export const stageFlags = {
  workers: Flags.integer({char: 'w', description: 'jobs run at once', min: 1, max: FLAG_MAX.workers, helpGroup: 'STAGE'}),
  limit: Flags.integer({description: 'process at most this many jobs in this run', min: 1, max: FLAG_MAX.count, helpGroup: 'STAGE'}),
  'anime-id': Flags.integer({description: 'only this anime (MyAnimeList id)', min: 1, max: FLAG_MAX.id, helpGroup: 'STAGE'}),
  'dry-run': Flags.boolean({description: 'show exactly what would be claimed and done; change nothing', default: false, helpGroup: 'STAGE'}),
}
