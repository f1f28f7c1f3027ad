import type {Queue} from './index.js'
import type {Sql} from './sql.js'

/** Tables copied, parents first; `workers` is left out (it describes processes of the old machine). */
const TABLES: readonly {name: string; key: string | null; identity: boolean}[] = [
  {name: 'anime', key: 'id', identity: true},
  {name: 'anime_categories', key: null, identity: false},
  {name: 'jobs', key: 'id', identity: true},
  {name: 'job_events', key: 'id', identity: true},
  {name: 'analysis_results', key: 'id', identity: true},
  {name: 'anime_selection_cache', key: null, identity: false},
  {name: 'anime_candidates', key: null, identity: false},
  {name: 'selection_attempts', key: null, identity: false},
  {name: 'api_usage', key: 'id', identity: true},
  {name: 'run_locks', key: null, identity: false},
  {name: 'disk_pauses', key: 'id', identity: true},
  {name: 'transcriptions', key: 'id', identity: true},
]

const PAGE = 5000

export class QueueCopyRefused extends Error {}

export type TableCounts = Record<string, number>

async function countRows(sql: Sql): Promise<TableCounts> {
  const out: TableCounts = {}
  for (const t of TABLES) out[t.name] = (await sql.get<{n: number}>(`SELECT COUNT(*) AS n FROM ${t.name}`))!.n
  return out
}

async function insertRows(tx: Sql, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return
  const cols = Object.keys(rows[0]!)
  // stay under both engines' limits on parameters per statement
  const perStatement = Math.max(1, Math.floor(30_000 / cols.length))
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement)
    const params: Record<string, unknown> = {}
    const values = chunk.map((row, r) => `(${cols.map((c, k) => ((params[`p${r}_${k}`] = row[c]), `@p${r}_${k}`)).join(', ')})`)
    await tx.run(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${values.join(', ')}`, params)
  }
}

/**
 * Copy a whole queue (anime, categories, jobs with their stages and paths, events, analyses,
 * selections, the aggregate's signature) into an empty one, in one transaction on the target,
 * then check the row counts; any difference rolls everything back. Run-lock leases are not carried.
 */
export async function copyQueue(source: Queue, target: Queue, nowMs: number, onTable?: (table: string, rows: number) => void): Promise<TableCounts> {
  const leased = await source.stats.liveLeases(nowMs)
  if (leased > 0) throw new QueueCopyRefused(`${leased} job(s) in the source are leased by running workers`)
  const existing = await countRows(target.sql)
  const busy = Object.entries(existing).filter(([, n]) => n > 0)
  if (busy.length > 0) throw new QueueCopyRefused(`the target is not empty (${busy.map(([t, n]) => `${t}: ${n}`).join(', ')})`)
  const expected = await countRows(source.sql)

  await target.sql.transaction(async (tx) => {
    for (const t of TABLES) {
      let copied = 0
      if (t.key) {
        let after = -1
        for (;;) {
          const rows = await source.sql.all<Record<string, unknown>>(`SELECT * FROM ${t.name} WHERE ${t.key} > @after ORDER BY ${t.key} LIMIT ${PAGE}`, {after})
          if (rows.length === 0) break
          await insertRows(tx, t.name, rows)
          copied += rows.length
          after = rows.at(-1)![t.key] as number
        }
      } else {
        const rows = await source.sql.all<Record<string, unknown>>(`SELECT * FROM ${t.name}`)
        if (t.name === 'run_locks') for (const r of rows) Object.assign(r, {owner: null, expires_at: null})
        await insertRows(tx, t.name, rows)
        copied = rows.length
      }
      onTable?.(t.name, copied)
      // identity columns continue after the copied ids
      if (t.identity && copied > 0 && tx.dialect === 'postgres') {
        await tx.run(`SELECT setval(pg_get_serial_sequence('${t.name}', 'id'), (SELECT MAX(id) FROM ${t.name}))`)
      }
    }
    const got = await countRows(tx)
    const wrong = TABLES.filter((t) => got[t.name] !== expected[t.name])
    if (wrong.length > 0)
      throw new QueueCopyRefused(
        `the copied counts differ (the source changed during the copy?): ${wrong.map((t) => `${t.name} ${got[t.name]} of ${expected[t.name]}`).join(', ')}; nothing was kept`,
      )
  })
  return expected
}
