// Root of trust in a file: 32 random bytes as one line `macaw-root-v1:<base64>`, mode 0600.
// Data keys are wrapped with AES-256 key wrap (RFC 3394, node's id-aes256-wrap), byte-compatible
// with PKCS#11 CKM_AES_KEY_WRAP so that an HSM provider can take over the same envelopes' role.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { RootOfTrust } from './root-of-trust.js'

const PREFIX = 'macaw-root-v1:'
// RFC 3394 §2.2.3.1 default initial value.
const IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex')

export class RootOfTrustError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RootOfTrustError'
  }
}

function fingerprint(key: Buffer): string {
  return createHash('sha256').update('macaw root key id\0').update(key).digest('hex').slice(0, 16)
}

class FileRoot implements RootOfTrust {
  readonly id: string
  readonly description: string
  private key: Buffer

  constructor(path: string, key: Buffer) {
    this.key = key
    this.id = fingerprint(key)
    this.description = `file:${path}`
  }

  wrapKey(dataKey: Buffer): Promise<Buffer> {
    const cipher = createCipheriv('id-aes256-wrap', this.key, IV)
    return Promise.resolve(Buffer.concat([cipher.update(dataKey), cipher.final()]))
  }

  unwrapKey(wrapped: Buffer): Promise<Buffer> {
    try {
      const decipher = createDecipheriv('id-aes256-wrap', this.key, IV)
      return Promise.resolve(Buffer.concat([decipher.update(wrapped), decipher.final()]))
    } catch (err) {
      return Promise.reject(new RootOfTrustError('the data key was not wrapped by this root key', { cause: err }))
    }
  }

  close(): Promise<void> {
    this.key.fill(0)
    this.key = Buffer.alloc(32)
    return Promise.resolve()
  }
}

function decode(path: string, text: string): Buffer {
  const line = text.trim()
  const key = line.startsWith(PREFIX) ? Buffer.from(line.slice(PREFIX.length), 'base64') : undefined
  if (!key || key.length !== 32 || key.toString('base64') !== line.slice(PREFIX.length)) {
    throw new RootOfTrustError(`${path} is not a macaw root key file (expected one line '${PREFIX}<32 bytes in base64>')`)
  }
  return key
}

/** Opens an existing root key file; refuses one that group or others can read. */
export function openFileRoot(path: string): RootOfTrust {
  const abs = resolve(path)
  const mode = statSync(abs).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new RootOfTrustError(`${abs} has mode ${mode.toString(8).padStart(4, '0')}; a root key must be private to its owner (chmod 600 ${abs})`)
  }
  return new FileRoot(abs, decode(abs, readFileSync(abs, 'utf8')))
}

/** Creates a new root key file (never overwrites: fails if it exists), durably. */
export function createFileRoot(path: string): RootOfTrust {
  const abs = resolve(path)
  const key = randomBytes(32)
  const fd = openSync(abs, 'wx', 0o600)
  try {
    writeSync(fd, `${PREFIX}${key.toString('base64')}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  const dir = openSync(dirname(abs), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
  return new FileRoot(abs, key)
}
