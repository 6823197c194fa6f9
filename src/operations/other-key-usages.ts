// What the cryptographic operations an HMAC key cannot perform share (AWS KMS Developer Guide, HMAC keys: only GenerateMac and VerifyMac). They exist
// so that a call naming an HMAC key gets AWS's key-usage error instead of UnknownOperationException:
// the key is resolved, authorized and state-checked first, then refused.

import { InvalidKeyUsageException } from '../protocol/errors.js'
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import type { Members } from '../protocol/validate.js'
import { defineOperation, type Operation, type OperationContext } from './define.js'
import { grantTokens, keyId } from './fields.js'

export async function refuse(ctx: OperationContext, text: string, operation: string, tokens: readonly string[] | undefined): Promise<never> {
  const key = await ctx.useKey(text, { grantTokens: tokens })
  throw new InvalidKeyUsageException(`${key.arn} key usage is ${key.record.keyUsage} which is not valid for ${operation}.`)
}

/** An operation with the model's request `members` (beside KeyId and GrantTokens), refused for HMAC keys. */
export function keyUsageRefusal(name: string, members: Members): Operation {
  return defineOperation({
    name,
    keyIdForms: 'any',
    usableIn: CRYPTO_STATES,
    crossAccount: true,
    request: { ...members, KeyId: keyId, GrantTokens: grantTokens },
    run: (ctx, req) => refuse(ctx, req.KeyId, name, req.GrantTokens),
  })
}
