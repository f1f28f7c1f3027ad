/** A queue URL with its password replaced, for every message, `status` and --json. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    // not a URL we can parse: hide anything between "://user:" and "@"
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@')
  }
}
