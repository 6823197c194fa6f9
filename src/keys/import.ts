// Imported key material (AWS KMS Developer Guide, Importing key material): RSA wrapping key pairs, unwrapping the four wrapping
// algorithms AWS offers for HMAC material, and the digest that lets only the same material back in.
import { createDecipheriv, createHash, createPrivateKey, generateKeyPair, privateDecrypt, constants, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import type { WrappingAlgorithm, WrappingKeySpec } from '../domain.js'
import { InvalidCiphertextException } from '../protocol/errors.js'

const generate = promisify(generateKeyPair)

/** Wrapping algorithms and key specs accepted for HMAC material. */
export const HMAC_WRAPPING_ALGORITHMS: readonly WrappingAlgorithm[] = [
  'RSAES_OAEP_SHA_1',
  'RSAES_OAEP_SHA_256',
  'RSA_AES_KEY_WRAP_SHA_1',
  'RSA_AES_KEY_WRAP_SHA_256',
]
export const RSA_BITS: Partial<Record<WrappingKeySpec, number>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 }

export const IMPORT_TOKEN_TTL_MS = 24 * 3600_000
export const MAX_VALID_TO_MS = 365 * 24 * 3600_000

/** A fresh RSA key pair: the public key as DER SubjectPublicKeyInfo, the private key as PKCS#8 DER. */
export async function newWrappingKey(bits: number): Promise<{ publicKey: Buffer; privateKey: Buffer }> {
  // generateKeyPair runs on the thread pool: an RSA-4096 key does not block the event loop.
  const { publicKey, privateKey } = await generate('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  })
  return { publicKey, privateKey }
}

export function newImportToken(): { token: Buffer; digest: string } {
  const token = randomBytes(48)
  return { token, digest: tokenDigest(token) }
}

export function tokenDigest(token: Buffer): string {
  return createHash('sha256').update('macaw-import-token\0').update(token).digest('hex')
}

function oaep(privateKeyDer: Buffer, hash: 'sha1' | 'sha256', data: Buffer): Buffer {
  const key = createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' })
  return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, data)
}

/**
 * Unwraps EncryptedKeyMaterial. RSAES_OAEP_*: RSA-OAEP (MGF1 with the same hash, empty label).
 * RSA_AES_KEY_WRAP_*: an RSA-OAEP-wrapped ephemeral AES-256 key (the first modulus-length bytes)
 * followed by the material wrapped with AES key wrap with padding (RFC 5649).
 */
export function unwrapMaterial(algorithm: WrappingAlgorithm, privateKeyDer: Buffer, bits: number, encrypted: Buffer): Buffer {
  try {
    switch (algorithm) {
      case 'RSAES_OAEP_SHA_1':
        return oaep(privateKeyDer, 'sha1', encrypted)
      case 'RSAES_OAEP_SHA_256':
        return oaep(privateKeyDer, 'sha256', encrypted)
      case 'RSA_AES_KEY_WRAP_SHA_1':
      case 'RSA_AES_KEY_WRAP_SHA_256': {
        const n = bits / 8
        if (encrypted.length <= n) throw new Error('too short')
        const aesKey = oaep(privateKeyDer, algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256', encrypted.subarray(0, n))
        if (aesKey.length !== 32) throw new Error('the wrapped AES key is not 256 bits')
        const decipher = createDecipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'))
        return Buffer.concat([decipher.update(encrypted.subarray(n)), decipher.final()])
      }
      case 'RSAES_PKCS1_V1_5':
      case 'SM2PKE':
        throw new Error(`unsupported algorithm ${algorithm}`)
    }
  } catch (err) {
    // Never say why: an unwrapping oracle is a gift to an attacker.
    throw new InvalidCiphertextException(undefined, { cause: err })
  }
}

/**
 * A digest of imported material, salted with the key's account and id (the same for every
 * Region of a multi-Region key), so that re-imports can be checked without keeping the material.
 */
export function materialCheck(accountId: string, keyId: string, material: Buffer): string {
  return createHash('sha256').update(`macaw-import-check\0${accountId}\0${keyId}\0`).update(material).digest('hex')
}

export function importKeyContext(arn: string, digest: string): Buffer {
  return Buffer.from(`macaw:import-wrapping-key:v1:${arn}:${digest}`)
}
