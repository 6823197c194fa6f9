// AWS STS API Reference > AssumeRole: temporary credentials for a role whose trust policy allows
// the caller (and, across accounts or when the trust policy names only the account, whose own
// identity policy allows sts:AssumeRole too), for 900 seconds up to the role's maximum.
// AWS's texts, each with its source and confidence: test/fixtures/aws-texts.json.
import { decideKeyAccess } from '../auth/authorize.js'
import { conditionLookup } from '../auth/context.js'
import { GrantIndex } from '../auth/grants.js'
import { roleArn } from '../auth/principals.js'
import type { StsOperation } from './operation.js'
import { StsError, validationError } from './query.js'
import {
  accessDenied,
  checkUniqueTags,
  issueRoleSession,
  parseRoleArn,
  refuseUnsupported,
  ROLE_ARN,
  SESSION_NAME,
  SESSION_POLICY,
  sessionTags,
} from './sessions.js'

const EXTERNAL_ID = { min: 2, max: 1224, pattern: { test: /^[\w+=,.@:/-]*$/, text: '[\\w+=,.@:\\/-]*' } }
const SOURCE_IDENTITY = { min: 2, max: 64, pattern: { test: /^[\w+=,.@-]*$/, text: '[\\w+=,.@-]*' } }
/** AWS: a role assumed with a role session's credentials lasts an hour at most. */
const CHAINED_MAX_SECONDS = 3600

export const assumeRole: StsOperation = {
  name: 'AssumeRole',
  readOnly: false,
  signed: true,
  audited: ['RoleArn', 'RoleSessionName', 'DurationSeconds', 'ExternalId', 'SourceIdentity'],
  async run(ctx, params) {
    const arn = params.required('RoleArn', ROLE_ARN)
    const sessionName = params.required('RoleSessionName', SESSION_NAME)
    const duration = params.integer('DurationSeconds', 900, 43200)
    const policy = params.string('Policy', SESSION_POLICY)
    const externalId = params.string('ExternalId', EXTERNAL_ID)
    const sourceIdentity = params.string('SourceIdentity', SOURCE_IDENTITY)
    const tags = sessionTags(params)
    params.check()
    refuseUnsupported(params)
    checkUniqueTags(tags)
    const caller = ctx.caller
    if (caller === undefined) throw new Error('AssumeRole without a caller')
    if (caller.isRoot) throw new StsError('AccessDenied', 403, 'Roles may not be assumed by root accounts.')
    const { partition } = ctx.services
    const target = parseRoleArn(partition, arn)
    const role = target === undefined ? undefined : await ctx.services.credentials.role(target.accountId, target.roleName)
    // An unknown role and a refused one look the same to the caller.
    if (target === undefined || role === undefined) throw accessDenied(caller.arn, 'sts:AssumeRole', arn)
    const canonical = roleArn(partition, target.accountId, role.record.roleName)
    ctx.role = { arn: canonical, accountId: target.accountId }
    let trust
    try {
      trust = ctx.services.policies.get(role.record.trustPolicy, 'trust')
    } catch {
      throw accessDenied(caller.arn, 'sts:AssumeRole', canonical)
    }
    const values = new Map<string, readonly string[]>([['sts:rolesessionname', [sessionName]]])
    if (externalId !== undefined) values.set('sts:externalid', [externalId])
    if (sourceIdentity !== undefined) values.set('sts:sourceidentity', [sourceIdentity])
    if (tags.length > 0) {
      values.set('aws:tagkeys', tags.map(([k]) => k))
      for (const [k, v] of tags) values.set(`aws:requesttag/${k.toLowerCase()}`, [v])
    }
    const lookup = conditionLookup(ctx.facts, undefined, values)
    const resource = { accountId: target.accountId, arn: canonical, policy: trust, grants: GrantIndex.EMPTY }
    for (const action of tags.length > 0 ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole']) {
      if (!decideKeyAccess(caller, resource, { action, crossAccount: true, lookup }).allowed) throw accessDenied(caller.arn, action, canonical)
    }
    const chained = caller.session?.claims.kind === 'role'
    const seconds = duration ?? 3600
    if (chained && seconds > CHAINED_MAX_SECONDS) {
      throw validationError('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.')
    }
    const session = issueRoleSession(ctx, {
      role: role.record,
      sessionName,
      seconds,
      policy,
      tags,
      ...(sourceIdentity === undefined ? {} : { extra: { source: sourceIdentity } }),
    })
    return { ...session, SourceIdentity: sourceIdentity }
  },
}
