import type {AppContext} from '../../app/context.js'
import {SelectionModel} from './claude.js'

/**
 * The model client when ANTHROPIC_API_KEY is set (undefined otherwise). The key goes to the SDK
 * only: it is never stored, logged or echoed. ANTHROPIC_BASE_URL (a proxy, a local stand-in) is
 * honoured by the SDK itself.
 */
export async function createSelectionModel(ctx: AppContext): Promise<SelectionModel | undefined> {
  const apiKey = process.env.ANTHROPIC_API_KEY?.trim()
  if (!apiKey) return undefined
  const {default: Anthropic} = await import('@anthropic-ai/sdk')
  const s = ctx.config.select
  const client = new Anthropic({apiKey, maxRetries: s.api_max_retries, timeout: s.api_timeout_seconds * 1000})
  return new SelectionModel(client, {model: s.model, maxTokens: s.max_tokens, inputUsdPerMtok: s.input_usd_per_mtok, outputUsdPerMtok: s.output_usd_per_mtok})
}
