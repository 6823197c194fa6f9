// Helpers that create keys through the SDK, and small assertions shared by the operation tests.
import assert from 'node:assert/strict'
import { CreateKeyCommand, type KeySpec, type KMSClient } from '@aws-sdk/client-kms'
import { waitFor } from './wait.js'

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

/**
 * Refused after a change another process (the CLI) committed. On SQLite that holds on the next
 * request (the change stamp); PostgreSQL's nodes hear of it by NOTIFY, which docs/multinode.md
 * promises within the cache TTL (1 s) and which usually, not always, beats the next request:
 * there it waits for a refusal first. Either way the refusal itself is then asserted whole.
 */
export async function refusedOnceChanged(call: () => Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  if (process.env['MACAW_TEST_STORE'] === 'postgres') {
    await waitFor(`${name} once the change is heard of`, () => call().then(() => false, () => true), { timeoutMs: 1500, everyMs: 50 })
  }
  await rejectsWith(call(), name, message)
}
