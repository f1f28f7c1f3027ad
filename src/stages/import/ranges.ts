// What `import` takes for numbers a user types: checked at the edge (the command's flags) and again
// by the service, so that no value reaches the database that one engine stores and another refuses
// (PostgreSQL's INTEGER ends at 2,147,483,647; SQLite takes anything).

/** Episode numbers: 0 for a prologue, and far more than the longest series has. */
export const EPISODE_RANGE = {min: 0, max: 100_000} as const

/** The years an anime can have aired in. */
export const YEAR_RANGE = {min: 1900, max: 2100} as const
