// SigV4 end to end: the server recomputes every signature; AWS's errors for each failure.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ListKeysCommand } from '@aws-sdk/client-kms'
import { ROOT, startKms } from '../helpers/server.js'
import { rejectsWith } from '../helpers/keys.js'
import { send, signedHeaders, signedSend } from '../helpers/raw.js'

describe('authentication', { concurrency: true }, () => {
  it('refuses a wrong secret with InvalidSignatureException', async (t) => {
    const { client } = await startKms(t)
    const kms = client('us-east-1', { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'wrong-secret-wrong-secret-wrong' })
    await rejectsWith(kms.send(new ListKeysCommand({})), 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.')
  })

  it('refuses an unknown access key with UnrecognizedClientException', async (t) => {
    const { client } = await startKms(t)
    const kms = client('us-east-1', { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: ROOT.secretAccessKey })
    await rejectsWith(kms.send(new ListKeysCommand({})), 'UnrecognizedClientException', 'The security token included in the request is invalid.')
  })

  it('refuses a request without Authorization with MissingAuthenticationTokenException', async (t) => {
    const { server } = await startKms(t)
    const res = await send(server.url, { headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' }, body: '{}' })
    assert.equal(res.status, 400)
    assert.equal(res.json?.['__type'], 'MissingAuthenticationTokenException')
  })

  it('refuses a body changed after signing', async (t) => {
    const { server } = await startKms(t)
    const headers = await signedHeaders(server.url, 'TrentService.ListKeys', '{"Limit":1}')
    assert.equal((await send(server.url, { headers, body: '{"Limit":1}' })).status, 200)
    const res = await send(server.url, { headers, body: '{"Limit":2}' })
    assert.equal(res.status, 400)
    assert.equal(res.json?.['__type'], 'InvalidSignatureException')
  })

  it('refuses a signed header changed after signing, and ignores unsigned ones', async (t) => {
    const { server } = await startKms(t)
    const headers = await signedHeaders(server.url, 'TrentService.ListKeys', '{}')
    assert.equal((await send(server.url, { headers: { ...headers, 'x-unsigned-extra': 'anything' }, body: '{}' })).status, 200)
    const res = await send(server.url, { headers: { ...headers, 'x-amz-target': 'TrentService.ListAliases' }, body: '{}' })
    assert.equal(res.json?.['__type'], 'InvalidSignatureException')
  })

  it('uses the region of the credential scope', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.CreateKey', '{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}', { region: 'ap-south-1' })
    assert.match(String((res.json?.['KeyMetadata'] as { Arn: string }).Arn), /^arn:aws:kms:ap-south-1:/)
  })

  it("refuses a Region that does not exist with AWS's text, unless the operator names it", async (t) => {
    const { client } = await startKms(t)
    // AWS's text (test/fixtures/aws-texts.json), trailing space included.
    await rejectsWith(client('mars-1').send(new ListKeysCommand({})), 'InvalidSignatureException', "Credential should be scoped to a valid region, not 'mars-1'. ")
    await client('ap-southeast-7').send(new ListKeysCommand({}))
    const own = await startKms(t, { settings: { regions: 'mars-1, on-prem-2' } })
    assert.deepEqual((await own.client('mars-1').send(new ListKeysCommand({}))).Keys, [])
    await own.client('on-prem-2').send(new ListKeysCommand({}))
  })

  it('refuses a body that does not match its x-amz-content-sha256 header', async (t) => {
    const { server } = await startKms(t)
    const res = await signedSend(server.url, 'TrentService.ListKeys', '{}', { headers: { 'x-amz-content-sha256': '0'.repeat(64) } })
    assert.equal(res.status, 400)
    assert.equal(res.json?.['__type'], 'InvalidSignatureException')
  })
})
