// Raw HTTP requests to a server, signed with @smithy/signature-v4 (a test oracle) or not at all,
// for what an SDK will not send: malformed bodies, odd headers, wrong methods.
import { createHash, createHmac } from 'node:crypto'
import { request } from 'node:http'
import { SignatureV4 } from '@smithy/signature-v4'
import { ROOT } from './server.js'

/** node:crypto in the shape @smithy/signature-v4 expects of a hash constructor. */
export class Sha256 {
  private readonly hash
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret as string)
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array))
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest())
  }
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json: Record<string, unknown> | undefined
}

export function send(
  url: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: options.method ?? 'POST', path: options.path ?? '/', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8')
          let json: Record<string, unknown> | undefined
          try {
            json = JSON.parse(body) as Record<string, unknown>
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface SignOptions {
  region?: string
  credentials?: { accessKeyId: string; secretAccessKey: string }
  headers?: Record<string, string>
  contentType?: string
}

/** Signs and sends a KMS request the way the SDK would, but with any body and target. */
export async function signedSend(url: string, target: string, body: string | Buffer, opts: SignOptions = {}): Promise<RawResponse> {
  return send(url, { headers: await signedHeaders(url, target, body, opts), body })
}

/** The headers the SDK would send for this request, signed with SigV4. */
export async function signedHeaders(url: string, target: string, body: string | Buffer, opts: SignOptions = {}): Promise<Record<string, string>> {
  const u = new URL(url)
  const signer = new SignatureV4({ service: 'kms', region: opts.region ?? 'us-east-1', credentials: opts.credentials ?? ROOT, sha256: Sha256 })
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: '/',
    headers: {
      host: u.host,
      'content-type': opts.contentType ?? 'application/x-amz-json-1.1',
      'x-amz-target': target,
      ...opts.headers,
    },
    body,
  })
  return signed.headers
}
