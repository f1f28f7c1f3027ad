// One benchmark worker process: claim one job at a time and finish it until the stage is empty.
import {openDatabase} from '../../src/queue/db.js'
import {Queue} from '../../src/queue/jobs.js'
import {STAGES} from '../../src/queue/stages.js'

const [file, name] = process.argv.slice(2)
const db = openDatabase(file!)
const queue = new Queue(db)
const stage = STAGES.download
let n = 0
for (;;) {
  const [job] = queue.claim({stage, owner: `bench-${name}`, count: 1, leaseMs: 60_000})
  if (!job) break
  queue.finish(job.id, `bench-${name}`, stage)
  n++
}
db.close()
process.stdout.write(String(n))
