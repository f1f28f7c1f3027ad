import type {AppContext} from '../app/context.js'
import type {ServiceResult} from '../app/result.js'
import {EXIT} from '../errors.js'
import {jikanCheck} from './doctor-api.js'
import {folderChecks, queueCheck, runtimeChecks} from './doctor-system.js'
import {toolChecks} from './doctor-tools.js'

export const DOCTOR_STAGES = ['scrape', 'select', 'download', 'transcribe', 'tokenize', 'analyze'] as const
export type DoctorStage = (typeof DOCTOR_STAGES)[number]

export type CheckStatus = 'ok' | 'fail' | 'warn'

export interface Check {
  name: string
  status: CheckStatus
  detail: string
  /** What to do when it is not ok. */
  fix?: string
  /** Stages that need it (all when absent). */
  stages?: DoctorStage[]
  /** A failure that does not stop anything (an optional tool). */
  optional?: boolean
}

/** `animezipf doctor --json`. */
export interface DoctorResult {
  /** Every required check shown passed. */
  ok: boolean
  stage: DoctorStage | null
  /** The checks shown (those of --stage, or all), each with the stages that need it. */
  checks: (Omit<Check, 'stages'> & {stages: DoctorStage[]})[]
}

const ALL = [...DOCTOR_STAGES]

/** `animezipf doctor`: one line per check with its fix; exit 0 only when every required check passes. */
export async function doctor(ctx: AppContext, options: {stage?: DoctorStage | undefined}): Promise<ServiceResult<DoctorResult>> {
  const checks: Check[] = [...(await runtimeChecks(ctx)), ...folderChecks(ctx), await queueCheck(ctx), ...(await toolChecks(ctx))]
  // the network only when asked about scrape: a plain doctor stays offline and instant
  if (options.stage === 'scrape') checks.push(await jikanCheck(ctx))
  const shown = options.stage ? checks.filter((c) => !c.stages || c.stages.includes(options.stage!)) : checks
  const failed = shown.filter((c) => c.status === 'fail' && !c.optional)
  const mark: Record<CheckStatus, string> = {ok: 'ok  ', warn: 'warn', fail: 'FAIL'}
  const text = shown.map((c) => `${mark[c.status]}  ${c.name}: ${c.detail}${c.status !== 'ok' && c.fix ? ` — ${c.fix}` : ''}`)
  text.push(
    failed.length === 0
      ? `doctor: ${options.stage ? `ready for ${options.stage}` : 'every required check passed'}`
      : `doctor: ${failed.length} required check(s) failed${options.stage ? ` for ${options.stage}` : ''}`,
  )
  return {
    code: failed.length === 0 ? EXIT.OK : EXIT.JOBS_FAILED,
    result: {ok: failed.length === 0, stage: options.stage ?? null, checks: shown.map(({stages, ...c}) => ({...c, stages: stages ?? ALL}))},
    text,
  }
}
