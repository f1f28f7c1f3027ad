// The watch animezipf keeps over the tools it starts (ani-cli, ffmpeg, ffprobe, whisper). Each tool
// runs in a process group of its own, so that a timeout ends everything it started; but then a
// kill -9 of animezipf would leave them running. animezipf starts this program once per run, with
// a pipe on its stdin, and writes "+PGID" when a tool starts and "-PGID" when it has ended. The
// pipe closes when animezipf ends, however it ends (the kernel closes it even after SIGKILL): this
// program then kills the groups still listed, and exits.
'use strict'

const groups = new Set()
let pending = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  pending += chunk
  const lines = pending.split('\n')
  pending = lines.pop()
  for (const line of lines) {
    const pgid = Number(line.slice(1))
    if (!Number.isInteger(pgid) || pgid <= 1) continue
    if (line[0] === '+') groups.add(pgid)
    else if (line[0] === '-') groups.delete(pgid)
  }
})
const reap = () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  process.exit(0)
}
process.stdin.on('end', reap)
process.stdin.on('error', reap)
// a Ctrl-C or a TERM sent to animezipf's group is for animezipf: this program ends with its pipe
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(signal, () => {})
