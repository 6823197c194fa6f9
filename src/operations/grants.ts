// AWS KMS API Reference > CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant
// (reference §6.13, §9.4). Grants take effect at once; the token is only a handle on the grant.
import { HMAC_GRANT_OPERATIONS, MAX_GRANTS_PER_KEY, grantIdOfToken, isGrantOf, newGrantId, newGrantToken } from '../auth/grants.js'
import { isPrincipalArn } from '../auth/policy.js'
import { rootArn } from '../auth/principals.js'
import { keyArn } from '../keys/arn.js'
import { USABLE_IN } from '../keys/lifecycle.js'
import { keyNotFound } from '../keys/resolve.js'
import { epochSeconds } from '../keys/metadata.js'
import {
  AccessDeniedException,
  InvalidArnException,
  InvalidGrantIdException,
  LimitExceededException,
  ValidationException,
} from '../protocol/errors.js'
import { list, map, optional, required, str, struct } from '../protocol/validate.js'
import type { GrantRecord } from '../store/store.js'
import { StoreConflictError } from '../store/store.js'
import { defineOperation, type OperationContext } from './define.js'
import { dryRun, grantOperation, grantTokens, keyId, keyIdShape, limit, marker } from './fields.js'
import { decodeMarker, encodeMarker } from './markers.js'

const principalId = str({ min: 1, max: 256, pattern: /^[\w+=,.@:/-]+$/ })
const grantId = str({ min: 1, max: 128 })
const grantToken = str({ min: 1, max: 8192 })
const HMAC_OPS: ReadonlySet<string> = new Set(HMAC_GRANT_OPERATIONS)

function checkPrincipal(value: string, member: string): void {
  if (!isPrincipalArn(value)) throw new InvalidArnException(`${member} ${value} is not a valid principal ARN.`)
}

function grantEntry(ctx: OperationContext, g: GrantRecord): object {
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

export const createGrant = defineOperation({
  name: 'CreateGrant',
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
    const values = new Map<string, readonly string[]>([
      ['kms:grantoperations', operations],
      ['kms:granteeprincipal', [req.GranteePrincipal]],
      ['kms:grantisforawsresource', ['false']],
    ])
    if (req.RetiringPrincipal !== undefined) values.set('kms:retiringprincipal', [req.RetiringPrincipal])
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.CreateGrant, grantTokens: req.GrantTokens, values })
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
        throw new AccessDeniedException(
          `User: ${ctx.caller.arn} is not authorized to perform: kms:CreateGrant on resource: ${key.arn} because its grants do not include ${missing.join(', ')}`,
        )
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
      result = await ctx.services.store.createGrant(grant, MAX_GRANTS_PER_KEY)
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

export const listGrants = defineOperation({
  name: 'ListGrants',
  readOnly: true,
  crossAccount: true,
  request: {
    KeyId: keyId,
    Limit: limit(1000),
    Marker: marker,
    GrantId: optional(grantId),
    GranteePrincipal: optional(principalId),
  },
  async run(ctx, req) {
    const after = req.Marker === undefined ? undefined : decodeMarker(req.Marker, 'grant')
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.AnyState })
    const { accountId, region, keyId: id } = key.record
    const page = await ctx.services.store.listGrants(accountId, region, id, {
      limit: req.Limit ?? 50,
      ...(after === undefined ? {} : { after }),
      ...(req.GrantId === undefined ? {} : { grantId: req.GrantId }),
      ...(req.GranteePrincipal === undefined ? {} : { granteePrincipal: req.GranteePrincipal }),
    })
    return {
      Grants: page.items.map((g) => grantEntry(ctx, g)),
      Truncated: page.next !== undefined,
      ...(page.next === undefined ? {} : { NextMarker: encodeMarker('grant', page.next) }),
    }
  },
})

export const listRetirableGrants = defineOperation({
  name: 'ListRetirableGrants',
  readOnly: true,
  request: { RetiringPrincipal: required(principalId), Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    checkPrincipal(req.RetiringPrincipal, 'RetiringPrincipal')
    const after = req.Marker === undefined ? undefined : decodeMarker(req.Marker, 'grant')
    ctx.authorizeAccount('kms:ListRetirableGrants')
    // AWS: the retiring principal must be in the caller's account; another account's grants
    // (their key ARNs, grantees and operations) are not the caller's to read.
    if (req.RetiringPrincipal.split(':')[4] !== ctx.caller.accountId) {
      throw new AccessDeniedException(
        `User: ${ctx.caller.arn} is not authorized to perform: kms:ListRetirableGrants for a retiring principal in another account`,
      )
    }
    const page = await ctx.services.store.listRetirableGrants(req.RetiringPrincipal, after, req.Limit ?? 50)
    return {
      Grants: page.items.map((g) => grantEntry(ctx, g)),
      Truncated: page.next !== undefined,
      ...(page.next === undefined ? {} : { NextMarker: encodeMarker('grant', page.next) }),
    }
  },
})

export const retireGrant = defineOperation({
  name: 'RetireGrant',
  crossAccount: true,
  request: { GrantToken: optional(grantToken), KeyId: optional(keyIdShape), GrantId: optional(grantId), DryRun: dryRun },
  async run(ctx, req) {
    let grant: GrantRecord | undefined
    let arn: string
    if (req.GrantToken !== undefined) {
      const id = grantIdOfToken(req.GrantToken)
      grant = await ctx.services.store.getGrant(id)
      if (!grant) throw new InvalidGrantIdException(`Grant ${id} does not exist.`)
      arn = keyArn(ctx.partition, grant.region, grant.accountId, grant.keyId)
    } else if (req.KeyId !== undefined && req.GrantId !== undefined) {
      const loc = await ctx.locateKey(req.KeyId, 'idOrArn')
      const record = await ctx.services.store.getKey(loc.accountId, loc.region, loc.keyId)
      arn = keyArn(ctx.partition, loc.region, loc.accountId, loc.keyId)
      if (!record) throw keyNotFound(ctx.partition, loc)
      grant = await ctx.services.store.getGrant(req.GrantId)
      if (!grant || !isGrantOf(grant, loc)) {
        throw new InvalidGrantIdException(`Grant ${req.GrantId} does not exist.`)
      }
    } else {
      throw new ValidationException('Either GrantToken, or both KeyId and GrantId, must be specified.')
    }
    ctx.noteKey(arn)
    // Who may retire (reference §6.13): the retiring principal, the grantee if the grant includes
    // RetireGrant, and the account that issued the grant.
    const caller = ctx.caller
    const callerRoot = rootArn(ctx.partition, caller.accountId)
    const mayRetire =
      grant.retiringPrincipal === caller.arn ||
      (grant.retiringPrincipal === callerRoot && caller.isRoot) ||
      (grant.granteePrincipal === caller.arn && grant.operations.includes('RetireGrant')) ||
      (caller.isRoot && grant.issuingAccount === caller.arn)
    if (!mayRetire) {
      throw new AccessDeniedException(
        `User: ${caller.arn} is not authorized to perform: kms:RetireGrant on resource: ${arn} because it is not a retiring principal of the grant`,
      )
    }
    if (req.DryRun === true) ctx.dryRunSucceeded()
    await ctx.services.store.deleteGrant(grant.grantId)
    return {}
  },
})

export const revokeGrant = defineOperation({
  name: 'RevokeGrant',
  crossAccount: true,
  request: { KeyId: keyId, GrantId: required(grantId), DryRun: dryRun },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.AnyState })
    const grant = await ctx.services.store.getGrant(req.GrantId)
    if (!grant || !isGrantOf(grant, key.record)) {
      throw new InvalidGrantIdException(`Grant ${req.GrantId} does not exist.`)
    }
    if (req.DryRun === true) ctx.dryRunSucceeded()
    await ctx.services.store.deleteGrant(grant.grantId)
    return {}
  },
})
