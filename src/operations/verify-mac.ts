// AWS KMS API Reference > VerifyMac. A wrong MAC is KMSInvalidMacException, never
// MacValid: false; the comparison is constant-time.
import { computeMac, macsEqual } from '../crypto/hmac.js'
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import { KMSInvalidMacException } from '../protocol/errors.js'
import { blob, required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { dryRun, grantTokens, keyId, macAlgorithm, message } from './fields.js'
import { MAC_ALGORITHM_VALUES, macKeyOf } from './mac-key.js'

export const verifyMac = defineOperation({
  name: 'VerifyMac',
  keyIdForms: 'any',
  usableIn: CRYPTO_STATES,
  readOnly: true,
  crossAccount: true,
  request: {
    Message: message,
    KeyId: keyId,
    MacAlgorithm: macAlgorithm,
    Mac: required(blob({ min: 1, max: 6144 })),
    GrantTokens: grantTokens,
    DryRun: dryRun,
  },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { grantTokens: req.GrantTokens, values: MAC_ALGORITHM_VALUES[req.MacAlgorithm] })
    const material = macKeyOf(key, 'VerifyMac', req.MacAlgorithm)
    const expected = computeMac(req.MacAlgorithm, material, req.Message)
    // A dry run still checks the MAC: DryRunOperationException means the call would have succeeded.
    if (!macsEqual(expected, req.Mac)) throw new KMSInvalidMacException()
    if (req.DryRun === true) ctx.dryRunSucceeded()
    return { KeyId: key.arn, MacValid: true, MacAlgorithm: req.MacAlgorithm }
  },
})
