import type {AppContext} from '../../app/context.js'
import type {ServiceResult} from '../../app/result.js'
import {sqlTime} from '../../queue/clock.js'
import type {Queue} from '../../queue/index.js'
import type {AnimeRow} from '../../queue/rows.js'
import {SELECT_STAGE} from '../../queue/stages.js'
import {type Stage, type StageDeps, type StageIdle, type StagePlan, runStage} from '../../runner/stage.js'
import type {Backoff} from '../../util/backoff.js'
import {AniCli, checkMenuHook, resolveAniCli} from './ani-cli.js'
import {SelectionBudget} from './budget.js'
import type {SelectionModel} from './claude.js'
import {createSelectionModel} from './model.js'
import {type SelectPlan, planSelections} from './plan.js'
import {type SelectResult, selectSummary} from './result.js'
import {type AnimeOutcome, selectAnime} from './select-anime.js'
import {type AnimeToSelect, selectUnits} from './units.js'

export type {AnimeOutcome} from './select-anime.js'
export type {SelectPlan} from './plan.js'
export type {SelectResult} from './result.js'

export interface SelectOptions {
  workers?: number | undefined
  limit?: number | undefined
  malId?: number | undefined
  force: boolean
  dryRun: boolean
  /** --max-cost in US dollars; undefined for no budget. */
  maxCost?: number | undefined
}

export interface SelectDeps extends StageDeps {
  ani: AniCli
  /** Claude, when ANTHROPIC_API_KEY is set; undefined otherwise (ambiguous anime are left unselected). */
  model: SelectionModel | undefined
  /** Candidates whose episode count is read (`[select] max_candidates_probed`). */
  probe: number
  /** Runs that must find nothing before an anime has no candidates for good. */
  noResultsConfirmations: number
  backoff: Backoff
  budget: SelectionBudget
  /** The queue the run opened; set by start. */
  queue: Queue | undefined
}

/** `animezipf select`: one decision per anime (its units are anime under run_locks leases, not jobs), stored for download. */
export const selectStage: Stage<SelectOptions, SelectDeps, AnimeOutcome, SelectResult | SelectPlan, AnimeToSelect, AnimeRow> = {
  def: SELECT_STAGE,

  async prepare(ctx, options) {
    const {config} = ctx
    const ani = new AniCli({path: resolveAniCli(ctx), timeoutMs: config.ani_cli.search_timeout_seconds * 1000, workRoot: ctx.paths.workRoot})
    checkMenuHook()
    const budget = new SelectionBudget(options.maxCost)
    return {
      workers: options.workers ?? config.select.workers,
      // once the budget is spent or the API refused, no worker claims another anime
      gate: async () => (budget.stopped ? 'stop' : 'claim'),
      ani,
      model: await createSelectionModel(ctx),
      probe: config.select.max_candidates_probed,
      noResultsConfirmations: config.select.no_results_confirmations,
      backoff: ctx.backoff,
      budget,
      queue: undefined,
    }
  },

  async start(run, deps) {
    deps.queue = run.queue
  },

  units(run, deps) {
    const {queue, options} = run
    // --force: anime selected before this run are selected again (manual choices are kept)
    const redoBefore = options.force ? sqlTime(run.ctx.clock.now()) : undefined
    const onAttempt = async (anime: AnimeRow, error: string) => {
      await queue.selections.recordAttempt(anime.mal_id, error, false, deps.backoff)
    }
    return {source: selectUnits(queue, {malId: options.malId, redoBefore}, onAttempt), subject: (unit) => unit.anime}
  },

  handleJob: selectAnime,

  // (select plans anime, not jobs: its own plan below is what --dry-run shows)
  describe: (job) => `select the show for ${job.anime_title}`,

  plan: (run, deps) => planSelections(run.queue, deps, run.options),

  async summarize(summary, run, deps) {
    const spending = await run.queue.selections.spending()
    return selectSummary(summary, deps.budget, spending.cost_usd)
  },
}

export function select(ctx: AppContext, options: SelectOptions): Promise<ServiceResult<SelectResult | SelectPlan | StagePlan | StageIdle>> {
  return runStage(ctx, selectStage, options)
}
