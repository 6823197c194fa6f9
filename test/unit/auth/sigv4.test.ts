import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { SignatureV4 } from '@smithy/signature-v4'
import { SigV4Verifier, type SignedRequest } from '../../../src/auth/sigv4.js'
import { Sha256 } from '../../helpers/raw.js'
import { repoPath } from '../../helpers/repo.js'

interface Suite {
  accessKeyId: string
  secretAccessKey: string
  service: string
  region: string
  amzDate: string
  cases: { name: string; method: string; url: string; headers: Record<string, string>; body: string; signedHeaders: string; signature: string }[]
}
const suite = JSON.parse(readFileSync(repoPath('test', 'vectors', 'sigv4', 'aws-test-suite.json'), 'utf8')) as Suite
const SUITE_NOW = Date.UTC(2015, 7, 30, 12, 36, 0)
const secret = { secretAccessKey: suite.secretAccessKey }

function suiteRequest(c: Suite['cases'][number], signature = c.signature): SignedRequest {
  return {
    method: c.method,
    url: c.url,
    body: Buffer.from(c.body),
    headers: {
      ...c.headers,
      'x-amz-date': suite.amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${suite.accessKeyId}/20150830/${suite.region}/${suite.service}/aws4_request, SignedHeaders=${c.signedHeaders}, Signature=${signature}`,
    },
  }
}


const KMS_NOW = Date.UTC(2025, 0, 1, 12, 0, 0)
const CREDS = { accessKeyId: 'AKIAMACAWUNITTEST001', secretAccessKey: 'unit-test-secret-unit-test-secret' }

/** A KMS request signed by @smithy/signature-v4 (the SDK's own signer) at KMS_NOW. */
async function kmsRequest(opts: { body?: string; region?: string; service?: string; date?: number; headers?: Record<string, string>; secretAccessKey?: string } = {}): Promise<SignedRequest & { headers: Record<string, string> }> {
  const body = opts.body ?? '{}'
  const signer = new SignatureV4({
    service: opts.service ?? 'kms',
    region: opts.region ?? 'us-east-1',
    credentials: { ...CREDS, ...(opts.secretAccessKey ? { secretAccessKey: opts.secretAccessKey } : {}) },
    sha256: Sha256,
  })
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8420,
      path: '/',
      headers: { host: '127.0.0.1:8420', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys', ...opts.headers },
      body,
    },
    { signingDate: new Date(opts.date ?? KMS_NOW) },
  )
  return { method: 'POST', url: '/', headers: signed.headers, body: Buffer.from(body) }
}

const kmsVerifier = (now = KMS_NOW) => new SigV4Verifier({ service: 'kms', now: () => now })
const lookup = (id: string) => (id === CREDS.accessKeyId ? { secretAccessKey: CREDS.secretAccessKey } : undefined)

async function rejects(p: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.equal(err.name, name)
    if (typeof message === 'string') assert.equal(err.message, message)
    else if (message) assert.match(err.message, message)
    return true
  })
}

const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

describe('auth/sigv4: AWS test-suite vectors', () => {
  const verifier = new SigV4Verifier({ service: suite.service, now: () => SUITE_NOW })
  for (const c of suite.cases) {
    it(`accepts ${c.name}`, async () => {
      const out = await verifier.verify(suiteRequest(c), () => secret)
      assert.equal(out.accessKeyId, suite.accessKeyId)
      assert.equal(out.region, 'us-east-1')
    })
    it(`rejects ${c.name} with one signature digit changed`, async () => {
      const sig = c.signature.slice(0, -1) + (c.signature.endsWith('0') ? '1' : '0')
      await rejects(verifier.verify(suiteRequest(c, sig), () => secret), 'InvalidSignatureException', MISMATCH)
    })
  }
})

describe('auth/sigv4: KMS requests', () => {
  it('accepts what the SDK signer produces, and returns the scope region', async () => {
    const out = await kmsVerifier().verify(await kmsRequest({ region: 'eu-west-3' }), lookup)
    assert.equal(out.region, 'eu-west-3')
    assert.equal(out.principal.secretAccessKey, CREDS.secretAccessKey)
  })

  it('ignores unsigned headers added later', async () => {
    const req = await kmsRequest()
    await kmsVerifier().verify({ ...req, headers: { ...req.headers, 'x-injected': 'yes', 'user-agent': 'other' } }, lookup)
  })

  const failures: { when: string; make: () => Promise<SignedRequest>; now?: number; error: string; message?: string | RegExp }[] = [
    { when: 'the body was tampered with', make: async () => ({ ...(await kmsRequest({ body: '{"Limit":1}' })), body: Buffer.from('{"Limit":2}') }), error: 'InvalidSignatureException', message: MISMATCH },
    { when: 'x-amz-content-sha256 lies about the body', make: async () => kmsRequest({ headers: { 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') } }), error: 'InvalidSignatureException' },
    { when: 'the secret is wrong', make: () => kmsRequest({ secretAccessKey: 'wrong-secret-wrong-secret-wrong!' }), error: 'InvalidSignatureException', message: MISMATCH },
    { when: 'a signed header was changed', make: async () => { const r = await kmsRequest(); return { ...r, headers: { ...r.headers, 'x-amz-target': 'TrentService.CreateKey' } } }, error: 'InvalidSignatureException', message: MISMATCH },
    { when: 'a signed header is missing', make: async () => { const r = await kmsRequest(); const { 'x-amz-target': _t, ...rest } = r.headers; return { ...r, headers: rest } }, error: 'InvalidSignatureException' },
    { when: 'the query string was tampered with', make: async () => ({ ...(await kmsRequest()), url: '/?a=b' }), error: 'InvalidSignatureException', message: MISMATCH },
    { when: 'the scope names another service', make: () => kmsRequest({ service: 's3' }), error: 'InvalidSignatureException', message: "Credential should be scoped to correct service: 'kms'. " },
    { when: 'the scope names no valid region', make: () => kmsRequest({ region: 'moon' }), error: 'InvalidSignatureException', message: 'Credential should be scoped to a valid region. ' },
    { when: 'the date is 10 minutes old', make: () => kmsRequest({ date: KMS_NOW - 10 * 60_000 }), error: 'InvalidSignatureException', message: 'Signature expired: 20250101T115000Z is now earlier than 20250101T115500Z (20250101T120000Z - 5 min.)' },
    { when: 'the date is 10 minutes ahead', make: () => kmsRequest({ date: KMS_NOW + 10 * 60_000 }), error: 'InvalidSignatureException', message: 'Signature not yet current: 20250101T121000Z is still later than 20250101T120500Z (20250101T120000Z + 5 min.)' },
    { when: 'the access key is unknown', make: async () => { const r = await kmsRequest(); return { ...r, headers: { ...r.headers, authorization: r.headers['authorization']?.replace(CREDS.accessKeyId, 'AKIAUNKNOWN000000000') ?? '' } } }, error: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
    { when: 'there is no Authorization header', make: async () => { const r = await kmsRequest(); const { authorization: _a, ...rest } = r.headers; return { ...r, headers: rest } }, error: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' },
    { when: 'Signature= is missing', make: async () => { const r = await kmsRequest(); return { ...r, headers: { ...r.headers, authorization: r.headers['authorization']?.replace(/, Signature=[0-9a-f]+/, '') ?? '' } } }, error: 'IncompleteSignatureException', message: /Authorization header requires 'Signature' parameter\./ },
    { when: 'there is no date', make: async () => { const r = await kmsRequest(); const { 'x-amz-date': _d, ...rest } = r.headers; return { ...r, headers: rest } }, error: 'IncompleteSignatureException', message: /'X-Amz-Date' or a 'Date' header/ },
    { when: 'host is not signed', make: async () => { const r = await kmsRequest(); return { ...r, headers: { ...r.headers, authorization: r.headers['authorization']?.replace('SignedHeaders=content-type;host;', 'SignedHeaders=content-type;') ?? '' } } }, error: 'InvalidSignatureException', message: /'Host'/ },
    { when: 'the signature is not 64 hex digits', make: async () => { const r = await kmsRequest(); return { ...r, headers: { ...r.headers, authorization: r.headers['authorization']?.replace(/Signature=[0-9a-f]+/, 'Signature=abc') ?? '' } } }, error: 'InvalidSignatureException' },
    // Node would decode each of these to the right bytes (or their prefix): the syntax check must refuse them first.
    ...[
      { when: 'the right signature is in upper case', edit: (sig: string) => sig.toUpperCase() },
      { when: 'the right signature has a 65th digit', edit: (sig: string) => `${sig}0` },
      { when: 'the right signature lacks its last digit', edit: (sig: string) => sig.slice(0, -1) },
      ...['/', ':', '`', 'g', 'G', ' '].map((c) => ({ when: `the right signature ends in '${c}' instead`, edit: (sig: string) => sig.slice(0, -1) + c })),
    ].map(({ when, edit }) => ({
      when,
      make: async () => {
        const r = await kmsRequest()
        return { ...r, headers: { ...r.headers, authorization: r.headers['authorization']?.replace(/Signature=([0-9a-f]+)/, (_m, sig: string) => `Signature=${edit(sig)}`) ?? '' } }
      },
      error: 'InvalidSignatureException',
      message: MISMATCH,
    })),
    { when: 'another algorithm is named', make: async () => { const r = await kmsRequest(); return { ...r, headers: { ...r.headers, authorization: r.headers['authorization']?.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1') ?? '' } } }, error: 'IncompleteSignatureException' },
  ]
  for (const c of failures) {
    it(`refuses with ${c.error} when ${c.when}`, async () => {
      await rejects(kmsVerifier(c.now).verify(await c.make(), lookup), c.error, c.message)
    })
  }

  it('judges each request by its own date, whatever the request before it carried', async () => {
    // The verifier keeps the last X-Amz-Date it parsed; a request with another (or none) is parsed afresh.
    const verifier = kmsVerifier()
    const withDate = async (date: string): Promise<SignedRequest> => {
      const r = await kmsRequest()
      return { ...r, headers: { ...r.headers, 'x-amz-date': date } }
    }
    await verifier.verify(await kmsRequest(), lookup)
    await verifier.verify(await kmsRequest(), lookup)
    await rejects(verifier.verify(await withDate(''), lookup), 'IncompleteSignatureException', /Date must be in ISO-8601 'basic format'\. Got ''\./)
    await rejects(verifier.verify(await withDate('20250101T1200Z'), lookup), 'IncompleteSignatureException', /Date must be in ISO-8601 'basic format'\. Got '20250101T1200Z'/)
    await rejects(verifier.verify(await kmsRequest({ date: KMS_NOW - 10 * 60_000 }), lookup), 'InvalidSignatureException', /^Signature expired: 20250101T115000Z/)
    await verifier.verify(await kmsRequest(), lookup)
    await rejects(verifier.verify(await withDate('20250101T120001Z'), lookup), 'InvalidSignatureException', MISMATCH)
  })

  it('refuses two copies of a header node keeps only once, whatever their case, and allows others twice', async () => {
    const req = await kmsRequest()
    const raw = Object.entries(req.headers).flat()
    for (const [name, value] of [['Host', req.headers['host']], ['X-AMZ-DATE', req.headers['x-amz-date']], ['Authorization', req.headers['authorization']], ['x-amz-content-sha256', 'x']] as const) {
      await rejects(kmsVerifier().verify({ ...req, rawHeaders: [...raw, name, value ?? ''] }, lookup), 'InvalidSignatureException', `The request has more than one '${name.toLowerCase()}' header.`)
    }
    // Same lengths as some of those, but node keeps every copy of these (or they are not signed).
    await kmsVerifier().verify({ ...req, rawHeaders: [...raw, 'User-Agent', 'a', 'user-agent', 'b', 'X-Amz-Dats', 'c', 'x-amz-dats', 'd'] }, lookup)
  })

  it('verifies callers and scopes in turn with the signing key of each', async () => {
    const verifier = kmsVerifier()
    const other = { accessKeyId: 'AKIAMACAWUNITTEST002', secretAccessKey: 'another-unit-test-secret-0000000000' }
    const both = (id: string) => (id === other.accessKeyId ? { secretAccessKey: other.secretAccessKey } : lookup(id))
    const signedBy = async (creds: typeof other, region: string) => {
      const signer = new SignatureV4({ service: 'kms', region, credentials: creds, sha256: Sha256 })
      const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 8420, path: '/', headers: { host: '127.0.0.1:8420', 'x-amz-target': 'TrentService.ListKeys' }, body: '{}' }, { signingDate: new Date(KMS_NOW) })
      return { method: 'POST', url: '/', headers: signed.headers, body: Buffer.from('{}') }
    }
    for (const [creds, region] of [[CREDS, 'us-east-1'], [other, 'us-east-1'], [CREDS, 'eu-west-1'], [CREDS, 'eu-west-1'], [other, 'eu-west-1'], [CREDS, 'us-east-1']] as const) {
      assert.equal((await verifier.verify(await signedBy(creds, region), both)).accessKeyId, creds.accessKeyId)
    }
    // A signature made with the other caller's secret under this caller's id fails right after
    // a good request of the other caller's in the same scope.
    const forged = await signedBy({ accessKeyId: CREDS.accessKeyId, secretAccessKey: other.secretAccessKey }, 'eu-west-1')
    await verifier.verify(await signedBy(other, 'eu-west-1'), both)
    await rejects(verifier.verify(forged, both), 'InvalidSignatureException', MISMATCH)
  })

  it('does not reuse a cached signing key after the secret changes', async () => {
    const verifier = kmsVerifier()
    let current = CREDS.secretAccessKey
    const changing = () => ({ secretAccessKey: current })
    await verifier.verify(await kmsRequest(), changing)
    current = 'a-brand-new-secret-a-brand-new-secret'
    await rejects(verifier.verify(await kmsRequest(), changing), 'InvalidSignatureException', MISMATCH)
    await verifier.verify(await kmsRequest({ secretAccessKey: current }), changing)
  })
})
