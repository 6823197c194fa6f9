// X-Amz-Target tricks, each properly signed, against a key that GenerateMac would succeed on:
// prototype names, case changes, inner whitespace, separators and lists must all be
// UnknownOperationException and never run an operation.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { signedSend } from '../helpers/raw.js'
import { sharedKms, startKms } from '../helpers/server.js'
import { rawExchange, rawRequest } from '../fuzz/wire.js'
import { sign } from './sign.js'

async function macKey(url: string): Promise<string> {
  const res = await signedSend(url, 'TrentService.CreateKey', '{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}')
  return (res.json?.['KeyMetadata'] as { KeyId: string }).KeyId
}

// protocol.test.ts already covers TrentService.constructor, TrentService.__proto__, another
// prefix and an all-lower-case target; these are the others.
const TRICKS = [
  'TrentService.toString',
  'TrentService.hasOwnProperty',
  'TrentService.valueOf',
  'TrentService.isPrototypeOf',
  'TrentService.__defineGetter__',
  'TrentService.__lookupGetter__',
  'TrentService.propertyIsEnumerable',
  'TrentService.prototype',
  'trentservice.GenerateMac',
  'TRENTSERVICE.GenerateMac',
  'TrentService.generateMac',
  'TrentService.GENERATEMAC',
  'TrentService. GenerateMac',
  'TrentService .GenerateMac',
  'TrentService.Generate Mac',
  'TrentService..GenerateMac',
  'TrentService.GenerateMac.',
  'TrentService.GenerateMac,TrentService.GenerateMac',
  'TrentService.GenerateMac;',
  'TrentService/GenerateMac',
  'TrentService_GenerateMac',
  'TrentService.GenerateMac%20',
  'TrentService.\u00c7enerateMac',
  'TrentService.',
  'TrentService',
]

describe('X-Amz-Target tricks', () => {
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const target of TRICKS) {
    it(`refuses ${JSON.stringify(target)} with UnknownOperationException`, async () => {
      const { server } = await table()
      const keyId = await macKey(server.url)
      const body = JSON.stringify({ KeyId: keyId, Message: 'aGk=', MacAlgorithm: 'HMAC_SHA_256' })
      // Through a raw socket: node:http would refuse the non-ASCII value.
      const headers = await sign(server.url, 'TrentService.GenerateMac', body)
      const lines: [string, string][] = [...Object.entries(headers).map(([k, v]): [string, string] => [k, k === 'x-amz-target' ? target : v]), ['content-length', String(body.length)], ['connection', 'close']]
      const answer = await rawExchange(server.port, rawRequest('POST', '/', lines, Buffer.from(body)))
      assert.equal(answer?.status, 400, answer?.body)
      assert.equal((JSON.parse(answer.body) as { __type: string }).__type, 'UnknownOperationException')
    })
  }

  it('treats a target with whitespace around it as the same target, so it cannot smuggle another operation', async (t) => {
    // RFC 9110 §5.5: whitespace around a field value is not part of it, and node:http strips it
    // before the server sees the header. 'TrentService.GenerateMac ' *is* GenerateMac on the
    // wire (AWS's front end does the same); what matters is that it is signed and checked as such.
    const { server } = await startKms(t)
    const keyId = await macKey(server.url)
    const body = JSON.stringify({ KeyId: keyId, Message: 'aGk=', MacAlgorithm: 'HMAC_SHA_256' })
    for (const target of ['TrentService.GenerateMac ', ' TrentService.GenerateMac', 'TrentService.GenerateMac\t']) {
      const headers = await sign(server.url, 'TrentService.GenerateMac', body)
      const lines: [string, string][] = [...Object.entries(headers).map(([k, v]): [string, string] => [k, k === 'x-amz-target' ? target : v]), ['content-length', String(body.length)], ['connection', 'close']]
      const answer = await rawExchange(server.port, rawRequest('POST', '/', lines, Buffer.from(body)))
      assert.equal(answer?.status, 200, `${JSON.stringify(target)}: ${answer?.body}`)
      assert.ok((JSON.parse(answer.body) as { Mac?: string }).Mac)
      // Signed as ListKeys, sent with whitespace around GenerateMac: the signature still fails.
      const other = await sign(server.url, 'TrentService.ListKeys', body)
      const swapped: [string, string][] = [...Object.entries(other).map(([k, v]): [string, string] => [k, k === 'x-amz-target' ? target : v]), ['content-length', String(body.length)], ['connection', 'close']]
      const refused = await rawExchange(server.port, rawRequest('POST', '/', swapped, Buffer.from(body)))
      assert.equal(refused?.status, 400)
      assert.match(refused.body, /InvalidSignatureException/)
    }
  })

  it('refuses two x-amz-target headers, even both naming the same operation', async (t) => {
    const { server } = await startKms(t)
    const keyId = await macKey(server.url)
    const body = JSON.stringify({ KeyId: keyId, Message: 'aGk=', MacAlgorithm: 'HMAC_SHA_256' })
    const headers = await sign(server.url, 'TrentService.GenerateMac', body)
    const lines: [string, string][] = [...Object.entries(headers), ['x-amz-target', 'TrentService.GenerateMac'], ['content-length', String(body.length)], ['connection', 'close']]
    const answer = await rawExchange(server.port, rawRequest('POST', '/', lines, Buffer.from(body)))
    assert.equal(answer?.status, 400)
    assert.match(answer.body, /UnknownOperationException/)
  })
})
