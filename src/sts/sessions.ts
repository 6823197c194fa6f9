// What the operations that issue temporary credentials share: the role named by RoleArn, the
// session name and policy rules, session tags, and the credentials themselves.
import { randomBytes } from 'node:crypto'
import { assumedRoleArn, newSessionAccessKeyId } from '../auth/principals.js'
import type { SessionClaims } from '../auth/session-token.js'
import type { RoleRecord } from '../store/store.js'
import { MalformedPolicyDocumentException } from '../protocol/errors.js'
import type { StsContext } from './operation.js'
import { StsError, stsTime, validationError, type Params, type XmlMembers } from './query.js'

export const ROLE_ARN = { min: 20, max: 2048 }
export const SESSION_NAME = { min: 2, max: 64, pattern: { test: /^[\w+=,.@-]*$/, text: '[\\w+=,.@-]*' } }
// Tab, line feed, carriage return and the printable Latin-1 range (the model's pattern).
export const SESSION_POLICY = { min: 1, max: 2048, pattern: { test: /^[\t\n\r\u0020-\u00FF]+$/, text: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' } }
const TAG_KEY = { min: 1, max: 128, pattern: { test: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, text: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+' } }
const TAG_VALUE = { min: 0, max: 256, pattern: { test: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, text: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*' } }

/** A role ARN's account and name (the name is the last segment of a role path). */
export function parseRoleArn(partition: string, arn: string): { accountId: string; roleName: string } | undefined {
  const prefix = `arn:${partition}:iam::`
  if (!arn.startsWith(prefix)) return undefined
  const rest = arn.slice(prefix.length)
  const accountId = rest.slice(0, 12)
  if (!/^\d{12}$/.test(accountId) || !rest.startsWith(':role/', 12)) return undefined
  const roleName = rest.slice(rest.lastIndexOf('/') + 1)
  return /^[\w+=,.@-]{1,64}$/.test(roleName) ? { accountId, roleName } : undefined
}

/** Session tags (`Tags.member.N.Key` / `.Value`); keys are unique regardless of case (AWS). */
export function sessionTags(params: Params): [string, string][] {
  const tags: [string, string][] = []
  for (const i of params.members('Tags', 50, 'Key')) {
    const key = params.string(`Tags.member.${i}.Key`, TAG_KEY, `tags.${i}.member.key`) ?? ''
    const value = params.string(`Tags.member.${i}.Value`, TAG_VALUE, `tags.${i}.member.value`) ?? ''
    tags.push([key, value])
  }
  return tags
}

export function checkUniqueTags(tags: readonly (readonly [string, string])[]): void {
  const keys = new Set(tags.map(([k]) => k.toLowerCase()))
  if (keys.size !== tags.length) throw new StsError('InvalidParameterValue', 400, 'Duplicate tag keys found. Please note that Tag keys are case insensitive.')
}

/** A session policy must be a valid identity policy; it is compiled again for every request. */
export function checkSessionPolicy(ctx: StsContext, text: string | undefined): void {
  if (text === undefined) return
  try {
    const policy = ctx.services.policies.get(text, 'identity')
    if (policy.unknownOperators.length > 0) throw new MalformedPolicyDocumentException(`Policy contains an unknown condition operator: ${policy.unknownOperators[0] ?? ''}.`)
  } catch (err) {
    if (err instanceof MalformedPolicyDocumentException) throw new StsError('MalformedPolicyDocument', 400, err.message)
    throw err
  }
}

/** Parameters macaw cannot honour (no managed policies, no MFA devices) are refused, not ignored. */
export function refuseUnsupported(params: Params): void {
  if (params.has('PolicyArns.member.1.arn')) throw validationError('PolicyArns is not supported: macaw has no managed policies; pass the session policy as Policy.')
  if (params.has('SerialNumber') || params.has('TokenCode')) {
    throw new StsError('AccessDenied', 403, 'MultiFactorAuthentication failed with invalid MFA one time pass code.')
  }
}

/**
 * The room a session's policy and tags may take in its token, in characters: the token travels in
 * a request header, and node refuses requests whose headers pass 16 KiB. A session at this bound
 * makes a token of about 6,000 characters.
 */
export const PACKED_CHARS = 4096

/** How full the session policy and tags make the packed session, in percent (as AWS reports it). */
export function packedPolicySize(policy: string | undefined, tags: readonly (readonly [string, string])[]): number | undefined {
  if (policy === undefined && tags.length === 0) return undefined
  const chars = (policy?.length ?? 0) + tags.reduce((n, [k, v]) => n + k.length + v.length, 0)
  const percent = Math.max(1, Math.ceil((chars / PACKED_CHARS) * 100))
  // AWS's text (test/fixtures/aws-texts.json).
  if (percent > 100) throw new StsError('PackedPolicyTooLarge', 400, `Packed policy consumes ${percent}% of allotted space, please use smaller policy.`)
  return percent
}

/** New temporary credentials for `claims`, sealed into their session token. */
export function issue(ctx: StsContext, claims: Omit<SessionClaims, 'accessKeyId' | 'secretAccessKey' | 'issuedAt' | 'expiresAt'>, seconds: number): { credentials: XmlMembers; claims: SessionClaims } {
  const full: SessionClaims = {
    ...claims,
    accessKeyId: newSessionAccessKeyId(),
    secretAccessKey: randomBytes(30).toString('base64'),
    issuedAt: ctx.now,
    expiresAt: ctx.now + seconds * 1000,
  }
  return {
    claims: full,
    credentials: {
      AccessKeyId: full.accessKeyId,
      SecretAccessKey: full.secretAccessKey,
      SessionToken: ctx.services.tokens.seal(full),
      Expiration: stsTime(full.expiresAt),
    },
  }
}

/** What a role session is issued from: the role, the session name and the session's own limits. */
export interface RoleSessionRequest {
  readonly role: RoleRecord
  readonly sessionName: string
  readonly seconds: number
  readonly policy?: string | undefined
  readonly tags?: readonly (readonly [string, string])[]
  readonly extra?: Pick<SessionClaims, 'source' | 'webIdentity'>
}

/**
 * Credentials for a session of `role` after the caller was allowed to assume it: the duration
 * within the role's maximum, a valid session policy that fits with the tags, then the sealed token
 * and the answer's Credentials, AssumedRoleUser and PackedPolicySize.
 */
export function issueRoleSession(ctx: StsContext, r: RoleSessionRequest): XmlMembers {
  const { role, sessionName, policy, tags = [] } = r
  if (r.seconds > role.maxSessionSeconds) throw validationError('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
  checkSessionPolicy(ctx, policy)
  const packed = packedPolicySize(policy, tags)
  const claims = {
    kind: 'role',
    accountId: role.accountId,
    name: role.roleName,
    roleId: role.roleId,
    sessionName,
    ...(policy === undefined ? {} : { policy }),
    ...(tags.length === 0 ? {} : { tags }),
    ...r.extra,
  } as const
  return {
    Credentials: issue(ctx, claims, r.seconds).credentials,
    AssumedRoleUser: {
      AssumedRoleId: `${role.roleId}:${sessionName}`,
      Arn: assumedRoleArn(ctx.services.partition, role.accountId, role.roleName, sessionName),
    },
    PackedPolicySize: packed,
  }
}

export function accessDenied(who: string, action: string, resource: string): StsError {
  return new StsError('AccessDenied', 403, `User: ${who} is not authorized to perform: ${action} on resource: ${resource}`)
}
