// AWS KMS API Reference > ReplicateKey and UpdatePrimaryRegion (reference §6.15). A replica shares
// the key id, spec, usage, origin and material (each Region stores its own sealed copy, bound to its
// own ARN); policy, description, tags, aliases, grants and state are its own.
import { requestTagValues } from '../auth/context.js'
import { keyMaterialContext, open as openEnvelope } from '../crypto/envelope.js'
import { keyArn } from '../keys/arn.js'
import { checkLockout, checkPrincipals, compileKeyPolicy } from './key-policy.js'
import { defaultKeyPolicy, keyMetadata } from '../keys/metadata.js'
import { checkRequestTags, sortTags, wireTags } from '../keys/tags.js'
import { GrantIndex } from '../auth/grants.js'
import {
  AccessDeniedException,
  AlreadyExistsException,
  KMSInvalidStateException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from '../protocol/errors.js'
import { bool, optional, required, str } from '../protocol/validate.js'
import { StoreConflictError, type KeyRecord } from '../store/store.js'
import { assertKeyQuota } from '../keys/quota.js'
import { defineOperation } from './define.js'
import { description, keyId, policy, tagList } from './fields.js'

const regionName = str({ min: 1, max: 32, pattern: /^([a-z]+-){2,3}\d+$/ })

function assertPrimary(record: KeyRecord, arn: string): void {
  if (!record.multiRegion) throw new UnsupportedOperationException(`${arn} is not a multi-region key.`)
  if ((record.primaryRegion ?? record.region) !== record.region) {
    throw new UnsupportedOperationException(`${arn} is not a multi-region primary key.`)
  }
}

export const replicateKey = defineOperation({
  name: 'ReplicateKey',
  request: {
    KeyId: keyId,
    ReplicaRegion: required(regionName),
    Policy: optional(policy),
    BypassPolicyLockoutSafetyCheck: optional(bool()),
    Description: optional(description),
    Tags: optional(tagList),
  },
  async run(ctx, req) {
    const tags = sortTags(checkRequestTags(req.Tags ?? []))
    const compiled = req.Policy === undefined ? undefined : compileKeyPolicy(ctx, req.Policy)
    const values = new Map<string, readonly string[]>([['kms:replicaregion', [req.ReplicaRegion]]])
    const primary = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: ['Enabled'], values })
    const { record } = primary
    assertPrimary(record, primary.arn)
    if (req.ReplicaRegion === record.region) {
      throw new ValidationException(`The replica region ${req.ReplicaRegion} must differ from the primary key's region.`)
    }
    // The replica is created in the other Region: CreateKey (and TagResource) there, by IAM.
    const replicaScope = `arn:${ctx.partition}:kms:${req.ReplicaRegion}:${record.accountId}:*`
    const createValues = new Map<string, readonly string[]>([
      ['kms:keyspec', [record.keySpec]],
      ['kms:keyusage', [record.keyUsage]],
      ['kms:keyorigin', [record.origin]],
      ['kms:multiregion', ['true']],
      ['kms:multiregionkeytype', ['REPLICA']],
    ])
    if (req.Tags !== undefined) requestTagValues(req.Tags, createValues)
    ctx.authorizeAccount('kms:CreateKey', replicaScope, createValues)
    if (tags.length > 0) ctx.authorizeAccount('kms:TagResource', replicaScope, createValues)

    const store = ctx.services.store
    if (await store.getKey(record.accountId, req.ReplicaRegion, record.keyId)) {
      throw new AlreadyExistsException(`A replica of ${primary.arn} already exists in ${req.ReplicaRegion}.`)
    }
    const arn = keyArn(ctx.partition, req.ReplicaRegion, record.accountId, record.keyId)
    const bypass = req.BypassPolicyLockoutSafetyCheck ?? false
    const { material: _m, importParameters: _p, version: _v, deletionDate: _d, ...shared } = record
    const fields: Omit<KeyRecord, 'version'> = {
      ...shared,
      region: req.ReplicaRegion,
      state: record.material === undefined ? 'PendingImport' : 'Enabled',
      description: req.Description ?? '',
      creationDate: ctx.now,
      policy: req.Policy ?? defaultKeyPolicy(ctx.partition, record.accountId),
      tags,
      primaryRegion: record.region,
    }
    if (compiled !== undefined) {
      await checkPrincipals(ctx, compiled)
      checkLockout(ctx, compiled, { ...fields, version: 0 }, arn, bypass)
    }
    await assertKeyQuota(store, record.accountId, req.ReplicaRegion, ctx.services.config.quotaKeys)
    let sealed: Buffer | undefined
    if (record.material !== undefined) {
      const material = await openEnvelope(ctx.services.root, record.material, keyMaterialContext(primary.arn))
      sealed = await ctx.services.sealMaterial(material, arn)
      material.fill(0)
    }
    let replica: KeyRecord
    try {
      replica = await store.insertKey(sealed === undefined ? fields : { ...fields, material: sealed })
    } catch (err) {
      if (err instanceof StoreConflictError) throw new AlreadyExistsException(`A replica of ${primary.arn} already exists in ${req.ReplicaRegion}.`)
      throw err
    }
    const related = await store.listRelatedKeys(record.accountId, record.keyId)
    // AWS answers with the replica still Creating; macaw's replica is usable at once.
    const metadata = { ...keyMetadata(replica, arn, related), ...(replica.state === 'Enabled' ? { KeyState: 'Creating', Enabled: false } : {}) }
    return {
      ReplicaKeyMetadata: metadata,
      ReplicaPolicy: replica.policy,
      ...(tags.length > 0 ? { ReplicaTags: wireTags(tags) } : {}),
    }
  },
})

export const updatePrimaryRegion = defineOperation({
  name: 'UpdatePrimaryRegion',
  request: { KeyId: keyId, PrimaryRegion: required(regionName) },
  async run(ctx, req) {
    const values = new Map([['kms:primaryregion', [req.PrimaryRegion]]])
    const primary = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: ['Enabled', 'Updating'], values })
    const { record } = primary
    assertPrimary(record, primary.arn)
    if (req.PrimaryRegion === record.region) {
      throw new ValidationException(`${primary.arn} is already the primary key in ${req.PrimaryRegion}.`)
    }
    const store = ctx.services.store
    const related = await store.listRelatedKeys(record.accountId, record.keyId)
    const target = related.find((r) => r.region === req.PrimaryRegion)
    const targetArn = keyArn(ctx.partition, req.PrimaryRegion, record.accountId, record.keyId)
    if (!target) throw new NotFoundException(`Key '${targetArn}' does not exist`)
    if (target.state === 'PendingDeletion' || target.state === 'PendingReplicaDeletion') {
      throw new KMSInvalidStateException(`${targetArn} is pending deletion.`)
    }
    // The caller needs kms:UpdatePrimaryRegion on the replica too, by the replica's own key policy.
    const replica = { record: target, arn: targetArn, material: undefined, policy: ctx.services.policies.get(target.policy, 'key'), grants: GrantIndex.EMPTY }
    if (!(await ctx.isAllowedByPolicy(replica, 'kms:UpdatePrimaryRegion', values))) {
      throw new AccessDeniedException(
        `User: ${ctx.caller.arn} is not authorized to perform: kms:UpdatePrimaryRegion on resource: ${targetArn} because no resource-based policy allows the kms:UpdatePrimaryRegion action`,
      )
    }
    for (const r of related) {
      for (let attempt = 0; ; attempt++) {
        const current = attempt === 0 ? r : await store.getKey(r.accountId, r.region, r.keyId)
        if (!current) break
        try {
          await store.updateKey({ ...current, primaryRegion: req.PrimaryRegion })
          break
        } catch (err) {
          if (!(err instanceof StoreConflictError) || attempt >= 10) throw err
        }
      }
    }
    return {}
  },
})
