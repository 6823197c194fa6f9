// Attacks on request authentication: replays outside the clock-skew window, changes after
// signing, signatures scoped elsewhere, headers outside SignedHeaders, duplicate Authorization
// headers, forged SignedHeaders lists and unknown access keys. Each must be refused and change nothing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { send, signedSend } from '../helpers/raw.js'
import { ROOT, sharedKms, startKms } from '../helpers/server.js'
import { rawExchange, rawRequest } from '../fuzz/wire.js'
import { sign } from './sign.js'

const HMAC_KEY = '{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}'

async function createKey(url: string): Promise<string> {
  const res = await signedSend(url, 'TrentService.CreateKey', HMAC_KEY)
  assert.equal(res.status, 200, res.body)
  return (res.json?.['KeyMetadata'] as { KeyId: string }).KeyId
}

async function keyCount(url: string): Promise<number> {
  const res = await signedSend(url, 'TrentService.ListKeys', '{}')
  return (res.json?.['Keys'] as unknown[]).length
}

async function keyState(url: string, keyId: string): Promise<string> {
  const res = await signedSend(url, 'TrentService.DescribeKey', JSON.stringify({ KeyId: keyId }))
  return (res.json?.['KeyMetadata'] as { KeyState: string }).KeyState
}

function typeOf(res: { json: Record<string, unknown> | undefined }): unknown {
  return res.json?.['__type']
}

describe('attacks on SigV4', () => {
  it('refuses a captured CreateKey replayed with an X-Amz-Date 6 minutes old, and stores nothing', async (t) => {
    const { server } = await startKms(t)
    const headers = await sign(server.url, 'TrentService.CreateKey', HMAC_KEY, { date: new Date(Date.now() - 6 * 60_000) })
    const res = await send(server.url, { headers, body: HMAC_KEY })
    assert.equal(res.status, 400)
    assert.equal(typeOf(res), 'InvalidSignatureException')
    assert.match(String(res.json?.['message']), /^Signature expired: /)
    assert.equal(await keyCount(server.url), 0)
  })

  it('refuses a request dated 6 minutes in the future', async (t) => {
    const { server } = await startKms(t)
    const headers = await sign(server.url, 'TrentService.CreateKey', HMAC_KEY, { date: new Date(Date.now() + 6 * 60_000) })
    const res = await send(server.url, { headers, body: HMAC_KEY })
    assert.equal(typeOf(res), 'InvalidSignatureException')
    assert.match(String(res.json?.['message']), /^Signature not yet current: /)
  })

  it('refuses a fresh X-Amz-Date pasted onto an old signature', async (t) => {
    const { server } = await startKms(t)
    const headers = await sign(server.url, 'TrentService.CreateKey', HMAC_KEY, { date: new Date(Date.now() - 60 * 60_000) })
    const fresh = await sign(server.url, 'TrentService.CreateKey', HMAC_KEY)
    const res = await send(server.url, { headers: { ...headers, 'x-amz-date': fresh['x-amz-date'] ?? '' }, body: HMAC_KEY })
    assert.equal(typeOf(res), 'InvalidSignatureException')
    assert.equal(await keyCount(server.url), 0)
  })

  it('refuses a body swapped after signing for another operation-sized body', async (t) => {
    const { server } = await startKms(t)
    const keyId = await createKey(server.url)
    const body = JSON.stringify({ KeyId: keyId })
    const headers = await sign(server.url, 'TrentService.DescribeKey', body)
    const res = await send(server.url, { headers, body: JSON.stringify({ KeyId: keyId, Extra: 1 }) })
    assert.equal(typeOf(res), 'InvalidSignatureException')
  })

  it('refuses a signed x-amz-target changed after signing, and the key keeps its state', async (t) => {
    const { server } = await startKms(t)
    const keyId = await createKey(server.url)
    const body = JSON.stringify({ KeyId: keyId })
    const headers = await sign(server.url, 'TrentService.DescribeKey', body)
    const res = await send(server.url, { headers: { ...headers, 'x-amz-target': 'TrentService.DisableKey' }, body })
    assert.equal(typeOf(res), 'InvalidSignatureException')
    assert.equal(await keyState(server.url, keyId), 'Enabled')
  })

  it('refuses a query string added after signing', async (t) => {
    const { server } = await startKms(t)
    const headers = await sign(server.url, 'TrentService.ListKeys', '{}')
    const res = await send(server.url, { path: '/?Action=CreateKey', headers, body: '{}' })
    assert.equal(typeOf(res), 'InvalidSignatureException')
  })

  it('refuses a query string changed after signing', async (t) => {
    const { server } = await startKms(t)
    const headers = await sign(server.url, 'TrentService.ListKeys', '{}', { query: { a: '1' } })
    assert.equal((await send(server.url, { path: '/?a=1', headers, body: '{}' })).status, 200)
    const res = await send(server.url, { path: '/?a=2', headers, body: '{}' })
    assert.equal(typeOf(res), 'InvalidSignatureException')
  })

  it('refuses a signature whose Credential scope was rewritten to another region', async (t) => {
    const { server } = await startKms(t)
    const headers = await sign(server.url, 'TrentService.CreateKey', HMAC_KEY, { region: 'eu-west-1' })
    const authorization = (headers['authorization'] ?? '').replace('/eu-west-1/', '/us-east-1/')
    const res = await send(server.url, { headers: { ...headers, authorization }, body: HMAC_KEY })
    assert.equal(typeOf(res), 'InvalidSignatureException')
    assert.equal(await keyCount(server.url), 0)
  })

  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const service of ['s3', 'sts', 'KMS', 'kms ']) {
    it(`refuses a signature scoped to service '${service}'`, async () => {
      const { server } = await table()
      const headers = await sign(server.url, 'TrentService.ListKeys', '{}', { service })
      const res = await send(server.url, { headers, body: '{}' })
      assert.equal(res.status, 400)
      assert.match(String(typeOf(res)), /^(InvalidSignatureException|IncompleteSignatureException)$/)
    })
  }

  it('refuses a signature made with the secret for another region scope pasted into this one', async (t) => {
    const { server } = await startKms(t)
    const good = await sign(server.url, 'TrentService.ListKeys', '{}', { region: 'us-west-2' })
    const other = await sign(server.url, 'TrentService.ListKeys', '{}', { region: 'us-east-1' })
    const signature = /Signature=([0-9a-f]+)/.exec(good['authorization'] ?? '')?.[1] ?? ''
    const authorization = (other['authorization'] ?? '').replace(/Signature=[0-9a-f]+/, `Signature=${signature}`)
    const res = await send(server.url, { headers: { ...other, authorization }, body: '{}' })
    assert.equal(typeOf(res), 'InvalidSignatureException')
  })

  it('refuses an access key id of the right shape that does not exist', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.CreateKey', HMAC_KEY, { credentials: { accessKeyId: 'AKIAZZZZZZZZZZZZZZZZ', secretAccessKey: ROOT.secretAccessKey } })
    assert.equal(typeOf(res), 'UnrecognizedClientException')
    assert.equal(await keyCount(server.url), 0)
  })

  it('refuses the root access key id lower-cased (ids are exact)', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.ListKeys', '{}', { credentials: { accessKeyId: ROOT.accessKeyId.toLowerCase(), secretAccessKey: ROOT.secretAccessKey } })
    assert.equal(typeOf(res), 'UnrecognizedClientException')
  })

  it(
    'does not let an x-amz-target left out of SignedHeaders change the operation',
    async (t) => {
      const { server } = await startKms(t)
      const keyId = await createKey(server.url)
      const body = JSON.stringify({ KeyId: keyId })
      // A client that signs DescribeKey but leaves x-amz-target out of SignedHeaders...
      const headers = await sign(server.url, 'TrentService.DescribeKey', body, { unsigned: ['x-amz-target'] })
      assert.doesNotMatch(headers['authorization'] ?? '', /x-amz-target/)
      // ...and an attacker who replays it with another target: this must not disable the key.
      const res = await send(server.url, { headers: { ...headers, 'x-amz-target': 'TrentService.DisableKey' }, body })
      assert.equal(await keyState(server.url, keyId), 'Enabled')
      assert.equal(res.status, 400, res.body)
      assert.match(String(typeOf(res)), /^(InvalidSignatureException|IncompleteSignatureException|AccessDeniedException)$/)
    },
  )

  it('ignores an injected unsigned header that is not the target, and refuses an injected session token', async (t) => {
    const { server } = await startKms(t)
    const headers = await sign(server.url, 'TrentService.ListKeys', '{}')
    const res = await send(server.url, { headers: { ...headers, 'x-forwarded-for': '10.0.0.1', 'x-amz-user-agent': 'evil' }, body: '{}' })
    assert.equal(res.status, 200, res.body)
    // A session token with long-term credentials is invalid, signed or not (as AWS answers it).
    const token = await send(server.url, { headers: { ...headers, 'x-amz-security-token': 'injected' }, body: '{}' })
    assert.equal(token.status, 400, token.body)
    assert.equal(typeOf(token), 'UnrecognizedClientException')
  })

  it(
    'refuses a request with a second Authorization header',
    async (t) => {
      const { server } = await startKms(t)
      const headers = await sign(server.url, 'TrentService.CreateKey', HMAC_KEY)
      const lines: [string, string][] = [
        ...Object.entries(headers),
        ['authorization', 'AWS4-HMAC-SHA256 Credential=AKIAZZZZZZZZZZZZZZZZ/20200101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=' + '0'.repeat(64)],
        ['content-length', String(HMAC_KEY.length)],
        ['connection', 'close'],
      ]
      const answer = await rawExchange(server.port, rawRequest('POST', '/', lines, Buffer.from(HMAC_KEY)))
      assert.equal(await keyCount(server.url), 0)
      assert.equal(answer?.status, 400)
      assert.match(answer.body, /IncompleteSignatureException|InvalidSignatureException/)
    },
  )

  it(
    'refuses a SignedHeaders list naming __proto__ or constructor with InvalidSignatureException, not a 500',
    async (t) => {
      const { server } = await startKms(t)
      const headers = await sign(server.url, 'TrentService.ListKeys', '{}')
      // No secret needed: a public access key id and a made-up signature over a forged list.
      const scope = /Credential=([^,]+)/.exec(headers['authorization'] ?? '')?.[1] ?? ''
      for (const name of ['constructor', '__proto__', 'tostring']) {
        const authorization = `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=host;x-amz-date;${name}, Signature=${'0'.repeat(64)}`
        const res = await send(server.url, { headers: { ...headers, authorization }, body: '{}' })
        assert.equal(res.status, 400, `${name}: ${res.body}`)
        assert.equal(typeOf(res), 'InvalidSignatureException', name)
      }
      // node:http cannot keep a header named __proto__, so a request that signs one cannot be
      // verified: a clean 400, never a 500.
      const signedProto = await signedSend(server.url, 'TrentService.ListKeys', '{}', { headers: { ['__proto__']: 'x' } })
      assert.equal(signedProto.status, 400, signedProto.body)
      assert.equal(typeOf(signedProto), 'InvalidSignatureException')
    },
  )
})
