// Grants on a key: the per-key index consulted on every check, and grant tokens. Grants take
// effect at once in macaw, so a token only has to be well formed and name a grant; it cannot
// widen a grant (the grantee must still be the caller), which is why a checksum suffices.
import { createHash, randomBytes } from 'node:crypto'
import { InvalidGrantTokenException } from '../protocol/errors.js'
import type { GrantRecord } from '../store/store.js'

/** Grant operations an HMAC key accepts (AWS KMS Developer Guide, Grants). */
export const HMAC_GRANT_OPERATIONS = ['GenerateMac', 'VerifyMac', 'DescribeKey', 'CreateGrant', 'RetireGrant'] as const

export const MAX_GRANTS_PER_KEY = 50_000

/** Grants of one key by grantee principal ARN; updated in place as grants come and go. */
export class GrantIndex {
  private readonly byGrantee = new Map<string, GrantRecord[]>()
  private readonly byId = new Map<string, GrantRecord>()
  /** The shared empty index: never changed (put() on it is refused; copy it first). */
  static readonly EMPTY = new GrantIndex([])

  constructor(grants: readonly GrantRecord[]) {
    for (const g of grants) this.add(g)
  }

  private add(g: GrantRecord): void {
    this.byId.set(g.grantId, g)
    const list = this.byGrantee.get(g.granteePrincipal)
    if (list) list.push(g)
    else this.byGrantee.set(g.granteePrincipal, [g])
  }

  get size(): number {
    return this.byId.size
  }

  has(grantId: string): boolean {
    return this.byId.has(grantId)
  }

  /** Adds or replaces a grant; cost proportional to the grantee's grants, not the key's. */
  put(grant: GrantRecord): void {
    if (this === GrantIndex.EMPTY) throw new Error('GrantIndex.EMPTY is shared and never changes')
    this.remove(grant.grantId)
    this.add(grant)
  }

  /** Removes a grant if present. */
  remove(grantId: string): void {
    const g = this.byId.get(grantId)
    if (g === undefined) return
    this.byId.delete(grantId)
    const list = this.byGrantee.get(g.granteePrincipal) ?? []
    const at = list.indexOf(g)
    if (at >= 0) list.splice(at, 1)
    if (list.length === 0) this.byGrantee.delete(g.granteePrincipal)
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
