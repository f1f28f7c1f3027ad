/** Time source of the queue; tests pass a controllable one to expire leases without waiting. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = {now: () => Date.now()}

/**
 * Timestamps are stored as UTC text 'YYYY-MM-DD HH:MM:SS.SSS': it sorts like time, compares with
 * SQLite's CURRENT_TIMESTAMP, reads well in sqlite3 and parses as a PostgreSQL timestamp.
 */
export function sqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** The milliseconds a stored timestamp stands for (the inverse of sqlTime). */
export function parseSqlTime(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`)
}
