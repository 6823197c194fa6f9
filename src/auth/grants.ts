// Grants on a key: the per-key index consulted on every check, and grant tokens. Grants take
// effect at once in macaw, so a token only has to be well formed and name a grant; it cannot
// widen a grant (the grantee must still be the caller), which is why a checksum suffices.
import { createHash, randomBytes } from 'node:crypto'
import { InvalidGrantTokenException } from '../protocol/errors.js'
import type { GrantRecord } from '../store/store.js'

/** Grant operations an HMAC key accepts (reference §6.13). */
export const HMAC_GRANT_OPERATIONS = ['GenerateMac', 'VerifyMac', 'DescribeKey', 'CreateGrant', 'RetireGrant'] as const

export const MAX_GRANTS_PER_KEY = 50_000

/** Grants of one key by grantee principal ARN. */
export class GrantIndex {
  private readonly byGrantee = new Map<string, GrantRecord[]>()
  private readonly ids = new Set<string>()
  static readonly EMPTY = new GrantIndex([])

  constructor(grants: readonly GrantRecord[]) {
    for (const g of grants) {
      this.ids.add(g.grantId)
      const list = this.byGrantee.get(g.granteePrincipal)
      if (list) list.push(g)
      else this.byGrantee.set(g.granteePrincipal, [g])
    }
  }

  get size(): number {
    return this.ids.size
  }

  has(grantId: string): boolean {
    return this.ids.has(grantId)
  }

  /** Every operation that grants give `grantee` on this key. */
  operationsFor(grantee: string): Set<string> {
    const ops = new Set<string>()
    for (const g of this.byGrantee.get(grantee) ?? []) for (const op of g.operations) ops.add(op)
    return ops
  }

  /** Does a grant to `grantee` allow `operation`? */
  allows(grantee: string, operation: string): boolean {
    const list = this.byGrantee.get(grantee)
    if (list === undefined) return false
    for (const g of list) if (g.operations.includes(operation)) return true
    return false
  }
}

const VERSION = 1
const TOKEN_BYTES = 1 + 32 + 24 + 8

function checksum(body: Buffer): Buffer {
  return createHash('sha256').update('macaw-grant-token').update(body).digest().subarray(0, 8)
}

/** A new token for a grant; every token of a grant is interchangeable. */
export function newGrantToken(grantId: string): string {
  const body = Buffer.concat([Buffer.of(VERSION), Buffer.from(grantId, 'hex'), randomBytes(24)])
  return Buffer.concat([body, checksum(body)]).toString('base64url')
}

/** The grant id a token names; InvalidGrantTokenException if it is not a token we issued. */
export function grantIdOfToken(token: string): string {
  const raw = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url') : Buffer.alloc(0)
  if (raw.length !== TOKEN_BYTES || raw[0] !== VERSION) throw new InvalidGrantTokenException('Grant token is invalid.')
  const body = raw.subarray(0, TOKEN_BYTES - 8)
  if (!checksum(body).equals(raw.subarray(TOKEN_BYTES - 8))) throw new InvalidGrantTokenException('Grant token is invalid.')
  return body.subarray(1, 33).toString('hex')
}

/** Is the grant one of this key's (same account, Region and key id)? */
export function isGrantOf(grant: GrantRecord, key: { accountId: string; region: string; keyId: string }): boolean {
  return grant.accountId === key.accountId && grant.region === key.region && grant.keyId === key.keyId
}

/** A new 64-hex grant id. */
export function newGrantId(): string {
  return randomBytes(32).toString('hex')
}
