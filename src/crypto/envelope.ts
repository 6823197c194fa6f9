// Versioned envelope for secrets at rest (key material, secret access keys). A fresh 256-bit data
// key per blob encrypts the secret with AES-256-GCM; the root of trust wraps the data key. The GCM
// AAD is the whole header plus the caller's context (e.g. the key ARN), so a blob cannot be moved
// to another row or have its header edited. Layout (all lengths in bytes):
//   magic "MCW" | version 0x01 | rootIdLen u8 | rootId | wrappedLen u16 BE | wrapped | nonce 12
//   | ciphertext | tag 16
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { RootOfTrust } from '../trust/root-of-trust.js'

const MAGIC = Buffer.from('MCW')
const VERSION = 1
const NONCE = 12
const TAG = 16

export class EnvelopeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EnvelopeError'
  }
}

interface Parsed {
  readonly header: Buffer
  readonly rootId: string
  readonly wrapped: Buffer
  readonly nonce: Buffer
  readonly ciphertext: Buffer
  readonly tag: Buffer
}

function header(rootId: string, wrapped: Buffer, nonce: Buffer): Buffer {
  const id = Buffer.from(rootId, 'utf8')
  if (id.length > 255) throw new EnvelopeError('root id too long')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(wrapped.length)
  return Buffer.concat([MAGIC, Buffer.from([VERSION, id.length]), id, len, wrapped, nonce])
}

function parse(blob: Buffer): Parsed {
  if (blob.length < MAGIC.length + 2 || !blob.subarray(0, 3).equals(MAGIC)) {
    throw new EnvelopeError('not a macaw envelope')
  }
  if (blob[3] !== VERSION) throw new EnvelopeError(`unknown envelope version ${blob[3]}`)
  let at = 4
  const idLen = blob[at] ?? 0
  at += 1
  if (blob.length < at + idLen + 2) throw new EnvelopeError('truncated envelope')
  const rootId = blob.subarray(at, at + idLen).toString('utf8')
  at += idLen
  const wrappedLen = blob.readUInt16BE(at)
  at += 2
  if (blob.length < at + wrappedLen + NONCE + TAG) throw new EnvelopeError('truncated envelope')
  const wrapped = blob.subarray(at, at + wrappedLen)
  at += wrappedLen
  const nonce = blob.subarray(at, at + NONCE)
  at += NONCE
  return {
    header: blob.subarray(0, at),
    rootId,
    wrapped,
    nonce,
    ciphertext: blob.subarray(at, blob.length - TAG),
    tag: blob.subarray(blob.length - TAG),
  }
}

export async function seal(root: RootOfTrust, plaintext: Buffer, context: Buffer): Promise<Buffer> {
  const dataKey = randomBytes(32)
  try {
    const wrapped = await root.wrapKey(dataKey)
    const nonce = randomBytes(NONCE)
    const head = header(root.id, wrapped, nonce)
    const cipher = createCipheriv('aes-256-gcm', dataKey, nonce)
    cipher.setAAD(Buffer.concat([head, context]))
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return Buffer.concat([head, ciphertext, cipher.getAuthTag()])
  } finally {
    dataKey.fill(0)
  }
}

/** Something that can find the root an envelope was sealed under (trust/ring.ts). */
export interface RootSource {
  rootFor(rootId: string): Promise<RootOfTrust | undefined>
}

export type Roots = RootOfTrust | ReadonlyMap<string, RootOfTrust> | RootSource

async function pickRoot(roots: Roots, rootId: string): Promise<RootOfTrust> {
  const root =
    'rootFor' in roots ? await roots.rootFor(rootId) : 'wrapKey' in roots ? (roots.id === rootId ? roots : undefined) : roots.get(rootId)
  if (!root) throw new EnvelopeError(`envelope was sealed under root ${rootId}, which is not among the configured roots (--root, --extra-roots)`)
  return root
}

export async function open(roots: Roots, blob: Buffer, context: Buffer): Promise<Buffer> {
  const p = parse(blob)
  const root = await pickRoot(roots, p.rootId)
  let dataKey: Buffer
  try {
    dataKey = await root.unwrapKey(p.wrapped)
  } catch (err) {
    throw new EnvelopeError('cannot unwrap the data key', { cause: err })
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, p.nonce)
    decipher.setAAD(Buffer.concat([p.header, context]))
    decipher.setAuthTag(p.tag)
    return Buffer.concat([decipher.update(p.ciphertext), decipher.final()])
  } catch (err) {
    throw new EnvelopeError('envelope failed authentication (tampered, or another context)', { cause: err })
  } finally {
    dataKey.fill(0)
  }
}

/** The id of the root a blob was sealed under, so a rotation can find blobs still on an old root. */
export function envelopeRootId(blob: Buffer): string {
  return parse(blob).rootId
}

/**
 * Re-wraps only the data key under another root. The header changes, so the ciphertext is
 * re-encrypted under the same data key with the new header as AAD; the secret never leaves memory.
 */
export async function rewrap(blob: Buffer, from: Roots, to: RootOfTrust, context: Buffer): Promise<Buffer> {
  const plaintext = await open(from, blob, context)
  try {
    return await seal(to, plaintext, context)
  } finally {
    plaintext.fill(0)
  }
}

/** The envelope context binding HMAC key material to its key ARN. */
export function keyMaterialContext(arn: string): Buffer {
  return Buffer.from(`macaw:key-material:v1:${arn}`)
}
