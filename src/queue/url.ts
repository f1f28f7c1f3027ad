/** A queue URL with its password replaced, for every message, `status` and --json. */
export function maskUrl(url: string): string {
  let out = url
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    // pg also takes passwords as query parameters
    for (const key of ['password', 'sslpassword']) if (u.searchParams.has(key)) u.searchParams.set(key, '***')
    out = u.toString()
  } catch {
    // not a URL that parses: the patterns below still apply
  }
  // "scheme:[/…]user:SECRET@host" in whatever shape (a typo like postgres:/u:pw@h parses with the
  // password in the path), and any password= value
  // (up to the last @: a password may hold '/' or '@' that URL parsing chokes on)
  return out.replace(/^([a-z][a-z0-9+.-]*:\/*[^:/@]*:).*@/i, '$1***@').replace(/((?:ssl)?password=)[^&]*/gi, '$1***')
}
