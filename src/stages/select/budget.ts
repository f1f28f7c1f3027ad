/** Why a call was not made: the budget could be passed, or the API refused an earlier request of this run. */
export type CallWithheld = 'budget' | 'api_refused'

/**
 * What one select run may still spend on the model, shared by its workers: each call reserves its
 * worst case before it is made (workers call at once), and settles to what it cost once answered.
 * A refused request (a wrong key, an unknown model) stops every later call of the run.
 */
export class SelectionBudget {
  /** Spent so far, with the worst case of the calls in flight. */
  private spent = 0
  private hit = false
  private refusal: string | undefined

  /** `maxCost`: --max-cost in US dollars; undefined for no budget. */
  constructor(readonly maxCost: number | undefined) {}

  /** Once true, no worker claims another anime. */
  get stopped(): boolean {
    return this.hit || this.refusal !== undefined
  }

  /** A call was withheld because it could have passed --max-cost. */
  get stoppedByBudget(): boolean {
    return this.hit
  }

  /** Why the API refused, for the summary; undefined when it did not. */
  get refused(): string | undefined {
    return this.refusal
  }

  /** Hold a call's worst case; a call that could pass the budget stops the run's spending for good. */
  reserve(worstCase: number): 'reserved' | CallWithheld {
    if (this.hit || (this.maxCost !== undefined && this.spent + worstCase > this.maxCost)) {
      this.hit = true
      return 'budget'
    }
    if (this.refusal !== undefined) return 'api_refused'
    this.spent += worstCase
    return 'reserved'
  }

  /** The call was answered: what it cost replaces what was held for it. */
  settle(reserved: number, costUsd: number): void {
    this.spent += costUsd - reserved
  }

  /** The call failed unbilled: what was held for it is free again. */
  cancel(reserved: number): void {
    this.spent -= reserved
  }

  /** Every call would fail the same way: no more are made in this run. */
  refuse(reason: string): void {
    this.refusal = reason
  }
}
