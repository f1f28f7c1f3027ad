import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'
import type {Statement} from 'better-sqlite3'

import {Clock, sqlTime, systemClock} from './clock.js'
import type {DB} from './db.js'
import type {WorkerType} from './stages.js'

/** A lease owner prefix unique to this run of this process: host:pid:random. */
export function newRunId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
}

export type WorkerStatus = 'idle' | 'busy' | 'error' | 'stopped'

/** The workers table: each running worker registers, heartbeats, and says when it stops. */
export class WorkerRegistry {
  private readonly update: Statement
  constructor(
    private readonly db: DB,
    private readonly clock: Clock = systemClock,
  ) {
    this.update = db.prepare(
      `UPDATE workers SET status = @status, current_job_id = @jobId, last_heartbeat = @now WHERE id = @id`,
    )
  }

  register(type: WorkerType, owner: string): number {
    const now = sqlTime(this.clock.now())
    // rows of workers that stopped (or died) more than a day ago are history nobody reads
    this.db.prepare(`DELETE FROM workers WHERE last_heartbeat < @cutoff`).run({cutoff: sqlTime(this.clock.now() - 86_400_000)})
    const row = this.db
      .prepare(
        `INSERT INTO workers (worker_type, status, owner, pid, hostname, started_at, last_heartbeat) VALUES (@type, 'idle', @owner, @pid, @host, @now, @now) RETURNING id`,
      )
      .get({type, owner, pid: process.pid, host: hostname(), now}) as {id: number}
    return row.id
  }

  beat(id: number, status: WorkerStatus, jobId: number | null): void {
    this.update.run({id, status, jobId, now: sqlTime(this.clock.now())})
  }
}
