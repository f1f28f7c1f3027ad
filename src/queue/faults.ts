import {EXIT, UserError} from '../errors.js'

// What the queue's engines say when the database itself is gone or damaged: not a job's fault and
// not a bug, so one line and the exit code that says whether running again later can help.

/** PostgreSQL SQLSTATEs of a connection the server ended or cannot give (class 08, 57P01-57P03). */
const PG_GONE_STATES = /^(08\w{3}|57P0[123])$/
/** Socket errors of a connection that dropped or cannot be made. */
const SOCKET_GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ECONNABORTED'])
/** node-postgres's own words for a connection that ended under it. */
const PG_GONE_WORDS =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/

/** Whether a driver's error says the connection to the database went away (PostgreSQL). */
export function connectionLost(error: unknown): boolean {
  const e = error as {code?: unknown; message?: unknown} | undefined
  if (!e || typeof e !== 'object') return false
  const code = typeof e.code === 'string' ? e.code : ''
  if (PG_GONE_STATES.test(code) || SOCKET_GONE.has(code)) return true
  return typeof e.message === 'string' && PG_GONE_WORDS.test(e.message)
}

/**
 * A statement of the queue failed because the connection to its database went away. The queue's
 * executor wraps the driver's error in this, so that a refused connection of a stage's own HTTP
 * client is never taken for the queue's.
 */
export class QueueConnectionError extends Error {
  readonly code: string | undefined
  constructor(override readonly cause: unknown) {
    super(firstLine(cause))
    this.name = 'QueueConnectionError'
    const code = (cause as {code?: unknown} | undefined)?.code
    this.code = typeof code === 'string' ? code : undefined
  }
}

/** Whether the queue said its database went away (wrapped by the executor, see QueueConnectionError). */
export function queueGone(error: unknown): boolean {
  return error instanceof QueueConnectionError
}

/** The driver's error as the queue's: wrapped when it says the connection went away. */
export function asQueueError(error: unknown): unknown {
  return connectionLost(error) && !(error instanceof QueueConnectionError) ? new QueueConnectionError(error) : error
}

/** Whether an error says the SQLite file is damaged (bad pages, truncated, not a database). */
export function queueDamaged(error: unknown): boolean {
  const code = (error as {code?: unknown} | undefined)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
}

/** The connection went away while a run held jobs: exit 75, with what became of them. */
export class QueueLostError extends UserError {
  constructor(cause: unknown, heldBack: {released: number; leftLeased: number}) {
    const said =
      heldBack.released + heldBack.leftLeased === 0
        ? ''
        : `; ${heldBack.released} job(s) given back${heldBack.leftLeased ? `, ${heldBack.leftLeased} go back when their leases run out` : ''}`
    super(
      `lost the connection to the queue's database: ${firstLine(cause)}${said}`,
      'run again when the database is back; exit 75 means try later',
      EXIT.TRY_LATER,
    )
    this.name = 'QueueLostError'
  }
}

/**
 * The one-line error for a fault of the queue's database met anywhere in a command, or undefined
 * when the error is something else. `where` names the database (a file, or a masked URL).
 */
export function queueFaultError(error: unknown, where: string | undefined): UserError | undefined {
  if (queueDamaged(error)) {
    const name = where ? ` ${where}` : ''
    const notADatabase = (error as {code?: unknown}).code === 'SQLITE_NOTADB'
    return new UserError(
      notADatabase
        ? `the queue database${name} is not an SQLite database (or is damaged): ${firstLine(error)}; nothing was written to it`
        : `the queue database${name} is damaged (${firstLine(error)}); nothing more was written to it`,
      notADatabase
        ? 'move it away or point --data-dir or [queue] url at another file'
        : 'stop every animezipf run on it, then restore it from a backup, or save what is readable with `sqlite3 jobs.db .recover | sqlite3 recovered.db` and use that file',
    )
  }
  if (queueGone(error)) {
    return new UserError(
      `lost the connection to the queue's database${where ? ` at ${where}` : ''}: ${firstLine(error)}`,
      'run again when the database is back; exit 75 means try later',
      EXIT.TRY_LATER,
    )
  }
  return undefined
}

function firstLine(error: unknown): string {
  const e = error as {message?: unknown; code?: unknown}
  const text = typeof e?.message === 'string' && e.message !== '' ? e.message : typeof e?.code === 'string' ? e.code : String(error)
  return text.split('\n')[0]!.slice(0, 300)
}
