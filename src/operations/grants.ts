// What the grant operations share (AWS KMS Developer Guide, Grants). Grants take effect at once; the token
// is only a handle on the grant.
import { isPrincipalArn } from '../auth/policy.js'
import { keyArn } from '../keys/arn.js'
import { epochSeconds } from '../keys/metadata.js'
import { InvalidArnException } from '../protocol/errors.js'
import { str } from '../protocol/validate.js'
import type { GrantRecord } from '../store/store.js'
import type { OperationContext } from './define.js'

export const principalId = str({ min: 1, max: 256, pattern: /^[\w+=,.@:/-]+$/ })

export const grantId = str({ min: 1, max: 128 })

export function checkPrincipal(value: string, member: string): void {
  if (!isPrincipalArn(value)) throw new InvalidArnException(`${member} ${value} is not a valid principal ARN.`)
}

export function grantEntry(ctx: OperationContext, g: GrantRecord): object {
  return {
    KeyId: keyArn(ctx.partition, g.region, g.accountId, g.keyId),
    GrantId: g.grantId,
    ...(g.name === undefined ? {} : { Name: g.name }),
    CreationDate: epochSeconds(g.creationDate),
    GranteePrincipal: g.granteePrincipal,
    ...(g.retiringPrincipal === undefined ? {} : { RetiringPrincipal: g.retiringPrincipal }),
    IssuingAccount: g.issuingAccount,
    Operations: g.operations,
  }
}
