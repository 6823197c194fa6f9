// AWS KMS API Reference > Sign.
import { required } from '../protocol/validate.js'
import { dryRun, messageType, plaintext, signingAlgorithm } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const sign = keyUsageRefusal('Sign', { Message: required(plaintext), MessageType: messageType, SigningAlgorithm: required(signingAlgorithm), DryRun: dryRun })
