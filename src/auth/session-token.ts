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
  /** Who asked for the session: the caller's ARN, or the web identity's issuer and subject. */
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
    const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()])
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

/** Claims as sealed by this or an older build; undefined if a required field is missing. */
function parseClaims(value: unknown): SessionClaims | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const c = value as Record<string, unknown>
  const text = (name: string): boolean => typeof c[name] === 'string'
  const optional = (name: string): boolean => c[name] === undefined || typeof c[name] === 'string'
  if (c['kind'] !== 'role' && c['kind'] !== 'user') return undefined
  if (!text('accountId') || !text('accessKeyId') || !text('secretAccessKey')) return undefined
  if (!Number.isSafeInteger(c['issuedAt']) || !Number.isSafeInteger(c['expiresAt'])) return undefined
  if (!['name', 'roleId', 'sessionName', 'policy', 'source'].every(optional)) return undefined
  if (c['kind'] === 'role' && (!text('name') || !text('roleId') || !text('sessionName'))) return undefined
  return c as unknown as SessionClaims
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
