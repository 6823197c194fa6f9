// HMAC for the four KMS HMAC key specs (RFC 2104, full-length digests) and constant-time MAC
// comparison. computeMac is the hot path: one synchronous createHmac over a cached MacKey.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { inspect } from 'node:util'
import { HMAC_SPECS, SPEC_OF_ALGORITHM, type HmacKeySpec, type MacAlgorithm } from '../domain.js'

/** Imported material may be from the digest size up to the hash block size. */
export function importLengthRange(spec: HmacKeySpec): { min: number; max: number } {
  return { min: HMAC_SPECS[spec].materialBytes, max: HMAC_SPECS[spec].blockBytes }
}

/** New key material from the CSPRNG, at the spec's full length. */
export function generateMaterial(spec: HmacKeySpec): Buffer {
  return randomBytes(HMAC_SPECS[spec].materialBytes)
}

/** A copy of `bytes` in a buffer of its own, never a slice of Node's shared pool. */
function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length)
  bytes.copy(copy)
  return copy
}

/**
 * Unwrapped key material, as the key cache holds it: the bytes in a buffer of their own (never a
 * slice of Node's shared pool, where other data lives beside them) behind a private field, so
 * that logging, JSON or inspecting a cached key shows nothing of them, and only computeMac and
 * export() use them. Not a KeyObject, which gives the same opacity at a higher price: two native
 * objects each with a weak handle and a cleanup hook, about 870 B of RSS per key against about
 * 400 B for a MacKey (with 100,000 keys cached, about 45 MiB; docs/performance.md).
 * Like a KeyObject's, the bytes go when the key is collected; they are not zeroed when an entry
 * is dropped, since a request holding the key may not have computed its MAC yet.
 */
export class MacKey {
  readonly #bytes: Buffer

  /** A copy of `material`: the caller zeroes its own buffer. */
  constructor(material: Buffer) {
    this.#bytes = ownCopy(material)
  }

  /** A copy of the material, to seal it again (ReplicateKey): the caller zeroes it. */
  export(): Buffer {
    return ownCopy(this.#bytes)
  }

  toJSON(): string {
    return 'MacKey'
  }

  [inspect.custom](): string {
    return 'MacKey'
  }

  /** HMAC under this key (computeMac()). */
  static mac(digest: string, key: MacKey, message: Buffer): Buffer {
    return createHmac(digest, key.#bytes).update(message).digest()
  }
}

export function computeMac(algorithm: MacAlgorithm, key: MacKey, message: Buffer): Buffer {
  return MacKey.mac(HMAC_SPECS[SPEC_OF_ALGORITHM[algorithm]].digest, key, message)
}

/**
 * Constant-time comparison. A length mismatch returns false at once: the length of a MAC is public
 * (it follows from the algorithm), so this leaks nothing about its content.
 */
export function macsEqual(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given)
}
