// The error classes: each one's wire `__type` is its class name and one of ERROR_CODES, with the
// status AWS gives it (docs-drift.test.ts checks that docs/errors.md lists them).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as errors from '../../src/protocol/errors.js'

type ErrorClass = new (message?: string) => errors.KmsError
const classes = Object.entries(errors as Record<string, unknown>).filter(
  (e): e is [string, ErrorClass] => typeof e[1] === 'function' && (e[1] as { prototype: unknown }).prototype instanceof errors.KmsError,
)

describe('error classes', () => {
  it('send their class name as __type, from the closed list of codes', () => {
    assert.equal(classes.length, errors.ERROR_CODES.length)
    for (const [name, Class] of classes) {
      const err = new Class('x')
      assert.equal(err.code, name)
      assert.ok((errors.ERROR_CODES as readonly string[]).includes(err.code), name)
      assert.equal(err.status, name === 'KMSInternalException' || name === 'DependencyTimeoutException' || name === 'KeyUnavailableException' ? 500 : 400)
    }
  })
})
