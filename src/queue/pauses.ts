import {processGone} from '../util/pid.js'
import {type Clock, parseSqlTime, sqlTime, systemClock} from './clock.js'
import type {Sql} from './sql.js'

export interface DiskPauseRow {
  id: number
  host: string
  owner: string
  started_at: string
  ended_at: string | null
  reason: string
  usage_bytes: number
  resumed_usage_bytes: number | null
}

/** When downloads paused for disk space, why, and when they resumed (disk_pauses). */
export class DiskPauses {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
  ) {}

  async start(host: string, owner: string, reason: string, usageBytes: number): Promise<number> {
    const row = await this.sql.get<{id: number}>(
      `INSERT INTO disk_pauses (host, owner, started_at, reason, usage_bytes) VALUES (@host, @owner, @now, @reason, @usage) RETURNING id`,
      {host, owner, now: sqlTime(this.clock.now()), reason, usage: Math.round(usageBytes)},
    )
    return row!.id
  }

  async end(id: number, usageBytes: number | null): Promise<void> {
    await this.sql.run(`UPDATE disk_pauses SET ended_at = @now, resumed_usage_bytes = @usage WHERE id = @id AND ended_at IS NULL`, {
      id,
      now: sqlTime(this.clock.now()),
      usage: usageBytes === null ? null : Math.round(usageBytes),
    })
  }

  /** Close the open pauses of processes of this host that died (kill -9 while paused): they ended with their process. */
  async closeDead(host: string): Promise<number> {
    const open = await this.sql.all<{id: number; owner: string}>(`SELECT id, owner FROM disk_pauses WHERE ended_at IS NULL AND host = @host`, {host})
    let n = 0
    for (const row of open) {
      if (processGone(Number(row.owner.slice(row.owner.lastIndexOf(':') + 1)))) {
        await this.end(row.id, null)
        n++
      }
    }
    return n
  }

  /** The latest pauses, newest first. */
  async recent(limit: number): Promise<DiskPauseRow[]> {
    return this.sql.all<DiskPauseRow>(`SELECT * FROM disk_pauses ORDER BY started_at DESC, id DESC LIMIT @limit`, {limit})
  }

  /** How many pauses started since a time, and the seconds paused since then (open pauses up to now). */
  async since(fromMs: number): Promise<{pauses: number; paused_seconds: number}> {
    const from = sqlTime(fromMs)
    const rows = await this.sql.all<{started_at: string; ended_at: string | null}>(
      `SELECT started_at, ended_at FROM disk_pauses WHERE ended_at IS NULL OR ended_at >= @from`,
      {from},
    )
    const now = this.clock.now()
    let seconds = 0
    let pauses = 0
    for (const r of rows) {
      const started = parseSqlTime(r.started_at)
      const end = r.ended_at ? parseSqlTime(r.ended_at) : now
      if (started >= fromMs) pauses++
      seconds += Math.max(0, end - Math.max(fromMs, started)) / 1000
    }
    return {pauses, paused_seconds: Math.round(seconds)}
  }
}
