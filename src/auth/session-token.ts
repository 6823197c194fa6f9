// Temporary credentials (STS): a session token is self-contained and sealed with AES-256-GCM under
// the session-token key, which the store keeps only sealed under the root of trust (setting
// sts.sessionKey, made once by the first server). Any worker or node opens a token without a store
// read; the session's access key id and secret travel inside it, readable by macaw only.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { open, seal, type Roots } from '../crypto/envelope.js'
import type { SettingStore } from '../store/store.js'
import type { RootOfTrust } from '../trust/root-of-trust.js'

export const SESSION_KEY_SETTING = 'sts.sessionKey'
export const SESSION_KEY_CONTEXT = Buffer.from('macaw-session-token-key-v1')

/** Format byte, then the 12-byte nonce, the ciphertext and the 16-byte tag; base64 on the wire. */
const FORMAT = 1
const NONCE_BYTES = 12
const TAG_BYTES = 16
const AAD = Buffer.from('macaw:session-token:v1')
/**
 * The longest token text opened: a session policy of 2,048 characters and 50 tags fit with room
 * to spare. A longer one is refused before it is decoded, so a request's token costs at most this.
 */
export const MAX_TOKEN_CHARS = 16_384

/** What a session is: the identity it acts as, its credentials, and its limits. */
export interface SessionClaims {
  /** `role`: AssumeRole or AssumeRoleWithWebIdentity; `user`: GetSessionToken of a user or root. */
  readonly kind: 'role' | 'user'
  readonly accountId: string
  /** The role's name, or the user's (absent for the account's root user). */
  readonly name?: string
  /** The role's unique id when the session was issued: a role deleted and made again is another. */
  readonly roleId?: string
  readonly sessionName?: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** Epoch ms. */
  readonly issuedAt: number
  readonly expiresAt: number
  /** The session policy, which narrows the role's permissions. */
  readonly policy?: string
  /** Session tags, as `aws:PrincipalTag/<key>`. */
  readonly tags?: readonly (readonly [string, string])[]
  /** The SourceIdentity the session was asked for with (AssumeRole). */
  readonly source?: string
  readonly webIdentity?: { readonly provider: string; readonly subject: string; readonly audience: string }
}

/** Seals and opens session tokens under one key. */
export class SessionTokens {
  private readonly key: Buffer

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the session-token key must be 32 bytes')
    this.key = key
  }

  seal(claims: SessionClaims): string {
    const nonce = randomBytes(NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    cipher.setAAD(AAD)
    const body = Buffer.concat([cipher.update(JSON.stringify(encodeClaims(claims)), 'utf8'), cipher.final()])
    return Buffer.concat([Buffer.of(FORMAT), nonce, body, cipher.getAuthTag()]).toString('base64')
  }

  /** The claims of a token this key sealed; undefined for anything else (forged, cut, other key). */
  open(token: string): SessionClaims | undefined {
    if (token.length > MAX_TOKEN_CHARS || token.length < 40) return undefined
    const raw = Buffer.from(token, 'base64')
    if (raw.length < 1 + NONCE_BYTES + TAG_BYTES + 2 || raw[0] !== FORMAT) return undefined
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + NONCE_BYTES))
      decipher.setAAD(AAD)
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
      const text = Buffer.concat([decipher.update(raw.subarray(1 + NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()])
      return parseClaims(JSON.parse(text.toString('utf8')))
    } catch {
      return undefined
    }
  }
}

/**
 * Claims as sealed: a positional JSON array, not an object with names, because every request of a
 * session carries its token (hashed for SigV4, parsed, hashed again as a cache key), so each
 * character counts: [kind, account, name, role id, session name, access key id, secret, issued,
 * expires, policy, tags, source, web identity], absent members as null and trailing ones dropped.
 */
type Packed = readonly unknown[]

function encodeClaims(c: SessionClaims): Packed {
  const w = c.webIdentity
  const out: unknown[] = [
    c.kind === 'role' ? 'r' : 'u',
    c.accountId,
    c.name ?? null,
    c.roleId ?? null,
    c.sessionName ?? null,
    c.accessKeyId,
    c.secretAccessKey,
    c.issuedAt,
    c.expiresAt,
    c.policy ?? null,
    c.tags ?? null,
    c.source ?? null,
    w === undefined ? null : [w.provider, w.subject, w.audience],
  ]
  while (out.at(-1) === null) out.pop()
  return out
}

/** The claims of a packed array; undefined if a required member is missing or of the wrong type. */
function parseClaims(value: unknown): SessionClaims | undefined {
  if (!Array.isArray(value)) return undefined
  const v = value as unknown[]
  const text = (i: number): string | undefined => (typeof v[i] === 'string' ? (v[i]) : undefined)
  const optional = (i: number): boolean => v[i] === undefined || v[i] === null || typeof v[i] === 'string'
  const kind = v[0] === 'r' ? 'role' : v[0] === 'u' ? 'user' : undefined
  const [accountId, accessKeyId, secretAccessKey] = [text(1), text(5), text(6)]
  if (kind === undefined || accountId === undefined || accessKeyId === undefined || secretAccessKey === undefined) return undefined
  if (!Number.isSafeInteger(v[7]) || !Number.isSafeInteger(v[8]) || ![2, 3, 4, 9, 11].every(optional)) return undefined
  if (kind === 'role' && (text(2) === undefined || text(3) === undefined || text(4) === undefined)) return undefined
  const tags = v[10]
  if (tags !== undefined && tags !== null && !(Array.isArray(tags) && tags.every((t) => Array.isArray(t) && t.length === 2 && t.every((x) => typeof x === 'string')))) return undefined
  const web = v[12]
  if (web !== undefined && web !== null && !(Array.isArray(web) && web.length === 3 && web.every((x) => typeof x === 'string'))) return undefined
  const set = <K extends string, T>(key: K, value: T | undefined | null): { [P in K]?: T } => (value === undefined || value === null ? {} : ({ [key]: value } as { [P in K]: T }))
  return {
    kind,
    accountId,
    ...set('name', text(2)),
    ...set('roleId', text(3)),
    ...set('sessionName', text(4)),
    accessKeyId,
    secretAccessKey,
    issuedAt: v[7] as number,
    expiresAt: v[8] as number,
    ...set('policy', text(9)),
    ...set('tags', tags as [string, string][] | null | undefined),
    ...set('source', text(11)),
    ...set('webIdentity', web === undefined || web === null ? undefined : { provider: String(web[0]), subject: String(web[1]), audience: String(web[2]) }),
  }
}

/** The session-token key, made and stored first if there is none (unless `create` is false). */
export async function loadSessionKey(store: SettingStore, root: RootOfTrust & Roots, create: boolean): Promise<Buffer | undefined> {
  let stored = await store.getSetting(SESSION_KEY_SETTING)
  if (stored === undefined) {
    if (!create) return undefined
    const key = randomBytes(32)
    const sealed = (await seal(root, key, SESSION_KEY_CONTEXT)).toString('base64')
    key.fill(0)
    // Two servers starting at once on one database: both use the first key stored.
    stored = await store.initSetting(SESSION_KEY_SETTING, sealed)
  }
  const key = await open(root, Buffer.from(stored, 'base64'), SESSION_KEY_CONTEXT)
  if (key.length !== 32) throw new Error('the session-token key is malformed')
  return key
}
