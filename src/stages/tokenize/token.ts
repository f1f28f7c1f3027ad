/** One token as the tokens file stores it (the design's format). */
export interface Token {
  surface: string
  pos: string
  pos_detail: string
  reading: string
  base_form: string
}

/** The word a token counts as: its base form, or the surface when the dictionary has none ('*'). */
export function wordOf(token: Token): string {
  return token.base_form && token.base_form !== '*' ? token.base_form : token.surface
}
