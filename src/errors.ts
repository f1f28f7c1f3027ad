/** Exit codes every command shares (documented in the README). */
export const EXIT = {
  OK: 0,
  JOBS_FAILED: 1,
  USAGE: 2,
  TRY_LATER: 75,
  INTERRUPTED: 130,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/**
 * A mistake the user can fix (bad flag value, bad config, unknown anime...).
 * Rendered as one line with its hint; never with a stack trace unless --verbose.
 */
export class UserError extends Error {
  readonly hint: string | undefined
  readonly exitCode: number

  constructor(message: string, hint?: string, exitCode: number = EXIT.USAGE) {
    super(message)
    this.name = 'UserError'
    this.hint = hint
    this.exitCode = exitCode
  }
}

/** A read-only command met a queue whose tables are older than this animezipf (0: none yet); a writing command creates or upgrades them. */
export class SchemaBehindError extends UserError {
  constructor(
    readonly version: number,
    message: string,
    hint: string,
  ) {
    super(message, hint)
    this.name = 'SchemaBehindError'
  }
}

/** A job failure that retrying will not fix (bad input file, unknown anime): no backoff, straight to failed. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PermanentJobError'
  }
}

/**
 * What no job can get past on this machine (ani-cli cannot download: yt-dlp and ffmpeg missing):
 * the job goes back unchanged, no worker claims more, and the run ends with this one line.
 */
export class StopRunError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: number = EXIT.USAGE,
  ) {
    super(message)
    this.name = 'StopRunError'
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
