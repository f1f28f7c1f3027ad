import type {ChalkInstance} from 'chalk'

import {formatBytes} from '../util/disk.js'
import type {JobReport, StatusReport} from './collect.js'
import {animeIdLabel} from '../queue/anime.js'

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n)
}

function hours(h: number | null): string {
  if (h === null) return 'no recent rate'
  if (h === 0) return '-'
  if (h < 1) return `${Math.round(h * 60)} min`
  if (h < 48) return `${h.toFixed(1)} h`
  return `${(h / 24).toFixed(1)} days`
}

/** The header and the jobs per stage. */
function overview(r: StatusReport, c: ChalkInstance): string[] {
  const lines = [
    c.bold(`animezipf status — ${r.generated_at}`),
    `database: ${r.database} (${r.backend})   this host: ${r.host}`,
    // under --anime-id the jobs are that anime's: said so, not beside the whole queue's anime count
    r.anime_id === null ? `anime: ${r.anime}   jobs: ${r.jobs.total}` : `anime ${animeIdLabel(r.anime_id)} only: ${r.jobs.total} job(s)`,
    '',
    c.bold('Jobs per stage'),
  ]
  for (const [stage, n] of Object.entries(r.jobs.by_stage)) lines.push(`  ${pad(stage, 13)} ${String(n).padStart(8)}`)
  return lines
}

function throughput(r: StatusReport, c: ChalkInstance): string[] {
  const lines = ['', c.bold('Throughput (finished jobs)'), `  ${pad('stage', 11)} ${pad('last hour', 10)} ${pad('last day', 9)} ${pad('remaining', 10)} eta`]
  for (const [stage, t] of Object.entries(r.throughput)) {
    lines.push(`  ${pad(stage, 11)} ${pad(t.last_hour, 10)} ${pad(t.last_day, 9)} ${pad(t.remaining, 10)} ${hours(t.eta_hours)}`)
  }
  return lines
}

function animeProgress(r: StatusReport, c: ChalkInstance): string[] {
  if (r.anime_progress.length === 0) return []
  const lines = ['', c.bold('Anime (most active first)')]
  for (const a of r.anime_progress) {
    const pct = a.total ? Math.round((100 * a.complete) / a.total) : 0
    lines.push(
      `  ${pad(a.mal_id, 10)} ${pad(a.title.slice(0, 40), 41)} ${String(a.complete).padStart(4)}/${pad(a.total, 4)} ${String(pct).padStart(3)}%  running ${a.running}  failed ${a.failed}`,
    )
  }
  return lines
}

function failures(r: StatusReport, c: ChalkInstance): string[] {
  if (r.failures.length === 0) return []
  const lines = ['', c.bold(c.red('Failed jobs (by stage and error)'))]
  for (const f of r.failures) lines.push(`  ${String(f.count).padStart(6)}  ${pad(f.stage ?? '?', 13)} ${f.error ?? ''}`)
  lines.push("  `animezipf status --job ID` shows a job's whole history")
  return lines
}

function runningJobs(r: StatusReport, c: ChalkInstance): string[] {
  if (r.running.length === 0) return []
  const lines = ['', c.bold('Running jobs')]
  for (const j of r.running) {
    const state = j.expired ? c.red('LEASE EXPIRED') : `lease until ${j.lease_expires_at}`
    lines.push(
      `  job ${pad(j.id, 7)} ${pad(j.stage, 13)} ${pad(`${j.anime_title.slice(0, 30)} ep ${j.episode}`, 38)} ${pad(j.lease_owner, 30)} since ${j.started_at ?? '?'}  ${state}`,
    )
  }
  if (r.expired_leases > 0) lines.push(`  ${r.expired_leases} expired lease(s): the next run of that stage recovers them`)
  return lines
}

function disk(r: StatusReport, c: ChalkInstance): string[] {
  const d = r.disk
  const p = d.permanent
  const state = d.state === 'ok' ? c.green('ok') : d.state === 'paused' ? c.yellow('downloads pause') : c.red('over the hard limit')
  return [
    '',
    c.bold('Disk'),
    `  root_dir    ${d.root_dir} (free ${formatBytes(d.free_bytes.root_dir)})`,
    `  storage_dir ${d.storage_dir} (free ${formatBytes(d.free_bytes.storage_dir)})`,
    `  temporary   videos ${formatBytes(d.temporary.videos)}, audio ${formatBytes(d.temporary.audio)}`,
    `  permanent   transcripts ${formatBytes(p.transcripts)}, tokens ${formatBytes(p.tokens)}, analysis ${formatBytes(p.analysis)}, cache ${formatBytes(p.cache)}, models ${formatBytes(p.models)}, metadata ${formatBytes(p.metadata)}, database ${formatBytes(p.database)}`,
    `  total       ${formatBytes(d.total_bytes)} of ${formatBytes(d.thresholds_bytes.hard_limit)} (pause at ${formatBytes(d.thresholds_bytes.pause)}, resume at ${formatBytes(d.thresholds_bytes.resume)}): ${state}`,
  ]
}

/** Shown once something was downloaded or downloads paused for disk. */
function downloads(r: StatusReport, c: ChalkInstance): string[] {
  const dl = r.downloads
  if (!(dl.episodes > 0 || dl.last_pause)) return []
  const lines = [
    '',
    c.bold('Downloads'),
    `  ${dl.episodes} episode(s), ${formatBytes(dl.bytes)}${dl.mean_bytes_per_episode !== null ? `, ${formatBytes(dl.mean_bytes_per_episode)} per episode` : ''}; last hour ${dl.last_hour.episodes} (${formatBytes(dl.last_hour.bytes)}), last day ${dl.last_day.episodes} (${formatBytes(dl.last_day.bytes)}, ${dl.last_day.mb_per_s} MB/s)`,
  ]
  if (dl.last_pause) {
    const lp = dl.last_pause
    const when = lp.ended_at ? `from ${lp.started_at} to ${lp.ended_at}` : c.yellow(`since ${lp.started_at} (still paused, or its process ended)`)
    lines.push(
      `  paused for disk ${dl.pauses_last_day} time(s) in the last day, ${Math.round(dl.paused_seconds_last_day / 60)} min in all; last ${when} on ${lp.host}: ${lp.reason}`,
    )
  }
  return lines
}

function transcription(r: StatusReport, c: ChalkInstance): string[] {
  const tr = r.transcription
  if (!(tr.models.length > 0 || tr.backlog.episodes > 0)) return []
  const lines = ['', c.bold('Transcription')]
  for (const m of tr.models) {
    lines.push(`  ${pad(m.model, 22)} ${m.episodes} episode(s), ${hours(m.audio_seconds / 3600)} of audio, ${m.realtime_factor ?? '-'}× real time per worker`)
  }
  lines.push(
    `  backlog: ${tr.backlog.episodes} episode(s), ${hours(tr.backlog.audio_seconds / 3600)} of audio; at the recent pace ${hours(tr.backlog.eta_hours)}`,
  )
  return lines
}

function selections(r: StatusReport, c: ChalkInstance): string[] {
  const sel = r.selection_confidence
  if (!(Object.values(sel).some((n) => n > 0) || r.selections.api.calls > 0)) return []
  const m = r.selections.episode_match
  return [
    '',
    c.bold('Selections'),
    `  high ${sel.high}  medium ${sel.medium}  low ${sel.low}  no candidates ${sel.no_candidates}`,
    `  episodes: exact ${m.exact}  close ${m.close}  acceptable ${m.acceptable}  mismatch ${m.mismatch}  unknown ${m.unknown}`,
    `  model calls ${r.selections.api.calls}, ${r.selections.api.input_tokens + r.selections.api.output_tokens} tokens, $${r.selections.api.cost_usd.toFixed(4)} spent`,
  ]
}

/** Shown only when videos live on a host other than this one. */
function hosts(r: StatusReport, c: ChalkInstance): string[] {
  if (!(r.hosts.length > 1 || (r.hosts.length === 1 && r.hosts[0]!.host !== r.host))) return []
  const lines = ['', c.bold('Hosts')]
  for (const h of r.hosts) {
    const jobs = Object.entries(h.jobs)
      .map(([stage, n]) => `${stage} ${n}`)
      .join(', ')
    lines.push(`  ${pad(h.host, 20)} workers ${pad(h.workers, 4)} videos: ${jobs || '-'}`)
  }
  return lines
}

function workers(r: StatusReport, c: ChalkInstance): string[] {
  const lines = ['', c.bold('Workers')]
  if (r.workers.length === 0) lines.push('  none running')
  for (const w of r.workers) {
    lines.push(
      `  ${pad(w.worker_type, 12)} ${pad(w.status, 6)} ${pad(w.current_job_id ? `job ${w.current_job_id}` : '-', 12)} ${pad(`${w.hostname ?? '?'}:${w.pid ?? '?'}`, 24)} heartbeat ${w.last_heartbeat}`,
    )
  }
  return lines
}

/** The sections of `animezipf status`, in the order they are shown; each leaves itself out when it has nothing to say. */
const SECTIONS = [overview, throughput, animeProgress, failures, runningJobs, disk, downloads, transcription, selections, hosts, workers]

export function renderStatus(r: StatusReport, c: ChalkInstance): string {
  return SECTIONS.flatMap((section) => section(r, c)).join('\n')
}

export function renderJob(r: JobReport, c: ChalkInstance): string {
  const j = r.job
  const lines = [
    c.bold(`job ${j.id}: ${j.anime_title} ep ${j.episode} (${animeIdLabel(j.mal_id)})`),
    `  stage ${j.stage}${j.failed_stage ? ` (failed in ${j.failed_stage})` : ''}, priority ${j.priority}, attempts ${j.attempts}, retries ${j.retry_count}/${j.max_retries}`,
  ]
  if (j.lease_owner) lines.push(`  leased by ${j.lease_owner} until ${j.lease_expires_at}`)
  if (j.video_host) lines.push(`  video on host ${j.video_host}`)
  if (j.run_after) lines.push(`  not before ${j.run_after}`)
  if (j.error_message) lines.push(`  error: ${j.error_message}`)
  for (const [k, v] of Object.entries({transcript: j.transcript_path, tokens: j.tokens_path, analysis: j.analysis_path})) {
    if (v) lines.push(`  ${k}: ${v}`)
  }
  if (j.token_count !== null) lines.push(`  tokens ${j.token_count}, words ${j.word_count}`)
  lines.push('', c.bold('History'))
  for (const e of r.events)
    lines.push(`  ${e.at}  ${pad(e.level, 5)} ${pad(e.event, 10)} ${pad(e.stage, 13)} ${e.message ?? ''}${e.worker ? `  [${e.worker}]` : ''}`)
  return lines.join('\n')
}
