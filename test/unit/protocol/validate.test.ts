import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { blob, compileRequest, decodeBase64, int, list, optional, required, str, struct } from '../../../src/protocol/validate.js'

const parse = compileRequest({
  KeyId: required(str({ min: 1, max: 8 })),
  Message: optional(blob({ min: 1, max: 4 })),
  Kind: optional(str({ enum: ['A', 'B'] as const })),
  Secret: optional(str({ min: 2, sensitive: true })),
  Limit: optional(int({ min: 1, max: 10 })),
  Tags: optional(list(struct({ TagKey: required(str({ max: 3 })) }), { max: 2 })),
  Name: optional(str({ pattern: /^[a-z]+$/ })),
})

function fails(body: unknown, name: string, message?: string): void {
  assert.throws(() => parse(body), (err: Error) => {
    assert.equal(err.name, name)
    if (message !== undefined) assert.equal(err.message, message)
    return true
  })
}

describe('protocol/validate', () => {
  it('returns the typed request with blobs decoded, and drops null and unknown members', () => {
    const out = parse({ KeyId: 'k', Message: 'aGk=', Kind: null, Extra: 1, Tags: [{ TagKey: 'a' }] })
    assert.deepEqual(out, { KeyId: 'k', Message: Buffer.from('hi'), Tags: [{ TagKey: 'a' }] })
  })

  it('reports a missing required member as AWS does', () => {
    fails({}, 'ValidationException', "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
  })

  it('lists every violation, with 1-based .member. paths in lists', () => {
    fails(
      { KeyId: 'toolongvalue', Limit: 11, Tags: [{ TagKey: 'ok' }, { TagKey: 'long' }, { TagKey: 'x' }] },
      'ValidationException',
      "4 validation errors detected: Value 'toolongvalue' at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 8; Value '11' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10; Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2; Value 'long' at 'tags.2.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 3",
    )
  })

  it('never echoes blob or sensitive values', () => {
    fails({ KeyId: 'k', Message: 'aGVsbG8=' }, 'ValidationException', "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4")
    fails({ KeyId: 'k', Secret: 'x' }, 'ValidationException', "1 validation error detected: Value at 'secret' failed to satisfy constraint: Member must have length greater than or equal to 2")
  })

  it('reports enum and pattern violations', () => {
    fails({ KeyId: 'k', Kind: 'C' }, 'ValidationException', "1 validation error detected: Value 'C' at 'kind' failed to satisfy constraint: Member must satisfy enum value set: [A, B]")
    fails({ KeyId: 'k', Name: 'A1' }, 'ValidationException', "1 validation error detected: Value 'A1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z]+$")
  })

  it('answers SerializationException for wrong JSON types and bad base64', () => {
    for (const body of [
      { KeyId: 5 },
      { KeyId: ['k'] },
      { KeyId: 'k', Limit: '1' },
      { KeyId: 'k', Limit: 1.5 },
      { KeyId: 'k', Limit: 2 ** 60 },
      { KeyId: 'k', Tags: {} },
      { KeyId: 'k', Tags: [null] },
      { KeyId: 'k', Tags: ['a'] },
      { KeyId: 'k', Message: 'not base64' },
      { KeyId: 'k', Message: 'aGk' },
      { KeyId: 'k', Message: 'aG=k' },
      { KeyId: 'k', Message: 7 },
    ]) {
      fails(body, 'SerializationException')
    }
  })
})

describe('decodeBase64', () => {
  // The grammar it implements, written the slow and obvious way, as the reference.
  const GRAMMAR = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

  it('accepts exactly the strings of the base64 grammar, and decodes them as Node does', () => {
    // Short strings over an alphabet with every kind of trouble: padding, URL-safe characters,
    // whitespace, a NUL, non-ASCII and a UTF-16 code unit.
    const alphabet = ['A', 'z', '0', '+', '/', '=', '-', '_', ' ', '\n', '\u0000', 'é', '\u0100']
    let state = 12345
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648
      return state % n
    }
    let accepted = 0
    for (let i = 0; i < 20000; i++) {
      const length = random(13)
      let text = ''
      for (let j = 0; j < length; j++) text += alphabet[random(alphabet.length)] ?? ''
      // Bias towards valid strings, so that both answers are exercised.
      if (random(2) === 0) text = text.replace(/[^A-Za-z0-9+/=]/g, 'A')
      const decoded = decodeBase64(text)
      assert.equal(decoded !== undefined, GRAMMAR.test(text), JSON.stringify(text))
      if (decoded !== undefined) {
        accepted++
        assert.deepEqual(decoded, Buffer.from(text, 'base64'))
      }
    }
    assert.ok(accepted > 1000, `${accepted} valid strings generated`)
  })
})
