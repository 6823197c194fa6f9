// Session tokens: sealed claims that only the key that sealed them opens, whatever is done to them.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { MAX_TOKEN_CHARS, SessionTokens, type SessionClaims } from '../../../src/auth/session-token.js'

const CLAIMS: SessionClaims = {
  kind: 'role',
  accountId: '111122223333',
  name: 'app',
  roleId: 'AROAAAAAAAAAAAAAAAAAA',
  sessionName: 's1',
  accessKeyId: 'ASIAAAAAAAAAAAAAAAAA',
  secretAccessKey: 'secret-secret-secret-secret-secret-secre',
  issuedAt: 1_800_000_000_000,
  expiresAt: 1_800_000_900_000,
  policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:GenerateMac","Resource":"*"}]}',
  tags: [['team', 'blue']],
}

describe('session tokens', () => {
  const tokens = new SessionTokens(randomBytes(32))

  it('open what they sealed, and keep the secret out of the token text', () => {
    const token = tokens.seal(CLAIMS)
    assert.deepEqual(tokens.open(token), CLAIMS)
    assert.ok(!Buffer.from(token, 'base64').toString('latin1').includes(CLAIMS.secretAccessKey))
    assert.ok(!token.includes('app'))
    assert.notEqual(tokens.seal(CLAIMS), token, 'a fresh nonce each time')
  })

  it('refuse a token with any byte changed, cut short, extended, or sealed under another key', () => {
    const raw = Buffer.from(tokens.seal(CLAIMS), 'base64')
    for (let i = 0; i < raw.length; i += 7) {
      const bad = Buffer.from(raw)
      bad[i] = (bad[i] ?? 0) ^ 0x01
      assert.equal(tokens.open(bad.toString('base64')), undefined, `byte ${i} flipped`)
    }
    assert.equal(tokens.open(raw.subarray(0, raw.length - 1).toString('base64')), undefined)
    assert.equal(tokens.open(Buffer.concat([raw, Buffer.of(0)]).toString('base64')), undefined)
    assert.equal(new SessionTokens(randomBytes(32)).open(raw.toString('base64')), undefined)
  })

  it('refuse what is not a token at all, and an oversized one before decoding it', () => {
    for (const text of ['', 'x', 'FwoGZXIvYXdzEBYaDH', '!!!!'.repeat(20), 'A'.repeat(100), 'A'.repeat(MAX_TOKEN_CHARS + 4)]) {
      assert.equal(tokens.open(text), undefined, text.slice(0, 20))
    }
  })

  it('refuse sealed claims that lack what a session needs', () => {
    const { sessionName: _dropped, ...partial } = CLAIMS
    assert.equal(tokens.open(tokens.seal(partial as SessionClaims)), undefined)
    assert.equal(tokens.open(tokens.seal({ ...CLAIMS, expiresAt: 'later' } as unknown as SessionClaims)), undefined)
  })
})
