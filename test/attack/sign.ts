// SigV4 signing for attack tests, with the knobs an attacker (or a careless client) has: the
// signing date, region and service, headers left out of SignedHeaders, and a query string.
import { SignatureV4 } from '@smithy/signature-v4'
import { Sha256 } from '../helpers/raw.js'
import { ROOT } from '../helpers/server.js'

export interface AttackSignOptions {
  readonly region?: string
  readonly service?: string
  readonly credentials?: { accessKeyId: string; secretAccessKey: string }
  readonly date?: Date
  /** Headers sent but kept out of SignedHeaders. */
  readonly unsigned?: readonly string[]
  readonly headers?: Readonly<Record<string, string>>
  readonly query?: Readonly<Record<string, string>>
}

export async function sign(url: string, target: string, body: string, opts: AttackSignOptions = {}): Promise<Record<string, string>> {
  const u = new URL(url)
  const signer = new SignatureV4({ service: opts.service ?? 'kms', region: opts.region ?? 'us-east-1', credentials: opts.credentials ?? ROOT, sha256: Sha256 })
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: '/',
      ...(opts.query ? { query: { ...opts.query } } : {}),
      headers: { host: u.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, ...opts.headers },
      body,
    },
    {
      ...(opts.date ? { signingDate: opts.date } : {}),
      ...(opts.unsigned ? { unsignableHeaders: new Set(opts.unsigned) } : {}),
    },
  )
  return signed.headers
}
