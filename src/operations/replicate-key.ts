// AWS KMS API Reference > ReplicateKey.
import { newKeyRecord } from '../keys/record.js'
import { requestTagValues } from '../auth/context.js'
import { keyArn } from '../keys/arn.js'
import { checkLockout, checkPrincipals, compileKeyPolicy } from './key-policy.js'
import { keyMetadata } from '../keys/metadata.js'
import { checkRequestTags, sortTags, wireTags } from '../keys/tags.js'
import { AlreadyExistsException, ValidationException } from '../protocol/errors.js'
import { bool, optional, required } from '../protocol/validate.js'
import { StoreConflictError, type KeyRecord } from '../store/store.js'
import { defineOperation } from './define.js'
import { description, keyId, policy, tagList } from './fields.js'
import { regionName, assertPrimary } from './multi-region.js'

export const replicateKey = defineOperation({
  name: 'ReplicateKey',
  keyIdForms: 'idOrArn',
  usableIn: ['Enabled'],
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
    const primary = await ctx.useKey(req.KeyId, { values })
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

    if ((await ctx.records.regionsOf(record)).some((k) => k.region === req.ReplicaRegion)) {
      throw new AlreadyExistsException(`A replica of ${primary.arn} already exists in ${req.ReplicaRegion}.`)
    }
    const arn = keyArn(ctx.partition, req.ReplicaRegion, record.accountId, record.keyId)
    const bypass = req.BypassPolicyLockoutSafetyCheck ?? false
    // Shared with the primary: id, spec, origin (and its material, below); the rest is its own.
    const own = newKeyRecord({
      partition: ctx.partition,
      accountId: record.accountId,
      region: req.ReplicaRegion,
      keyId: record.keyId,
      keySpec: record.keySpec,
      origin: record.origin,
      description: req.Description,
      creationDate: ctx.now,
      primaryRegion: record.region,
      policy: req.Policy,
      tags,
    })
    // A replica of an imported-material key starts PendingImport with no material (AWS: "You must
    // import the same key material that you imported into the primary key"); the digest it keeps
    // makes ImportKeyMaterial accept only that material, under the replica's own ValidTo.
    const fields: Omit<KeyRecord, 'version'> = {
      ...own,
      ...(record.importCheck === undefined ? {} : { importCheck: record.importCheck }),
    }
    if (compiled !== undefined) {
      await checkPrincipals(ctx, compiled)
      checkLockout(ctx, compiled, { ...fields, version: 0 }, arn, bypass)
    }
    let sealed: Buffer | undefined
    if (record.origin === 'AWS_KMS' && primary.material !== undefined) {
      // The key cache holds the primary's material unwrapped; sealed again under the replica's ARN.
      const material = primary.material.export()
      sealed = await ctx.services.sealMaterial(material, arn)
      material.fill(0)
    }
    let replica: KeyRecord
    try {
      replica = await ctx.records.createKey(sealed === undefined ? fields : { ...fields, material: sealed })
    } catch (err) {
      if (err instanceof StoreConflictError) throw new AlreadyExistsException(`A replica of ${primary.arn} already exists in ${req.ReplicaRegion}.`)
      throw err
    }
    const related = await ctx.records.regionsOf(record)
    // AWS answers with the replica still Creating; macaw's replica is usable at once.
    const metadata = { ...keyMetadata(replica, arn, related), ...(replica.state === 'Enabled' ? { KeyState: 'Creating', Enabled: false } : {}) }
    return {
      ReplicaKeyMetadata: metadata,
      ReplicaPolicy: replica.policy,
      ...(tags.length > 0 ? { ReplicaTags: wireTags(tags) } : {}),
    }
  },
})
