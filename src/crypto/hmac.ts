// HMAC for the four KMS HMAC key specs (RFC 2104, full-length digests) and constant-time MAC
// comparison. computeMac is the hot path: one synchronous createHmac over a cached KeyObject.
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { HMAC_SPECS, SPEC_OF_ALGORITHM, type HmacKeySpec, type MacAlgorithm } from '../domain.js'

/** Imported material may be from the digest size up to the hash block size. */
export function importLengthRange(spec: HmacKeySpec): { min: number; max: number } {
  return { min: HMAC_SPECS[spec].materialBytes, max: HMAC_SPECS[spec].blockBytes }
}

/** New key material from the CSPRNG, at the spec's full length. */
export function generateMaterial(spec: HmacKeySpec): Buffer {
  return randomBytes(HMAC_SPECS[spec].materialBytes)
}

export function computeMac(algorithm: MacAlgorithm, key: KeyObject, message: Buffer): Buffer {
  return createHmac(HMAC_SPECS[SPEC_OF_ALGORITHM[algorithm]].digest, key).update(message).digest()
}

/**
 * Constant-time comparison. A length mismatch returns false at once: the length of a MAC is public
 * (it follows from the algorithm), so this leaks nothing about its content.
 */
export function macsEqual(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given)
}
