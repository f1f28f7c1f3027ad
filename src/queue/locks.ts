import {hostname} from 'node:os'

import {type Clock, sqlTime, systemClock} from './clock.js'
import type {Sql} from './sql.js'
import {isDeadLocalOwner} from './workers.js'

/**
 * Leases on work that only one process at a time may do, on every host (rebuilding the corpus-wide
 * aggregate), and the signature of what that work last produced: a row per name in run_locks.
 */
export class RunLocks {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
    private readonly host: string = hostname(),
  ) {}

  /**
   * Take the lease when it is free, expired, or held by a process of this host that no longer runs
   * (killed: its lease need not wait for the expiry). True when this owner holds it now.
   */
  async acquire(name: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now()
    const params = {name, owner, expires: sqlTime(now + leaseMs), now: sqlTime(now)}
    const row = await this.sql.get<{owner: string}>(
      `INSERT INTO run_locks (name, owner, expires_at, updated_at) VALUES (@name, @owner, @expires, @now)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, updated_at = excluded.updated_at
         WHERE run_locks.owner IS NULL OR run_locks.expires_at < @now OR run_locks.owner = excluded.owner
       RETURNING owner`,
      params,
    )
    if (row?.owner === owner) return true
    const held = await this.state(name)
    if (!held?.owner || !isDeadLocalOwner(held.owner, this.host)) return false
    const changed = await this.sql.run(`UPDATE run_locks SET owner = @owner, expires_at = @expires, updated_at = @now WHERE name = @name AND owner = @dead`, {
      ...params,
      dead: held.owner,
    })
    return changed === 1
  }

  /** Heartbeat; false when the lease was lost. */
  async extend(name: string, owner: string, leaseMs: number): Promise<boolean> {
    const changed = await this.sql.run(`UPDATE run_locks SET expires_at = @expires WHERE name = @name AND owner = @owner`, {
      name,
      owner,
      expires: sqlTime(this.clock.now() + leaseMs),
    })
    return changed === 1
  }

  /** Let go; with a signature, record that the work is done for these inputs. */
  async release(name: string, owner: string, signature?: string): Promise<boolean> {
    const changed = await this.sql.run(
      `UPDATE run_locks SET owner = NULL, expires_at = NULL, signature = COALESCE(CAST(@signature AS TEXT), signature), updated_at = @now
       WHERE name = @name AND owner = @owner`,
      {name, owner, signature: signature ?? null, now: sqlTime(this.clock.now())},
    )
    return changed === 1
  }

  async state(name: string): Promise<{owner: string | null; expires_at: string | null; signature: string | null; live: boolean} | undefined> {
    const row = await this.sql.get<{owner: string | null; expires_at: string | null; signature: string | null; live: number}>(
      `SELECT owner, expires_at, signature, CASE WHEN owner IS NOT NULL AND expires_at >= @now THEN 1 ELSE 0 END AS live FROM run_locks WHERE name = @name`,
      {name, now: sqlTime(this.clock.now())},
    )
    return row ? {...row, live: row.live === 1} : undefined
  }
}
