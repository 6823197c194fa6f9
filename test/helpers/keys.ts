// Helpers that create keys through the SDK, and small assertions shared by the operation tests.
import assert from 'node:assert/strict'
import { CreateKeyCommand, type KeySpec, type KMSClient } from '@aws-sdk/client-kms'

export const MESSAGE = Buffer.from('Hello World')

export async function hmacKey(kms: KMSClient, spec: KeySpec = 'HMAC_256', extra: { Description?: string } = {}): Promise<{ keyId: string; arn: string }> {
  const out = await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC', ...extra }))
  const meta = out.KeyMetadata
  assert.ok(meta?.KeyId && meta.Arn)
  return { keyId: meta.KeyId, arn: meta.Arn }
}

/** Asserts an SDK call fails with the given exception name (and message, when given), HTTP 400. */
export async function rejectsWith(
  call: Promise<unknown>,
  name: string,
  message?: string | RegExp,
  status = 400,
): Promise<void> {
  let caught: unknown
  try {
    await call
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof Error, `expected ${name}, but the call succeeded`)
  const err = caught as Error & { $metadata?: { httpStatusCode?: number } }
  assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`)
  if (typeof message === 'string') assert.equal(err.message, message)
  else if (message instanceof RegExp) assert.match(err.message, message)
  assert.equal(err.$metadata?.httpStatusCode, status)
}
