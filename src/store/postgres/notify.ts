// What PostgreSQL nodes tell each other on LISTEN/NOTIFY: a transaction's changes as JSON, tagged
// with the sending store so that it skips its own, and read back fail-safe ("everything changed"
// for anything not understood).
import { UNKNOWN_CHANGE, type StoreChange } from '../store.js'

/** NOTIFY payloads must stay under 8000 bytes; keep a margin. */
const MAX_PAYLOAD_BYTES = 7900

/**
 * NOTIFY payloads for a transaction's changes: `{"o": origin, "c": [changes]}`, split so that each
 * stays under PostgreSQL's 8000-byte limit. A change too big to send on its own (none is, with
 * validated names) becomes "everything changed", which is always safe for a cache.
 */
export function notifyPayloads(origin: string, changes: readonly StoreChange[]): string[] {
  const head = `{"o":${JSON.stringify(origin)},"c":[`
  const room = MAX_PAYLOAD_BYTES - Buffer.byteLength(head) - 2
  const out: string[] = []
  let batch: string[] = []
  let size = 0
  for (const change of changes) {
    let json = JSON.stringify(change)
    if (Buffer.byteLength(json) > room) json = JSON.stringify(UNKNOWN_CHANGE)
    const bytes = Buffer.byteLength(json) + 1
    if (batch.length > 0 && size + bytes > room) {
      out.push(`${head}${batch.join(',')}]}`)
      batch = []
      size = 0
    }
    batch.push(json)
    size += bytes
  }
  if (batch.length > 0) out.push(`${head}${batch.join(',')}]}`)
  return out
}

/** The changes in another store's payload; none for our own; "everything" for one we cannot read. */
export function parsePayload(origin: string, payload: string): StoreChange[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return [UNKNOWN_CHANGE]
  }
  if (typeof parsed !== 'object' || parsed === null) return [UNKNOWN_CHANGE]
  const { o, c } = parsed as { o?: unknown; c?: unknown }
  if (o === origin) return []
  if (!Array.isArray(c)) return [UNKNOWN_CHANGE]
  const changes: StoreChange[] = []
  for (const item of c as unknown[]) {
    const change = toChange(item)
    // Fail safe: a change we do not understand (a newer node?) may concern anything.
    if (change === undefined) return [UNKNOWN_CHANGE]
    changes.push(change)
  }
  return changes
}

function toChange(item: unknown): StoreChange | undefined {
  if (typeof item !== 'object' || item === null) return undefined
  const v = item as Record<string, unknown>
  const str = (name: string): string | undefined => (typeof v[name] === 'string' ? v[name] : undefined)
  const accountId = str('accountId')
  const region = str('region')
  switch (v['kind']) {
    case 'key': {
      const keyId = str('keyId')
      return accountId !== undefined && region !== undefined && keyId !== undefined ? { kind: 'key', accountId, region, keyId } : undefined
    }
    case 'alias': {
      const aliasName = str('aliasName')
      return accountId !== undefined && region !== undefined && aliasName !== undefined ? { kind: 'alias', accountId, region, aliasName } : undefined
    }
    case 'grant': {
      const keyId = str('keyId')
      const grantId = str('grantId')
      const version = v['version']
      return accountId !== undefined && region !== undefined && keyId !== undefined && grantId !== undefined && Number.isSafeInteger(version)
        ? { kind: 'grant', accountId, region, keyId, grantId, version: version as number }
        : undefined
    }
    case 'accessKey': {
      const accessKeyId = str('accessKeyId')
      return accessKeyId !== undefined ? { kind: 'accessKey', accessKeyId } : undefined
    }
    case 'user': {
      const userName = str('userName')
      // An older node's "everything changed" was a user change in account '*'.
      if (accountId === '*') return UNKNOWN_CHANGE
      return accountId !== undefined && userName !== undefined ? { kind: 'user', accountId, userName } : undefined
    }
    case 'role': {
      const roleName = str('roleName')
      return accountId !== undefined && roleName !== undefined ? { kind: 'role', accountId, roleName } : undefined
    }
    case 'setting': {
      const name = str('name')
      return name !== undefined ? { kind: 'setting', name } : undefined
    }
    case 'unknown':
      return UNKNOWN_CHANGE
    default:
      return undefined
  }
}
