// Preloaded (node --require) into a command the benchmark starts: at exit, its peak resident
// memory in KB is written to $ANIMEZIPF_BENCH_RSS_FILE.
process.on('exit', () => {
  const file = process.env.ANIMEZIPF_BENCH_RSS_FILE
  if (file) require('node:fs').writeFileSync(file, String(process.resourceUsage().maxRSS))
})
