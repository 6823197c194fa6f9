// AWS STS API Reference > GetCallerIdentity: who signed the request. Needs no permission (AWS:
// "No permissions are required to perform this operation").
import { userIdOf } from '../auth/principals.js'
import type { StsOperation } from './operation.js'

export const getCallerIdentity: StsOperation = {
  name: 'GetCallerIdentity',
  readOnly: true,
  signed: true,
  audited: [],
  run(ctx, params) {
    params.check()
    const caller = ctx.caller
    if (caller === undefined) throw new Error('GetCallerIdentity without a caller')
    return Promise.resolve({ UserId: userIdOf(caller), Account: caller.accountId, Arn: caller.arn })
  },
}
