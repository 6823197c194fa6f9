// Authorization decisions. Until key policies, IAM policies and grants are evaluated (issue 3),
// this fails closed: only the root user of the key's own account may use a key, which is what
// AWS's default key policy ("Enable IAM User Permissions" for the account root) allows.
import { AccessDeniedException } from '../protocol/errors.js'
import type { KeyRecord } from '../store/store.js'
import type { Caller } from './principals.js'

export function authorizeKey(caller: Caller, action: string, key: KeyRecord, arn: string): void {
  if (caller.isRoot && caller.accountId === key.accountId) return
  throw new AccessDeniedException(
    `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${arn} because no resource-based policy allows the ${action} action`,
  )
}

/** Actions on no key (CreateKey, ListKeys, ListAliases, GenerateRandom): IAM-only permissions. */
export function authorizeAccount(caller: Caller, action: string, region: string, partition: string): void {
  if (caller.isRoot) return
  const resource = `arn:${partition}:kms:${region}:${caller.accountId}:*`
  throw new AccessDeniedException(
    `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  )
}
