// What an STS operation is and what it may reach: the caller (absent for the unsigned
// AssumeRoleWithWebIdentity), the roles and users of the store, the session-token sealer.
import type { RequestFacts } from '../auth/context.js'
import type { PolicyCache } from '../auth/policy.js'
import type { Caller, CredentialResolver } from '../auth/principals.js'
import type { SessionTokens } from '../auth/session-token.js'
import type { IdentityStore } from '../store/store.js'
import type { Params, XmlMembers } from './query.js'
import type { WebIdentityVerifier } from './web-identity.js'

export interface StsServices {
  readonly partition: string
  /** Roles as the credential resolver caches them (changes seen on the next request). */
  readonly credentials: CredentialResolver
  readonly identities: Pick<IdentityStore, 'getUser' | 'getOidcProvider'>
  readonly webIdentity: WebIdentityVerifier
  readonly tokens: SessionTokens
  readonly policies: PolicyCache
}

export interface StsContext {
  readonly services: StsServices
  /** The signed caller; undefined only for an operation that takes unsigned requests. */
  readonly caller: Caller | undefined
  readonly facts: RequestFacts
  readonly now: number
  /** Set by the operation: the role the request was about, for the audit record. */
  role?: { readonly arn: string; readonly accountId: string }
  /** Set by AssumeRoleWithWebIdentity once the token verified: who the web identity is. */
  webIdentity?: { readonly provider: string; readonly subject: string; readonly audience: string }
}

export interface StsOperation {
  readonly name: string
  /** False for AssumeRoleWithWebIdentity: the web identity token is the credential. */
  readonly signed: boolean
  /** CloudTrail's readOnly: true for an operation that changes nothing and issues nothing. */
  readonly readOnly: boolean
  /** Request members safe to record in the audit trail (never a token or a policy's secret parts). */
  readonly audited: readonly string[]
  run(ctx: StsContext, params: Params): Promise<XmlMembers>
}

/** What an audit record shows of issued credentials: the access key id and expiry, never the secret or token. */
export function issuedElements(result: XmlMembers): Record<string, unknown> | null {
  const credentials = result['Credentials']
  if (typeof credentials !== 'object') return null
  const user = result['AssumedRoleUser']
  return {
    credentials: { accessKeyId: credentials['AccessKeyId'], expiration: credentials['Expiration'] },
    ...(typeof user === 'object' ? { assumedRoleUser: { assumedRoleId: user['AssumedRoleId'], arn: user['Arn'] } } : {}),
  }
}
