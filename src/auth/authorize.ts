// Authorization decisions, as AWS KMS makes them (AWS KMS Developer Guide, Authentication and access control): explicit deny anywhere wins; a key
// policy must allow the caller, either directly or by naming the caller's account, which then
// delegates to the caller's identity policy (the account root has every identity permission);
// cross-account use needs both sides; grants allow their grantee the operations they list.
import { AccessDeniedException } from '../protocol/errors.js'
import type { GrantRecord } from '../store/store.js'
import { GrantIndex } from './grants.js'
import { allowMatch, denies, type CompiledPolicy, type ConditionLookup, type Subject } from './policy.js'

export interface Principal extends Subject {
  /** The IAM user's or role's identity policy; undefined for root users and those without one. */
  readonly identity?: CompiledPolicy | undefined
  /**
   * Temporary credentials issued with a session policy: it narrows what the identity policy and
   * key policies naming the role allow (it never grants anything by itself).
   */
  readonly sessionPolicy?: CompiledPolicy | undefined
}

export interface KeyAccess {
  readonly accountId: string
  readonly arn: string
  readonly policy: CompiledPolicy
  readonly grants: GrantIndex
}

export interface AccessCheck {
  /** The IAM action, e.g. `kms:GenerateMac`. */
  readonly action: string
  /** May the operation act on a key of another account (AWS KMS Developer Guide, Allowing users in other accounts to use a KMS key)? */
  readonly crossAccount: boolean
  /** The grant operation that allows this action, if grants can allow it. */
  readonly grantOperation?: string | undefined
  /** Grants named by grant tokens that are not (yet) in the key's index. */
  readonly tokenGrants?: readonly GrantRecord[] | undefined
  readonly lookup: ConditionLookup
}

export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string }

const ALLOWED: Decision = { allowed: true }

function identityAllows(p: Principal, action: string, resource: string, lookup: ConditionLookup): boolean {
  if (!sessionAllows(p, action, resource, lookup)) return false
  if (p.isRoot) return true
  return p.identity !== undefined && allowMatch(p.identity, p, action, resource, lookup) !== undefined
}

/** Without a session policy, true; with one, whether it allows the action too. */
function sessionAllows(p: Principal, action: string, resource: string, lookup: ConditionLookup): boolean {
  return p.sessionPolicy === undefined || allowMatch(p.sessionPolicy, p, action, resource, lookup) !== undefined
}

/** An explicit deny in the identity policy or the session policy. */
function identityDenies(p: Principal, action: string, resource: string, lookup: ConditionLookup): boolean {
  return (
    (p.identity !== undefined && denies(p.identity, p, action, resource, lookup)) ||
    (p.sessionPolicy !== undefined && denies(p.sessionPolicy, p, action, resource, lookup))
  )
}

/** `arn:<partition>:iam::<account>:root` of the caller's account. */
function rootOf(p: Principal): string {
  const partition = p.arn.slice(4, p.arn.indexOf(':', 4))
  return `arn:${partition}:iam::${p.accountId}:root`
}

function grantAllows(
  p: Principal,
  key: KeyAccess,
  check: AccessCheck,
  identity: () => boolean,
  rootOfCaller: string,
): boolean {
  const op = check.grantOperation
  if (op === undefined) return false
  const extra = check.tokenGrants && check.tokenGrants.length > 0 ? new GrantIndex(check.tokenGrants) : undefined
  for (const index of extra ? [key.grants, extra] : [key.grants]) {
    // A grant to a role is a grant to each of its sessions.
    if (index.allows(p.arn, op) || (p.roleArn !== undefined && index.allows(p.roleArn, op))) return true
    // A grant to an account lets that account's identities use it as their IAM policies allow.
    if (index.allows(rootOfCaller, op) && identity()) return true
  }
  return false
}

/** The decision for one action on one key. */
export function decideKeyAccess(p: Principal, key: KeyAccess, check: AccessCheck): Decision {
  const { action, lookup } = check
  const resource = key.arn
  const sameAccount = p.accountId === key.accountId
  if (!sameAccount && !check.crossAccount) {
    return { allowed: false, reason: `because no resource-based policy allows the ${action} action` }
  }
  if (denies(key.policy, p, action, resource, lookup)) {
    return { allowed: false, reason: 'with an explicit deny in a resource-based policy' }
  }
  if (identityDenies(p, action, resource, lookup)) {
    return { allowed: false, reason: 'with an explicit deny in an identity-based policy' }
  }
  const match = allowMatch(key.policy, p, action, resource, lookup)
  let identity: boolean | undefined
  const identityOk = (): boolean => (identity ??= identityAllows(p, action, resource, lookup))
  // A key policy naming the caller (or its role) allows by itself, within the session policy.
  if (match === 'direct' && sameAccount && sessionAllows(p, action, resource, lookup)) return ALLOWED
  if (match !== undefined && identityOk()) return ALLOWED
  const rootOfCaller = p.isRoot ? p.arn : rootOf(p)
  if (grantAllows(p, key, check, identityOk, rootOfCaller)) return ALLOWED
  if (match === undefined) return { allowed: false, reason: `because no resource-based policy allows the ${action} action` }
  return { allowed: false, reason: `because no identity-based policy allows the ${action} action` }
}

/** Actions that name no key (CreateKey, ListKeys, ...): the caller's identity policy decides. */
export function decideIdentityAccess(p: Principal, action: string, resource: string, lookup: ConditionLookup): Decision {
  if (identityDenies(p, action, resource, lookup)) {
    return { allowed: false, reason: 'with an explicit deny in an identity-based policy' }
  }
  if (identityAllows(p, action, resource, lookup)) return ALLOWED
  return { allowed: false, reason: `because no identity-based policy allows the ${action} action` }
}

/**
 * AWS's AccessDenied text, the one place it is written: `User: <arn> is not authorized to perform:
 * <action> on resource: <resource> <reason>` (without `on resource:` when no resource applies).
 */
export function accessDenied(p: Pick<Principal, 'arn'>, action: string, resource: string | undefined, reason: string): AccessDeniedException {
  const on = resource === undefined ? '' : ` on resource: ${resource}`
  return new AccessDeniedException(`User: ${p.arn} is not authorized to perform: ${action}${on} ${reason}`)
}

export function enforce(decision: Decision, p: Principal, action: string, resource: string): void {
  if (decision.allowed) return
  throw accessDenied(p, action, resource, decision.reason)
}
