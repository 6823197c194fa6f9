// Checks a key policy before it is stored (CreateKey, PutKeyPolicy; AWS KMS Developer Guide, Key policies; IAM User Guide, Policy evaluation logic): the
// 32 KB quota, the grammar (auth/policy.ts), principals that exist, and the lockout safety check.
import { decideKeyAccess } from '../auth/authorize.js'
import { conditionLookup } from '../auth/context.js'
import { GrantIndex } from '../auth/grants.js'
import type { CompiledPolicy } from '../auth/policy.js'
import type { OperationContext } from './define.js'
import { LimitExceededException, MalformedPolicyDocumentException } from '../protocol/errors.js'
import type { KeyRecord } from '../store/store.js'

export const MAX_POLICY_BYTES = 32768

const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.'
const LOCKOUT = 'The new key policy will not allow you to update the key policy in the future.'

/** Size and grammar only: what can be checked before the key is found. */
export function compileKeyPolicy(ctx: OperationContext, text: string): CompiledPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new LimitExceededException(`The key policy exceeds the quota of ${MAX_POLICY_BYTES} bytes.`)
  }
  const policy = ctx.services.policies.get(text, 'key')
  if (policy.unknownOperators.length > 0) {
    throw new MalformedPolicyDocumentException(`Policy contains an unknown condition operator: ${policy.unknownOperators[0] ?? ''}.`)
  }
  return policy
}

/**
 * Principals must exist: any account (macaw accounts exist implicitly), IAM users and roles that
 * have been created, and sessions of such roles (`arn:...:sts::A:assumed-role/R/S`, as AWS
 * accepts them). macaw has no federated users, so those never exist.
 */
export async function checkPrincipals(ctx: OperationContext, policy: CompiledPolicy): Promise<void> {
  const iam = `arn:${ctx.partition}:iam::`
  const sts = `arn:${ctx.partition}:sts::`
  for (const arn of policy.principalArns) {
    if (arn === `${iam}${arn.slice(-17, -5)}:root`) continue
    const inIam = arn.startsWith(iam) ? arn.slice(iam.length) : undefined
    const user = inIam === undefined ? null : /^(\d{12}):user\/([\w+=,.@-]+)$/.exec(inIam)
    // A role, or a session of one: either way the role must exist.
    const role = inIam === undefined ? (arn.startsWith(sts) ? /^(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/.exec(arn.slice(sts.length)) : null) : /^(\d{12}):role\/([\w+=,.@-]+)$/.exec(inIam)
    const exists =
      user !== null
        ? await ctx.records.userExists(user[1] ?? '', user[2] ?? '')
        : role !== null && (await ctx.records.roleExists(role[1] ?? '', role[2] ?? ''))
    if (!exists) throw new MalformedPolicyDocumentException(INVALID_PRINCIPALS)
  }
}

/** The new policy must still let the caller call PutKeyPolicy, unless the caller bypasses this. */
export function checkLockout(ctx: OperationContext, policy: CompiledPolicy, record: KeyRecord, arn: string, bypass: boolean): void {
  if (bypass) return
  const values = new Map([['kms:bypasspolicylockoutsafetycheck', ['false']]])
  const decision = decideKeyAccess(
    ctx.caller,
    { accountId: record.accountId, arn, policy, grants: GrantIndex.EMPTY },
    {
      action: 'kms:PutKeyPolicy',
      crossAccount: false,
      lookup: conditionLookup({ ...ctx.facts }, { record }, values),
    },
  )
  if (!decision.allowed) throw new MalformedPolicyDocumentException(LOCKOUT)
}
