// AWS KMS API Reference > CreateKey, for HMAC keys.
import { newKeyRecord } from '../keys/record.js'
import { randomBytes, randomUUID } from 'node:crypto'
import { HMAC_KEY_SPECS, type HmacKeySpec, type KeySpec } from '../domain.js'
import { generateMaterial } from '../crypto/hmac.js'
import { keyArn } from '../keys/arn.js'
import { keyMetadata } from '../keys/metadata.js'
import { checkLockout, checkPrincipals, compileKeyPolicy } from './key-policy.js'
import { requestTagValues } from '../auth/context.js'
import { checkRequestTags, sortTags } from '../keys/tags.js'
import { UnsupportedOperationException, ValidationException } from '../protocol/errors.js'
import { bool, optional, str } from '../protocol/validate.js'
import { StoreConflictError } from '../store/store.js'
import { defineOperation } from './define.js'
import { customerMasterKeySpec, description, keySpec, keyUsage, origin, policy, tagList } from './fields.js'

const isHmacSpec = (spec: KeySpec): spec is HmacKeySpec => (HMAC_KEY_SPECS as readonly string[]).includes(spec)

export const createKey = defineOperation({
  name: 'CreateKey',
  request: {
    Policy: optional(policy),
    Description: optional(description),
    KeyUsage: optional(keyUsage),
    CustomerMasterKeySpec: optional(customerMasterKeySpec),
    KeySpec: optional(keySpec),
    Origin: optional(origin),
    CustomKeyStoreId: optional(str({ min: 1, max: 64 })),
    BypassPolicyLockoutSafetyCheck: optional(bool()),
    Tags: optional(tagList),
    MultiRegion: optional(bool()),
    XksKeyId: optional(str({ min: 1, max: 128, pattern: /^[a-zA-Z0-9-_.]+$/ })),
  },
  async run(ctx, req) {
    const spec: KeySpec = req.KeySpec ?? req.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT'
    if (req.KeySpec !== undefined && req.CustomerMasterKeySpec !== undefined && req.KeySpec !== req.CustomerMasterKeySpec) {
      throw new ValidationException('You cannot specify both KeySpec and CustomerMasterKeySpec with different values.')
    }
    if (spec !== 'SYMMETRIC_DEFAULT' && req.KeyUsage === undefined) {
      // AWS (recorded): HMAC specs need an explicit KeyUsage.
      throw new ValidationException('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.')
    }
    const usage = req.KeyUsage ?? 'ENCRYPT_DECRYPT'
    if (isHmacSpec(spec) !== (usage === 'GENERATE_VERIFY_MAC')) {
      throw new ValidationException(`KeyUsage ${usage} is not compatible with KeySpec ${spec}`)
    }
    if (!isHmacSpec(spec)) {
      throw new UnsupportedOperationException(
        `KeySpec ${spec} is not supported: this service holds HMAC keys only (${HMAC_KEY_SPECS.join(', ')}).`,
      )
    }
    const keyOrigin = req.Origin ?? 'AWS_KMS'
    if (keyOrigin !== 'AWS_KMS' && keyOrigin !== 'EXTERNAL') {
      throw new UnsupportedOperationException(`Origin ${keyOrigin} is not supported for KeySpec ${spec}.`)
    }
    if (req.CustomKeyStoreId !== undefined || req.XksKeyId !== undefined) {
      throw new UnsupportedOperationException(`Custom key stores cannot hold keys with KeySpec ${spec}.`)
    }
    const tags = sortTags(checkRequestTags(req.Tags ?? []))
    const policy = req.Policy === undefined ? undefined : compileKeyPolicy(ctx, req.Policy)
    const multiRegion = req.MultiRegion ?? false
    const bypass = req.BypassPolicyLockoutSafetyCheck ?? false
    const values = new Map<string, readonly string[]>([
      ['kms:keyspec', [spec]],
      ['kms:keyusage', [usage]],
      ['kms:keyorigin', [keyOrigin]],
      ['kms:multiregion', [String(multiRegion)]],
      ['kms:bypasspolicylockoutsafetycheck', [String(bypass)]],
    ])
    if (req.Tags !== undefined) requestTagValues(req.Tags, values)
    ctx.authorizeAccount('kms:CreateKey', undefined, values)
    if (tags.length > 0) ctx.authorizeAccount('kms:TagResource', undefined, values)

    const keyId = multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID()
    const arn = keyArn(ctx.partition, ctx.region, ctx.caller.accountId, keyId)
    ctx.noteKey(arn)
    const fields = newKeyRecord({
      partition: ctx.partition,
      accountId: ctx.caller.accountId,
      region: ctx.region,
      keyId,
      keySpec: spec,
      origin: keyOrigin,
      description: req.Description,
      creationDate: ctx.now,
      primaryRegion: multiRegion ? ctx.region : undefined,
      policy: req.Policy,
      tags,
    })
    if (policy !== undefined) {
      await checkPrincipals(ctx, policy)
      checkLockout(ctx, policy, { ...fields, version: 0 }, arn, bypass)
    }
    let wrapped: Buffer | undefined
    if (keyOrigin === 'AWS_KMS') {
      const material = generateMaterial(spec)
      wrapped = await ctx.services.sealMaterial(material, arn)
      material.fill(0)
    }
    try {
      const record = await ctx.records.createKey(wrapped === undefined ? fields : { ...fields, material: wrapped })
      return { KeyMetadata: keyMetadata(record, arn) }
    } catch (err) {
      // A random 122-bit id colliding means something is badly wrong; never overwrite a key.
      if (err instanceof StoreConflictError) throw new Error('key id collision', { cause: err })
      throw err
    }
  },
})
