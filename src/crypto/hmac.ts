// HMAC for the four KMS HMAC key specs (RFC 2104, full-length digests) and constant-time MAC
// comparison. computeMac is the hot path: one synchronous createHmac over a cached KeyObject.
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import type { HmacKeySpec, MacAlgorithm } from '../domain.js'

/** Each HMAC key spec allows exactly one algorithm (reference §1). */
export const MAC_ALGORITHM_OF: Readonly<Record<HmacKeySpec, MacAlgorithm>> = {
  HMAC_224: 'HMAC_SHA_224',
  HMAC_256: 'HMAC_SHA_256',
  HMAC_384: 'HMAC_SHA_384',
  HMAC_512: 'HMAC_SHA_512',
}

const DIGEST: Readonly<Record<MacAlgorithm, string>> = {
  HMAC_SHA_224: 'sha224',
  HMAC_SHA_256: 'sha256',
  HMAC_SHA_384: 'sha384',
  HMAC_SHA_512: 'sha512',
}

const SIZE: Readonly<Record<HmacKeySpec, number>> = { HMAC_224: 28, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64 }
const BLOCK: Readonly<Record<HmacKeySpec, number>> = { HMAC_224: 64, HMAC_256: 64, HMAC_384: 128, HMAC_512: 128 }

export function macLength(algorithm: MacAlgorithm): number {
  return { HMAC_SHA_224: 28, HMAC_SHA_256: 32, HMAC_SHA_384: 48, HMAC_SHA_512: 64 }[algorithm]
}

/** Length of material generated for a spec: the spec size (reference §1). */
export function materialLength(spec: HmacKeySpec): number {
  return SIZE[spec]
}

/** Imported material may be from the spec size up to the hash block size (reference §1). */
export function importLengthRange(spec: HmacKeySpec): { min: number; max: number } {
  return { min: SIZE[spec], max: BLOCK[spec] }
}

/** New key material from the CSPRNG, at the spec's full length. */
export function generateMaterial(spec: HmacKeySpec): Buffer {
  return randomBytes(SIZE[spec])
}

export function computeMac(algorithm: MacAlgorithm, key: KeyObject, message: Buffer): Buffer {
  return createHmac(DIGEST[algorithm], key).update(message).digest()
}

/**
 * Constant-time comparison. A length mismatch returns false at once: the length of a MAC is public
 * (it follows from the algorithm), so this leaks nothing about its content.
 */
export function macsEqual(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given)
}
