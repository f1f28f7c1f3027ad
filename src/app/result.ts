/**
 * What a command's service returns: the exit code, the result object (printed as one JSON object
 * under --json) and the human summary (printed otherwise). Services never print their own results.
 */
export interface ServiceResult<T extends object = Record<string, unknown>> {
  code: number
  result: T
  /** Lines for a person; log lines (progress, warnings) go to stderr as they happen instead. */
  text: string[]
}
