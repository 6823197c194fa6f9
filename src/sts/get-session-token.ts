// AWS STS API Reference > GetSessionToken: temporary credentials for the IAM user (or root user)
// that calls it, with the user's permissions; 900 seconds to 36 hours (an hour at most for root).
// AWS's texts, each with its source and confidence: test/fixtures/aws-texts.json.
import type { StsOperation } from './operation.js'
import { StsError } from './query.js'
import { issue, refuseUnsupported } from './sessions.js'

const ROOT_MAX_SECONDS = 3600

export const getSessionToken: StsOperation = {
  name: 'GetSessionToken',
  readOnly: false,
  signed: true,
  audited: ['DurationSeconds'],
  run(ctx, params) {
    const duration = params.integer('DurationSeconds', 900, 129600)
    params.check()
    refuseUnsupported(params)
    const caller = ctx.caller
    if (caller === undefined) throw new Error('GetSessionToken without a caller')
    if (caller.session !== undefined) throw new StsError('AccessDenied', 403, 'Cannot call GetSessionToken with session credentials')
    // AWS: a longer session for the account's root user "defaults to one hour".
    const seconds = Math.min(duration ?? 43200, caller.isRoot ? ROOT_MAX_SECONDS : 129600)
    const { credentials } = issue(ctx, { kind: 'user', accountId: caller.accountId, ...(caller.userName === undefined ? {} : { name: caller.userName }) }, seconds)
    return Promise.resolve({ Credentials: credentials })
  },
}
