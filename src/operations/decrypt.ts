// AWS KMS API Reference > Decrypt.
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import { IncorrectKeyException, InvalidCiphertextException } from '../protocol/errors.js'
import { optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { ciphertextBlob, dryRun, dryRunModifiers, encryptionAlgorithm, encryptionContext, grantTokens, keyIdShape, recipient } from './fields.js'

export const decrypt = defineOperation({
  name: 'Decrypt',
  keyIdForms: 'any',
  usableIn: CRYPTO_STATES,
  crossAccount: true,
  request: {
    CiphertextBlob: optional(ciphertextBlob),
    EncryptionContext: encryptionContext,
    GrantTokens: grantTokens,
    KeyId: optional(keyIdShape),
    EncryptionAlgorithm: encryptionAlgorithm,
    Recipient: recipient,
    DryRun: dryRun,
    DryRunModifiers: dryRunModifiers,
  },
  async run(ctx, req) {
    if (req.KeyId !== undefined) {
      await ctx.useKey(req.KeyId, { grantTokens: req.GrantTokens })
      // AWS (recorded): Decrypt naming an HMAC key.
      throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.')
    }
    // No ciphertext can come from this service: nothing here encrypts.
    throw new InvalidCiphertextException()
  },
})
