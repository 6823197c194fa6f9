// The wire envelope: bad input gets a KMS-style 4xx error and changes nothing; success responses
// carry a request id and a Date; health endpoints answer.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ListKeysCommand } from '@aws-sdk/client-kms'
import { sharedKms, startKms } from '../helpers/server.js'
import { send, signedSend } from '../helpers/raw.js'

describe('protocol', () => {
  it('answers success with 200, x-amzn-RequestId, Date and the JSON content type', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.ListKeys', '{}')
    assert.equal(res.status, 200)
    assert.match(String(res.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/)
    assert.ok(res.headers['date'])
    assert.equal(res.headers['content-type'], 'application/x-amz-json-1.1')
    assert.deepEqual(res.json, { Keys: [], Truncated: false })
  })

  it('answers errors as {__type, message} with a request id', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.DescribeKey', '{"KeyId":"nope"}')
    assert.equal(res.status, 400)
    assert.deepEqual(res.json, { __type: 'NotFoundException', message: "Invalid keyId 'nope'" })
    assert.ok(res.headers['x-amzn-requestid'])
  })

  it('sends KMSInvalidMacException without a message member', async (t) => {
    const { server } = await startKms(t)
    const created = await signedSend(server.url, 'TrentService.CreateKey', '{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}')
    const keyId = (created.json?.['KeyMetadata'] as { KeyId: string }).KeyId
    const res = await signedSend(server.url, 'TrentService.VerifyMac', JSON.stringify({ KeyId: keyId, Message: 'aGk=', MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32).toString('base64') }))
    assert.equal(res.status, 400)
    assert.equal(res.body, '{"__type":"KMSInvalidMacException"}')
  })

  const bad: { when: string; target?: string; body: string | Buffer; type: string; contentType?: string }[] = [
    { when: 'the body is not JSON', body: '{"KeyId":', type: 'SerializationException' },
    { when: 'the body is a JSON array', body: '[]', type: 'SerializationException' },
    { when: 'the body is not UTF-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), type: 'SerializationException' },
    { when: 'KeyId is a number', body: '{"KeyId":5}', type: 'SerializationException' },
    { when: 'Limit is a string', target: 'TrentService.ListKeys', body: '{"Limit":"5"}', type: 'SerializationException' },
    { when: 'Limit is a fraction', target: 'TrentService.ListKeys', body: '{"Limit":1.5}', type: 'SerializationException' },
    { when: 'Limit is negative', target: 'TrentService.ListKeys', body: '{"Limit":-1}', type: 'ValidationException' },
    { when: 'Limit is huge', target: 'TrentService.ListKeys', body: '{"Limit":1e300}', type: 'SerializationException' },
    { when: 'Message is not base64', target: 'TrentService.GenerateMac', body: '{"KeyId":"alias/x","Message":"not base64!","MacAlgorithm":"HMAC_SHA_256"}', type: 'SerializationException' },
    { when: 'Message base64 lacks padding', target: 'TrentService.GenerateMac', body: '{"KeyId":"alias/x","Message":"aGk","MacAlgorithm":"HMAC_SHA_256"}', type: 'SerializationException' },
    { when: 'DryRun is a string', target: 'TrentService.GenerateMac', body: '{"KeyId":"alias/x","Message":"aGk=","MacAlgorithm":"HMAC_SHA_256","DryRun":"yes"}', type: 'SerializationException' },
    { when: 'GrantTokens holds a number', target: 'TrentService.GenerateMac', body: '{"KeyId":"alias/x","Message":"aGk=","MacAlgorithm":"HMAC_SHA_256","GrantTokens":[1]}', type: 'SerializationException' },
    { when: 'required members are missing', target: 'TrentService.GenerateMac', body: '{}', type: 'ValidationException' },
    { when: 'the operation is unknown', target: 'TrentService.Nope', body: '{}', type: 'UnknownOperationException' },
    { when: 'the target names a prototype member', target: 'TrentService.constructor', body: '{}', type: 'UnknownOperationException' },
    { when: 'the target names __proto__', target: 'TrentService.__proto__', body: '{}', type: 'UnknownOperationException' },
    { when: 'the target has another prefix', target: 'Other.DescribeKey', body: '{}', type: 'UnknownOperationException' },
    { when: 'the target is lower case', target: 'trentservice.describekey', body: '{}', type: 'UnknownOperationException' },
    { when: 'the content type is wrong', body: '{}', type: 'UnknownOperationException', contentType: 'application/json' },
  ]
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const c of bad) {
    it(`answers 400 ${c.type} when ${c.when}`, async () => {
      const { server, kms } = await table()
      const res = await signedSend(server.url, c.target ?? 'TrentService.DescribeKey', c.body, c.contentType ? { contentType: c.contentType } : {})
      assert.equal(res.status, 400, res.body)
      assert.equal(res.json?.['__type'], c.type)
      assert.equal(typeof res.json?.['message'], 'string')
      assert.deepEqual((await kms.send(new ListKeysCommand({}))).Keys, [])
    })
  }

  it('lists every violation in one ValidationException', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.GenerateMac', '{}')
    assert.equal(res.json?.['message'], "3 validation errors detected: Value null at 'message' failed to satisfy constraint: Member must not be null; Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value null at 'macAlgorithm' failed to satisfy constraint: Member must not be null")
  })

  it('treats null members as absent and ignores unknown members', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.ListKeys', '{"Limit":null,"Unknown":{"x":[1,2]}}')
    assert.equal(res.status, 200)
  })

  it('refuses an oversized body with 400 and stores nothing', async (t) => {
    const { server, kms } = await startKms(t)
    const big = JSON.stringify({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'x'.repeat(300_000) })
    const res = await send(server.url, { headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.CreateKey' }, body: big })
    assert.equal(res.status, 400)
    assert.equal(res.json?.['__type'], 'SerializationException')
    assert.deepEqual((await kms.send(new ListKeysCommand({}))).Keys, [])
  })

  it('answers GET / and other paths with a KMS error, and serves /healthz and /readyz', async (t) => {
    const { server } = await startKms(t)
    const get = await send(server.url, { method: 'GET' })
    assert.equal(get.status, 400)
    assert.equal(get.json?.['__type'], 'UnknownOperationException')
    const other = await send(server.url, { path: '/other', headers: { 'content-type': 'application/x-amz-json-1.1' }, body: '{}' })
    assert.equal(other.status, 400)
    assert.equal((await send(server.url, { method: 'GET', path: '/healthz' })).status, 200)
    assert.equal((await send(server.url, { method: 'GET', path: '/readyz' })).status, 200)
  })
})
