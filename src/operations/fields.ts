// Member shapes shared by several operations, with the botocore model's constraints.
import { GRANT_OPERATIONS, KEY_SPECS, KEY_USAGES, MAC_ALGORITHMS, ORIGINS } from '../domain.js'
import { blob, bool, int, list, optional, required, str, struct } from '../protocol/validate.js'

export const keyIdShape = str({ min: 1, max: 2048 })
export const keyId = required(keyIdShape)
export const grantTokens = optional(list(str({ min: 1, max: 8192 }), { max: 10 }))
export const dryRun = optional(bool())
export const macAlgorithm = required(str({ enum: MAC_ALGORITHMS }))
/** Message of GenerateMac/VerifyMac: 1..4096 bytes, sensitive (never echoed). */
export const message = required(blob({ min: 1, max: 4096 }))
export const limit = (max: number) => optional(int({ min: 1, max }))
export const marker = optional(str({ min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/ }))
export const description = str({ min: 0, max: 8192 })
export const keySpec = str({ enum: KEY_SPECS })
export const keyUsage = str({ enum: KEY_USAGES })
export const origin = str({ enum: ORIGINS })
export const grantOperation = str({ enum: GRANT_OPERATIONS })
export const aliasName = str({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ })
// eslint-disable-next-line no-control-regex -- the model allows tab, LF and CR in a policy
export const policy = str({ min: 1, max: 131072, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/ })
export const tagList = list(
  struct({
    TagKey: required(str({ min: 1, max: 128 })),
    TagValue: required(str({ min: 0, max: 256 })),
  }),
)
