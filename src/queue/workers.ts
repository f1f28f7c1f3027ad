import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'

import {processGone} from '../util/pid.js'
import {type Clock, sqlTime, systemClock} from './clock.js'
import type {WorkerStatus} from './rows.js'
import type {Sql} from './sql.js'
import type {WorkerType} from './stages.js'

/** A lease owner prefix unique to this run of this process: host:pid:random. */
export function newRunId(host: string = hostname()): string {
  return `${host}:${process.pid}:${randomUUID().slice(0, 8)}`
}

/** The workers table: each running worker registers, heartbeats, and says when it stops. */
export class WorkerRegistry {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
    private readonly host: string = hostname(),
  ) {}

  async register(type: WorkerType, owner: string): Promise<number> {
    const now = sqlTime(this.clock.now())
    // rows of workers that stopped (or died) more than a day ago are history nobody reads
    await this.sql.run(`DELETE FROM workers WHERE last_heartbeat < @cutoff`, {cutoff: sqlTime(this.clock.now() - 86_400_000)})
    const row = await this.sql.get<{id: number}>(
      `INSERT INTO workers (worker_type, status, owner, pid, hostname, started_at, last_heartbeat) VALUES (@type, 'idle', @owner, @pid, @host, @now, @now) RETURNING id`,
      {type, owner, pid: process.pid, host: this.host, now},
    )
    return row!.id
  }

  async beat(id: number, status: WorkerStatus, jobId: number | null): Promise<void> {
    await this.sql.run(`UPDATE workers SET status = @status, current_job_id = @jobId, last_heartbeat = @now WHERE id = @id`, {
      id,
      status,
      jobId,
      now: sqlTime(this.clock.now()),
    })
  }
}

/**
 * A lease owner (host:pid:random…) that was a process of this host which no longer runs: its
 * leases need not wait for their expiry. Owners of other hosts cannot be checked from here.
 */
export function isDeadLocalOwner(owner: string, host: string = hostname()): boolean {
  const m = /^(.*):(\d+):[0-9a-f]{8}(?::|$)/.exec(owner)
  return !!m && m[1] === host && processGone(Number(m[2]))
}
