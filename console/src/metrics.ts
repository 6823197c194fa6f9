// The service's Prometheus text (GET /metrics), reduced to what the health view and the audit page
// show: request and error counts, the request-duration histogram summed over operations, and the
// audit chain verification. Parsed line by line with string operations (no RegExp from the text).
export interface Sample {
  /** When it was taken (ms). */
  readonly at: number
  readonly requests: number
  readonly errors: number
  /** Cumulative histogram counts by upper bound (seconds), summed over operations. */
  readonly buckets: ReadonlyMap<number, number>
  readonly chain: { readonly verified: number; readonly broken: boolean; readonly checkedAt: number }
}

export async function fetchMetrics(): Promise<string> {
  const res = await fetch('/metrics', { cache: 'no-store' })
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`)
  return res.text()
}

function labels(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim().replace(/^"|"$/g, ''))
  }
  return out
}

export function sample(text: string, at = Date.now()): Sample {
  let requests = 0
  let errors = 0
  let verified = 0
  let broken = false
  let checkedAt = 0
  const buckets = new Map<number, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    const value = Number(line.slice(space + 1))
    const head = line.slice(0, space)
    const brace = head.indexOf('{')
    const name = brace < 0 ? head : head.slice(0, brace)
    const l = brace < 0 ? new Map<string, string>() : labels(head.slice(brace + 1, -1))
    if (name === 'macaw_requests_total') {
      requests += value
      if (l.get('outcome') !== 'success') errors += value
    } else if (name === 'macaw_request_duration_seconds_bucket') {
      const le = l.get('le') === '+Inf' ? Infinity : Number(l.get('le'))
      buckets.set(le, (buckets.get(le) ?? 0) + value)
    } else if (name === 'macaw_audit_chain_verified_records') verified = value
    else if (name === 'macaw_audit_chain_broken') broken = value > 0
    else if (name === 'macaw_audit_chain_checked_timestamp_seconds') checkedAt = value
  }
  return { at, requests, errors, buckets, chain: { verified, broken, checkedAt } }
}

/** The 99th percentile (seconds, a bucket's upper bound) of the requests between two samples. */
export function p99(from: Sample, to: Sample): number | undefined {
  const bounds = [...to.buckets.keys()].sort((a, b) => a - b)
  const total = (to.buckets.get(Infinity) ?? 0) - (from.buckets.get(Infinity) ?? 0)
  if (total <= 0) return undefined
  for (const le of bounds) {
    if ((to.buckets.get(le) ?? 0) - (from.buckets.get(le) ?? 0) >= total * 0.99) return le
  }
  return undefined
}
