// Callers: who signed a request. Resolves an access key id to its account, user, compiled
// identity policy and (unwrapped) secret, with an in-memory cache dropped on every access-key or
// user change; and temporary credentials (a session token, auth/session-token.ts) to the role or
// user session they belong to, checked against the role as it is now (deleted, revoked).
import { createHash, randomBytes } from 'node:crypto'
import { ExpiredTokenException } from '../protocol/errors.js'
import type { AccessKeyRecord, ChangeFeed, IdentityStore, RoleRecord } from '../store/store.js'
import type { Principal } from './authorize.js'
import { DENY_ALL, type CompiledPolicy, type PolicyCache } from './policy.js'
import type { SessionClaims, SessionTokens } from './session-token.js'
import type { SignedRequest, SigV4Verifier, VerifiedRequest } from './sigv4.js'

/** The kinds of identity, as CloudTrail's userIdentity.type names them. */
export type CallerType = 'Root' | 'IAMUser' | 'AssumedRole' | 'WebIdentityUser'

export interface Caller extends Principal {
  readonly type: CallerType
  readonly accountId: string
  /**
   * `arn:<partition>:iam::<account>:root`, `arn:<partition>:iam::<account>:user/<name>` or, for a
   * role session, `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`.
   */
  readonly arn: string
  readonly accessKeyId: string
  readonly userName?: string
  readonly isRoot: boolean
  /** Temporary credentials only: the session's facts. */
  readonly session?: CallerSession
}

/** What a request signed with temporary credentials knows of its session. */
export interface CallerSession {
  readonly claims: SessionClaims
  /** `aws:userid`: `<role id>:<session name>` for a role session. */
  readonly userId: string
  /** The role, for a role session: `arn:<partition>:iam::<account>:role/<name>`. */
  readonly roleArn?: string
}

/** A caller with its secret, for the SigV4 verifier; the secret never leaves this module's users. */
export interface Credential {
  readonly caller: Caller
  readonly secretAccessKey: string
}

export function rootArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`
}

export function userArn(partition: string, accountId: string, userName: string): string {
  return `arn:${partition}:iam::${accountId}:user/${userName}`
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`
}

export function assumedRoleArn(partition: string, accountId: string, roleName: string, sessionName: string): string {
  return `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** `prefix`, then one character of [A-Z2-7] per byte. */
function awsId(prefix: string, bytes: Uint8Array): string {
  let out = prefix
  for (const b of bytes) out += ALNUM[b & 31]
  return out
}

/** AWS-shaped access key id: `AKIA` + 16 characters of [A-Z2-7]. */
export function newAccessKeyId(): string {
  return awsId('AKIA', randomBytes(16))
}

/** A temporary access key id: `ASIA` + 16 characters, as STS gives. */
export function newSessionAccessKeyId(): string {
  return awsId('ASIA', randomBytes(16))
}

/** A role's unique id: `AROA` + 17 characters. */
export function newRoleId(): string {
  return awsId('AROA', randomBytes(17))
}

/**
 * An IAM user's unique id (`AIDA` + 17 characters), as GetCallerIdentity's UserId shows it: macaw
 * stores none, so it is derived from the account and name (stable, not secret).
 */
export function iamUserId(accountId: string, userName: string): string {
  return awsId('AIDA', createHash('sha256').update(`${accountId}/${userName}`).digest().subarray(0, 17))
}

/**
 * The caller's unique id as GetCallerIdentity's UserId gives it: `<role id>:<session>` for a role
 * session, the account id for the root user, the `AIDA…` id for an IAM user.
 */
export function userIdOf(caller: Caller): string {
  return caller.session?.userId ?? (caller.isRoot ? caller.accountId : iamUserId(caller.accountId, caller.userName ?? ''))
}

/** AWS's text (test/fixtures/aws-texts.json). */
const EXPIRED_TOKEN = 'The security token included in the request is expired'

/** 40 characters from 30 random bytes, like AWS secret access keys. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64')
}

/** The envelope context binding a stored secret to its access key id. */
export function secretContext(accessKeyId: string): Buffer {
  return Buffer.from(`macaw:access-key:${accessKeyId}`)
}

/** Unknown access key ids remembered at the most (each id is at most 128 characters). */
const MAX_UNKNOWN_IDS = 4096
/** Roles remembered at the most (each with its two policies, compiled and shared by text). */
const MAX_ROLES = 10_000

/** Sessions whose requests verified, remembered at the most (about 3 KB each: 12 MB). */
const MAX_SESSIONS = 4096

/**
 * A session's id in the sessions cache: the last characters of its token, the end of its GCM tag
 * (at least 120 bits of it), which differs from token to token. Hashing the whole token (about 260
 * characters, a new string on every request) for the map cost about 2,800 instructions a request
 * under callgrind; the entry keeps its whole token, which a hit must equal.
 */
const TOKEN_ID_CHARS = 22
const tokenId = (token: string): string => token.slice(-TOKEN_ID_CHARS)

/** What a session's credential was built from: still current while these are. */
interface SessionBasis {
  /** The role object it was built from (the role cache replaces it on every change or re-read). */
  readonly role: CachedRole | undefined
  /** The resolver's epoch, for user sessions (bumped by every user or access-key change). */
  readonly epoch: number
  readonly at: number
}

interface CachedRole {
  readonly record: RoleRecord
  readonly identity: CompiledPolicy | undefined
}

export interface ResolverOptions {
  /** Opens session tokens; without it, no temporary credentials are accepted. */
  readonly tokens?: SessionTokens | undefined
  /** The wall clock session expiry is judged by (epoch ms). */
  readonly clock?: () => number
}

export class CredentialResolver {
  private readonly cache = new Map<string, { value: Credential; at: number }>()
  /**
   * Ids with no active access key, so that a flood of one bad id does not hammer the store. Small
   * and bounded (about 1 MB); a flood of many ids only evicts itself and costs store lookups.
   */
  private readonly unknown = new Map<string, number>()
  /**
   * Session tokens whose requests verified, with what their caller was built from: a token is
   * opened and its caller built once, not on every request. Filled only by verify(), that is
   * after a signature made with the session's secret checked out.
   */
  private readonly sessions = new Map<string, { readonly token: string; readonly credential: Credential; readonly basis: SessionBasis }>()
  /** The basis of credentials resolveSession built, until verify() keeps them (or they are dropped). */
  private readonly built = new WeakMap<Credential, SessionBasis>()
  /** Roles by account and name (undefined: no such role), for the sessions signed with them. */
  private readonly roles = new Map<string, { value: CachedRole | undefined; at: number }>()
  /** Entries are re-read after this long even without a change notice (multi-node safety net). */
  ttlMs = 1000
  private epoch = 0
  private readonly unsubscribe: () => void

  private readonly store: IdentityStore & ChangeFeed
  private readonly partition: string
  private readonly policies: PolicyCache
  private readonly unwrapSecret: (record: AccessKeyRecord) => Promise<string>
  private readonly tokens: SessionTokens | undefined
  private readonly clock: () => number

  constructor(
    store: IdentityStore & ChangeFeed,
    partition: string,
    policies: PolicyCache,
    unwrapSecret: (record: AccessKeyRecord) => Promise<string>,
    options: ResolverOptions = {},
  ) {
    this.store = store
    this.partition = partition
    this.policies = policies
    this.unwrapSecret = unwrapSecret
    this.tokens = options.tokens
    this.clock = options.clock ?? Date.now
    this.unsubscribe = store.onChange((change) => {
      if (change.kind === 'accessKey') {
        this.epoch++
        this.cache.delete(change.accessKeyId)
        this.unknown.delete(change.accessKeyId)
      } else if (change.kind === 'role') {
        this.epoch++
        this.roles.delete(roleKey(change.accountId, change.roleName))
      } else if (change.kind === 'user' || change.kind === 'unknown') {
        // Rare: a user's policy changed or the user went away, or the store lost track. Drop everything.
        this.epoch++
        this.cache.clear()
        this.unknown.clear()
        this.roles.clear()
        this.sessions.clear()
      }
    })
  }

  close(): void {
    this.unsubscribe()
  }

  /** Entries held (credentials, unknown ids, roles, sessions): bounded, and never grown by a forged token. */
  get size(): number {
    return this.cache.size + this.unknown.size + this.roles.size + this.sessions.size
  }

  /**
   * Verifies a request's signature with the credential its access key id (and session token)
   * resolves to. A session is kept for its next requests only once such a signature verified.
   */
  async verify(verifier: SigV4Verifier, req: SignedRequest): Promise<VerifiedRequest<Credential>> {
    const verified = await verifier.verify(req, (id, token) => this.resolve(id, token))
    const token = verified.sessionToken
    const basis = token === undefined ? undefined : this.built.get(verified.principal)
    if (token !== undefined && basis !== undefined) {
      this.built.delete(verified.principal)
      remember(this.sessions, tokenId(token), { token, credential: verified.principal, basis }, MAX_SESSIONS)
    }
    return verified
  }

  /**
   * The credential an access key id (and session token, for temporary credentials) signs with;
   * undefined when there is none. ExpiredTokenException for a genuine token past its expiry.
   */
  async resolve(accessKeyId: string, sessionToken?: string): Promise<Credential | undefined> {
    // A token with long-term credentials, or temporary credentials without their token: invalid.
    if (sessionToken !== undefined) return accessKeyId.startsWith('ASIA') ? this.resolveSession(accessKeyId, sessionToken) : undefined
    if (accessKeyId.startsWith('ASIA')) return undefined
    const cached = this.cache.get(accessKeyId)
    const now = performance.now()
    if (cached !== undefined && now - cached.at < this.ttlMs) return cached.value
    const unknownAt = this.unknown.get(accessKeyId)
    if (unknownAt !== undefined && now - unknownAt < this.ttlMs) return undefined
    const epoch = this.epoch
    const record = await this.store.getAccessKey(accessKeyId)
    let credential: Credential | null = null
    if (record && record.status === 'Active') {
      const caller = await this.longTermCaller(record.accountId, record.userName, accessKeyId)
      if (caller !== undefined) credential = { caller, secretAccessKey: await this.unwrapSecret(record) }
    }
    if (epoch === this.epoch) {
      if (credential === null) {
        this.cache.delete(accessKeyId)
        remember(this.unknown, accessKeyId, now, MAX_UNKNOWN_IDS)
      } else {
        this.unknown.delete(accessKeyId)
        remember(this.cache, accessKeyId, { value: credential, at: now }, 10_000)
      }
    }
    return credential ?? undefined
  }

  /** The account's root user, or one of its IAM users (undefined when the user is gone). */
  private async longTermCaller(accountId: string, userName: string | undefined, accessKeyId: string): Promise<Caller | undefined> {
    if (userName === undefined) return { type: 'Root', accountId, arn: rootArn(this.partition, accountId), accessKeyId, isRoot: true }
    const user = await this.store.getUser(accountId, userName)
    // Access keys go with their user; a session token may outlive it, and then is invalid.
    if (user === undefined) return undefined
    return {
      type: 'IAMUser',
      accountId,
      arn: userArn(this.partition, accountId, userName),
      accessKeyId,
      isRoot: false,
      userName,
      identity: this.compiled(user.policy),
    }
  }

  /**
   * Temporary credentials: the token must be one this deployment sealed for this access key id,
   * unexpired, of a role that still exists as it was (same role id) or of a user that still exists.
   * Sessions issued before the role's revocation time are denied everything, as AWS's
   * revoke-sessions policy does.
   */
  private async resolveSession(accessKeyId: string, token: string): Promise<Credential | undefined> {
    const id = tokenId(token)
    const hit = this.sessions.get(id)
    // Another token that ends alike (a forgery, say) is not this session, and does not evict it.
    if (hit !== undefined && hit.token === token) {
      const claims = hit.credential.caller.session?.claims
      if (claims !== undefined && claims.accessKeyId === accessKeyId) {
        if (this.clock() >= claims.expiresAt) throw new ExpiredTokenException(EXPIRED_TOKEN)
        const current =
          claims.kind === 'role'
            ? (await this.role(claims.accountId, claims.name ?? '')) === hit.basis.role
            : hit.basis.epoch === this.epoch && performance.now() - hit.basis.at < this.ttlMs
        if (current) return hit.credential
      }
      this.sessions.delete(id)
    }
    const claims = this.tokens?.open(token)
    if (claims === undefined || claims.accessKeyId !== accessKeyId) return undefined
    if (this.clock() >= claims.expiresAt) throw new ExpiredTokenException(EXPIRED_TOKEN)
    const epoch = this.epoch
    const at = performance.now()
    let basisRole: CachedRole | undefined
    const sessionPolicy = this.compiled(claims.policy)
    let caller: Caller | undefined
    if (claims.kind === 'role') {
      const { name = '', roleId = '', sessionName = '' } = claims
      const role = await this.role(claims.accountId, name)
      if (role === undefined || role.record.roleId !== roleId) return undefined
      basisRole = role
      const revoked = role.record.sessionsValidAfter !== undefined && claims.issuedAt < role.record.sessionsValidAfter
      const arnOfRole = roleArn(this.partition, claims.accountId, name)
      caller = {
        type: 'AssumedRole',
        accountId: claims.accountId,
        arn: assumedRoleArn(this.partition, claims.accountId, name, sessionName),
        accessKeyId,
        isRoot: false,
        identity: revoked ? DENY_ALL : role.identity,
        roleArn: arnOfRole,
        session: { claims, userId: `${roleId}:${sessionName}`, roleArn: arnOfRole },
      }
    } else {
      const long = await this.longTermCaller(claims.accountId, claims.name, accessKeyId)
      if (long === undefined) return undefined
      caller = { ...long, session: { claims, userId: userIdOf(long) } }
    }
    if (sessionPolicy !== undefined) caller = { ...caller, sessionPolicy }
    const credential = { caller, secretAccessKey: claims.secretAccessKey }
    this.built.set(credential, { role: basisRole, epoch, at })
    return credential
  }

  /** A role as the store has it now, cached until it changes (or for ttlMs without a feed). */
  async role(accountId: string, roleName: string): Promise<CachedRole | undefined> {
    const id = roleKey(accountId, roleName)
    const now = performance.now()
    const cached = this.roles.get(id)
    if (cached !== undefined && now - cached.at < this.ttlMs) return cached.value
    const epoch = this.epoch
    const record = await this.store.getRole(accountId, roleName)
    const value = record === undefined ? undefined : { record, identity: this.compiled(record.policy) }
    if (epoch === this.epoch) remember(this.roles, id, { value, at: now }, MAX_ROLES)
    return value
  }

  /** A stored policy, compiled; one that no longer compiles denies everything rather than nothing. */
  private compiled(text: string | undefined): CompiledPolicy | undefined {
    if (text === undefined) return undefined
    try {
      return this.policies.get(text, 'identity')
    } catch {
      return DENY_ALL
    }
  }
}

function roleKey(accountId: string, roleName: string): string {
  return `${accountId}\0${roleName}`
}

/** Sets an entry, first evicting the oldest one if the map is full. */
function remember<V>(map: Map<string, V>, id: string, value: V, max: number): void {
  map.delete(id)
  if (map.size >= max) map.delete(map.keys().next().value as string)
  map.set(id, value)
}
