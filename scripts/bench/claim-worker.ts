// One benchmark worker process: claim one job at a time and finish it until the stage is empty.
// argv: queue target (an SQLite file or a postgres:// URL), name.
import {openQueue, queueLocation} from '../../src/queue/index.js'
import {STAGES} from '../../src/queue/stages.js'

const [target, name] = process.argv.slice(2)
const location = queueLocation(target!.startsWith('postgres') ? target! : `sqlite:${target}`, target!)
const queue = await openQueue({location, poolSize: 1})
const stage = STAGES.download
let n = 0
for (;;) {
  const [job] = await queue.jobs.claim({stage, owner: `bench-${name}`, count: 1, leaseMs: 60_000})
  if (!job) break
  await queue.jobs.finish(job.id, `bench-${name}`, stage)
  n++
}
await queue.close()
process.stdout.write(String(n))
