// AWS STS API Reference > GetCallerIdentity: who signed the request. Needs no permission (AWS:
// "No permissions are required to perform this operation").
import { iamUserId } from '../auth/principals.js'
import type { StsOperation } from './operation.js'

export const getCallerIdentity: StsOperation = {
  name: 'GetCallerIdentity',
  signed: true,
  audited: [],
  run(ctx, params) {
    params.check()
    const caller = ctx.caller
    if (caller === undefined) throw new Error('GetCallerIdentity without a caller')
    const userId = caller.session?.userId ?? (caller.isRoot ? caller.accountId : iamUserId(caller.accountId, caller.userName ?? ''))
    return Promise.resolve({ UserId: userId, Account: caller.accountId, Arn: caller.arn })
  },
}
