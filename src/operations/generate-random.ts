// AWS KMS API Reference > GenerateRandom: 1..1024 bytes from the CSPRNG.
import { randomBytes } from 'node:crypto'
import { UnsupportedOperationException, ValidationException } from '../protocol/errors.js'
import { int, optional, str } from '../protocol/validate.js'
import { recipient } from './fields.js'
import { defineOperation } from './define.js'

export const generateRandom = defineOperation({
  name: 'GenerateRandom',
  readOnly: true,
  request: {
    NumberOfBytes: optional(int({ min: 1, max: 1024 })),
    CustomKeyStoreId: optional(str({ min: 1, max: 64 })),
    Recipient: recipient,
  },
  run(ctx, req) {
    // AWS (recorded): the service requires NumberOfBytes although the model marks it optional.
    if (req.NumberOfBytes === undefined) throw new ValidationException('NumberOfBytes is required.')
    if (req.CustomKeyStoreId !== undefined) {
      throw new UnsupportedOperationException('Custom key stores are not supported by this service.')
    }
    if (req.Recipient !== undefined) {
      throw new UnsupportedOperationException('Recipient (Nitro Enclaves attestation) is not supported by this service.')
    }
    ctx.authorizeAccount('kms:GenerateRandom')
    return { Plaintext: randomBytes(req.NumberOfBytes).toString('base64') }
  },
})
