// AWS KMS API Reference > CreateGrant.
import { HMAC_GRANT_OPERATIONS, MAX_GRANTS_PER_KEY, newGrantId, newGrantToken } from '../auth/grants.js'
import { rootArn } from '../auth/principals.js'
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import { InvalidGrantIdException, LimitExceededException, ValidationException } from '../protocol/errors.js'
import { list, map, optional, required, str, struct } from '../protocol/validate.js'
import type { GrantRecord } from '../store/store.js'
import { StoreConflictError } from '../store/store.js'
import { accessDenied } from '../auth/authorize.js'
import { defineOperation } from './define.js'
import { dryRun, grantOperation, grantTokens, keyId } from './fields.js'
import { principalId, checkPrincipal } from './grants.js'

/** AWS's text (test/fixtures/aws-texts.json). */
const ONLY_CREATE_GRANT = 'Grants must not contain only the CreateGrant operation.'
const HMAC_OPS: ReadonlySet<string> = new Set(HMAC_GRANT_OPERATIONS)

export const createGrant = defineOperation({
  name: 'CreateGrant',
  keyIdForms: 'idOrArn',
  usableIn: CRYPTO_STATES,
  crossAccount: true,
  request: {
    KeyId: keyId,
    GranteePrincipal: required(principalId),
    RetiringPrincipal: optional(principalId),
    Operations: required(list(grantOperation)),
    Constraints: optional(
      struct({
        EncryptionContextSubset: optional(map(str({}))),
        EncryptionContextEquals: optional(map(str({}))),
      }),
    ),
    GrantTokens: grantTokens,
    Name: optional(str({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ })),
    DryRun: dryRun,
  },
  async run(ctx, req) {
    checkPrincipal(req.GranteePrincipal, 'GranteePrincipal')
    if (req.RetiringPrincipal !== undefined) checkPrincipal(req.RetiringPrincipal, 'RetiringPrincipal')
    const operations = [...new Set(req.Operations)]
    if (operations.length === 0) throw new ValidationException('Operations must name at least one grant operation.')
    if (operations.length === 1 && operations[0] === 'CreateGrant') throw new ValidationException(ONLY_CREATE_GRANT)
    const values = new Map<string, readonly string[]>([
      ['kms:grantoperations', operations],
      ['kms:granteeprincipal', [req.GranteePrincipal]],
      ['kms:grantisforawsresource', ['false']],
    ])
    if (req.RetiringPrincipal !== undefined) values.set('kms:retiringprincipal', [req.RetiringPrincipal])
    const key = await ctx.useKey(req.KeyId, { grantTokens: req.GrantTokens, values })
    const refused = operations.filter((op) => !HMAC_OPS.has(op))
    if (refused.length > 0) {
      throw new ValidationException(
        `Grant operations ${refused.join(', ')} are not valid for a KMS key with KeyUsage GENERATE_VERIFY_MAC. Valid operations: ${HMAC_GRANT_OPERATIONS.join(', ')}.`,
      )
    }
    if (req.Constraints !== undefined) {
      throw new ValidationException('Grant constraints are not allowed for a KMS key with KeyUsage GENERATE_VERIFY_MAC.')
    }
    // A principal that may create grants only through a grant can pass on only what it holds.
    if (!(await ctx.isAllowedByPolicy(key, 'kms:CreateGrant', values))) {
      const held = key.grants.operationsFor(ctx.caller.arn)
      const missing = operations.filter((op) => !held.has(op))
      if (missing.length > 0) {
        throw accessDenied(ctx.caller, 'kms:CreateGrant', key.arn, `because its grants do not include ${missing.join(', ')}`)
      }
    }
    if (req.DryRun === true) ctx.dryRunSucceeded()
    const { accountId, region, keyId: id } = key.record
    const grant: GrantRecord = {
      grantId: newGrantId(),
      accountId,
      region,
      keyId: id,
      ...(req.Name === undefined ? {} : { name: req.Name }),
      granteePrincipal: req.GranteePrincipal,
      ...(req.RetiringPrincipal === undefined ? {} : { retiringPrincipal: req.RetiringPrincipal }),
      operations,
      issuingAccount: rootArn(ctx.partition, ctx.caller.accountId),
      creationDate: ctx.now,
    }
    let result
    try {
      result = await ctx.records.createGrant(grant, MAX_GRANTS_PER_KEY)
    } catch (err) {
      if (err instanceof StoreConflictError) throw new InvalidGrantIdException('The grant could not be created; try again.')
      throw err
    }
    if (result.status === 'limit') {
      throw new LimitExceededException(`The key ${key.arn} already has ${MAX_GRANTS_PER_KEY} grants.`)
    }
    return { GrantId: result.grant.grantId, GrantToken: newGrantToken(result.grant.grantId) }
  },
})
