// The checks GenerateMac and VerifyMac share after the key is usable: key usage, then algorithm
// against key spec (recorded to win over the MAC comparison), then the material itself.
import type { MacKey } from '../crypto/hmac.js'
import { HMAC_SPECS, type MacAlgorithm } from '../domain.js'
import type { CachedKey } from '../keys/cache.js'
import { InvalidKeyUsageException, KMSInternalException } from '../protocol/errors.js'

/** kms:MacAlgorithm for each algorithm, built once (no allocation per request). */
export const MAC_ALGORITHM_VALUES: Readonly<Record<MacAlgorithm, ReadonlyMap<string, readonly string[]>>> = {
  HMAC_SHA_224: new Map([['kms:macalgorithm', ['HMAC_SHA_224']]]),
  HMAC_SHA_256: new Map([['kms:macalgorithm', ['HMAC_SHA_256']]]),
  HMAC_SHA_384: new Map([['kms:macalgorithm', ['HMAC_SHA_384']]]),
  HMAC_SHA_512: new Map([['kms:macalgorithm', ['HMAC_SHA_512']]]),
}

export function macKeyOf(key: CachedKey, operation: string, algorithm: MacAlgorithm): MacKey {
  const { record } = key
  if (record.keyUsage !== 'GENERATE_VERIFY_MAC') {
    throw new InvalidKeyUsageException(`${key.arn} key usage is ${record.keyUsage} which is not valid for ${operation}.`)
  }
  if (HMAC_SPECS[record.keySpec].macAlgorithm !== algorithm) {
    throw new InvalidKeyUsageException(`Algorithm ${algorithm} is incompatible with key spec ${record.keySpec}.`)
  }
  // A usable key always has material; its absence is our fault, not the caller's.
  if (!key.material) throw new KMSInternalException(KMSInternalException.MESSAGE)
  return key.material
}
