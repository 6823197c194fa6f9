// Store URLs in what macaw prints and logs.
import { randomUUID } from 'node:crypto'

/** Query parameters of a PostgreSQL URL that carry a secret (libpq's and pg's names). */
const SECRET_PARAMS = new Set(['password', 'sslpassword', 'passfile', 'sslkey'])

/**
 * A PostgreSQL URL safe to print or log: the password (whatever characters it holds) and every
 * secret query parameter replaced by <redacted>. Parsed as a URL, never cut by pattern, so that a
 * password with ':' or '@' in it cannot leak a part. Unparsable text is not shown at all.
 */
export function redactStoreUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'postgres://<unparsable URL, not shown>'
  }
  // A marker no URL holds, swapped for <redacted> at the end (the URL setters would escape '<').
  const marker = `m${randomUUID().replaceAll('-', '')}`
  if (parsed.password !== '') parsed.password = marker
  for (const name of [...parsed.searchParams.keys()]) if (SECRET_PARAMS.has(name.toLowerCase())) parsed.searchParams.set(name, marker)
  return parsed.toString().replaceAll(marker, '<redacted>')
}
