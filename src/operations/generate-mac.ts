// AWS KMS API Reference > GenerateMac; its Errors section lists the exceptions used.
import { computeMac } from '../crypto/hmac.js'
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { dryRun, grantTokens, keyId, macAlgorithm, message } from './fields.js'
import { MAC_ALGORITHM_VALUES, macKeyOf } from './mac-key.js'

export const generateMac = defineOperation({
  name: 'GenerateMac',
  keyIdForms: 'any',
  usableIn: CRYPTO_STATES,
  readOnly: true,
  crossAccount: true,
  request: {
    Message: message,
    KeyId: keyId,
    MacAlgorithm: macAlgorithm,
    GrantTokens: grantTokens,
    DryRun: dryRun,
  },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { grantTokens: req.GrantTokens, values: MAC_ALGORITHM_VALUES[req.MacAlgorithm] })
    const material = macKeyOf(key, 'GenerateMac', req.MacAlgorithm)
    if (req.DryRun === true) ctx.dryRunSucceeded()
    const mac = computeMac(req.MacAlgorithm, material, req.Message)
    return { KeyId: key.arn, Mac: mac.toString('base64'), MacAlgorithm: req.MacAlgorithm }
  },
})
