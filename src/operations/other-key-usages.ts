// Cryptographic operations an HMAC key cannot perform (reference §6.18). They exist so that a call
// naming an HMAC key gets AWS's key-usage error instead of UnknownOperationException: the key is
// resolved, authorized and state-checked first, then refused.
import { USABLE_IN } from '../keys/lifecycle.js'
import { IncorrectKeyException, InvalidCiphertextException, InvalidKeyUsageException, UnsupportedOperationException } from '../protocol/errors.js'
import { optional } from '../protocol/validate.js'
import { defineOperation, type Operation, type OperationContext } from './define.js'
import { grantTokens, keyId, keyIdShape } from './fields.js'

async function refuse(ctx: OperationContext, text: string, operation: string, tokens: readonly string[] | undefined): Promise<never> {
  const key = await ctx.useKey(text, { forms: 'any', usableIn: USABLE_IN.OtherCrypto, grantTokens: tokens })
  throw new InvalidKeyUsageException(`${key.arn} key usage is ${key.record.keyUsage} which is not valid for ${operation}.`)
}

function keyUsageRefusal(name: string): Operation {
  return defineOperation({
    name,
    crossAccount: true,
    request: { KeyId: keyId, GrantTokens: grantTokens },
    run: (ctx, req) => refuse(ctx, req.KeyId, name, req.GrantTokens),
  })
}

export const encrypt = keyUsageRefusal('Encrypt')
export const generateDataKey = keyUsageRefusal('GenerateDataKey')
export const generateDataKeyWithoutPlaintext = keyUsageRefusal('GenerateDataKeyWithoutPlaintext')
export const generateDataKeyPair = keyUsageRefusal('GenerateDataKeyPair')
export const generateDataKeyPairWithoutPlaintext = keyUsageRefusal('GenerateDataKeyPairWithoutPlaintext')
export const sign = keyUsageRefusal('Sign')
export const verify = keyUsageRefusal('Verify')
export const deriveSharedSecret = keyUsageRefusal('DeriveSharedSecret')

export const decrypt = defineOperation({
  name: 'Decrypt',
  crossAccount: true,
  request: { KeyId: optional(keyIdShape), GrantTokens: grantTokens },
  async run(ctx, req) {
    if (req.KeyId !== undefined) {
      await ctx.useKey(req.KeyId, { forms: 'any', usableIn: USABLE_IN.OtherCrypto, grantTokens: req.GrantTokens })
      // AWS (recorded): Decrypt naming an HMAC key.
      throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.')
    }
    // No ciphertext can come from this service: nothing here encrypts.
    throw new InvalidCiphertextException()
  },
})

export const reEncrypt = defineOperation({
  name: 'ReEncrypt',
  crossAccount: true,
  request: { DestinationKeyId: keyId, SourceKeyId: optional(keyIdShape), GrantTokens: grantTokens },
  async run(ctx, req) {
    if (req.SourceKeyId !== undefined) {
      await ctx.useKey(req.SourceKeyId, { forms: 'any', usableIn: USABLE_IN.OtherCrypto, grantTokens: req.GrantTokens, action: 'kms:ReEncryptFrom' })
      throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.')
    }
    return refuse(ctx, req.DestinationKeyId, 'ReEncrypt', req.GrantTokens)
  },
})

export const getPublicKey = defineOperation({
  name: 'GetPublicKey',
  crossAccount: true,
  readOnly: true,
  request: { KeyId: keyId, GrantTokens: grantTokens },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'any', usableIn: USABLE_IN.OtherCrypto, grantTokens: req.GrantTokens })
    throw new UnsupportedOperationException(`${key.arn} key usage is ${key.record.keyUsage} which is not valid for GetPublicKey.`)
  },
})
