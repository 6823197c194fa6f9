// The floor macaw is measured against: a bare node:http server that does only what any
// KMS-compatible GenerateMac/VerifyMac server must do per request (read the body, JSON.parse,
// verify SigV4, one HMAC, a JSON answer), with one fixed in-memory key and no store, policy,
// audit or logging. Run: node --import tsx bench/baseline.ts [--port P] [--workers N].
import cluster from 'node:cluster'
import { createHmac, createSecretKey, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import {
  BENCH_ACCOUNT,
  BENCH_REGION,
  BENCH_ROOT,
  KMS_JSON,
  deriveSigningKey,
  sha256Hex,
} from './sign.js'

const MAX_BODY_BYTES = 256 * 1024
const SKEW_MS = 5 * 60_000
const AUTH_PREFIX = 'AWS4-HMAC-SHA256 '
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

const accessKeyId = process.env.MACAW_ROOT_ACCESS_KEY_ID ?? BENCH_ROOT.accessKeyId
const secret = process.env.MACAW_ROOT_SECRET_ACCESS_KEY ?? BENCH_ROOT.secretAccessKey
const arnPrefix = `arn:aws:kms:${process.env.MACAW_REGION ?? BENCH_REGION}:${process.env.MACAW_ACCOUNT_ID ?? BENCH_ACCOUNT}:key/`
// One key for every KeyId: the baseline measures the per-request floor, not key management.
const macKey = createSecretKey(randomBytes(32))

/** A client error answered as KMS would: 400 and {"__type","message"}. */
class ClientError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** SigV4 signing keys by credential scope; like a real verifier, derive once a day, not per request. */
const signingKeys = new Map<string, Buffer>()

function signingKey(day: string, region: string): Buffer {
  const scope = `${day}/${region}`
  let key = signingKeys.get(scope)
  if (key === undefined) {
    key = deriveSigningKey(secret, day, region, 'kms')
    signingKeys.set(scope, key)
  }
  return key
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/** SigV4 canonical header value: trimmed, inner whitespace runs collapsed to one space. */
function canonicalValue(value: string | string[]): string {
  const values = Array.isArray(value) ? value : [value]
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')
}

function parseAuthorization(value: string): Map<string, string> {
  const params = new Map<string, string>()
  for (const part of value.slice(AUTH_PREFIX.length).split(',')) {
    const i = part.indexOf('=')
    if (i > 0) params.set(part.slice(0, i).trim(), part.slice(i + 1).trim())
  }
  return params
}

function checkDate(amzDate: string | undefined, day: string): string {
  const m = amzDate === undefined ? null : AMZ_DATE.exec(amzDate)
  if (amzDate === undefined || m === null)
    throw new ClientError('IncompleteSignatureException', 'X-Amz-Date is missing or malformed.')
  const [, y, mo, d, h, mi, s] = m.map(Number)
  const signedAt = Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0)
  if (Math.abs(Date.now() - signedAt) > SKEW_MS)
    throw new ClientError('InvalidSignatureException', 'Signature expired.')
  if (amzDate.slice(0, 8) !== day)
    throw new ClientError('InvalidSignatureException', 'Credential date does not match X-Amz-Date.')
  return amzDate
}

/** Recomputes the signature over the signed headers and the body we received; throws if it differs. */
function verifySignature(req: IncomingMessage, body: Buffer): void {
  const authorization = req.headers.authorization
  if (authorization?.startsWith(AUTH_PREFIX) !== true) {
    throw new ClientError('MissingAuthenticationTokenException', 'Missing Authentication Token')
  }
  const params = parseAuthorization(authorization)
  const [keyId, day = '', region = '', service, terminator, ...rest] = (
    params.get('Credential') ?? ''
  ).split('/')
  if (rest.length > 0 || service !== 'kms' || terminator !== 'aws4_request') {
    throw new ClientError('IncompleteSignatureException', 'Malformed Credential.')
  }
  if (keyId !== accessKeyId)
    throw new ClientError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
  const amzDate = checkDate(headerText(req.headers, 'x-amz-date'), day)
  const signedHeaders = params.get('SignedHeaders') ?? ''
  const names = signedHeaders.split(';')
  if (!names.includes('host'))
    throw new ClientError('InvalidSignatureException', "'Host' must be a signed header.")
  let canonicalHeaders = ''
  for (const name of names) {
    const value = req.headers[name]
    if (value === undefined)
      throw new ClientError('InvalidSignatureException', `Signed header ${name} is missing.`)
    canonicalHeaders += `${name}:${canonicalValue(value)}\n`
  }
  // Only POST / reaches here, so path and query are already canonical.
  const canonical = `POST\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${sha256Hex(body)}`
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${day}/${region}/kms/aws4_request\n${sha256Hex(canonical)}`
  const expected = createHmac('sha256', signingKey(day, region)).update(stringToSign).digest()
  const given = Buffer.from(params.get('Signature') ?? '', 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ClientError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided.',
    )
  }
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name]
  if (typeof value !== 'string' || value === '')
    throw new ClientError('ValidationException', `${name} is required.`)
  return value
}

function parseBody(body: Buffer): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new ClientError('SerializationException', 'Body is not JSON.')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ClientError('SerializationException', 'Body is not an object.')
  return parsed as Record<string, unknown>
}

/** GenerateMac or VerifyMac with the one key; the answer has the shape KMS gives. */
function runOperation(
  target: string | undefined,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const keyId = stringField(body, 'KeyId')
  if (stringField(body, 'MacAlgorithm') !== 'HMAC_SHA_256')
    throw new ClientError('ValidationException', 'Only HMAC_SHA_256 is supported.')
  const mac = createHmac('sha256', macKey)
    .update(Buffer.from(stringField(body, 'Message'), 'base64'))
    .digest()
  const arn = keyId.startsWith('arn:') ? keyId : arnPrefix + keyId
  if (target === 'TrentService.GenerateMac')
    return { KeyId: arn, Mac: mac.toString('base64'), MacAlgorithm: 'HMAC_SHA_256' }
  if (target === 'TrentService.VerifyMac') {
    const given = Buffer.from(stringField(body, 'Mac'), 'base64')
    if (given.length !== mac.length || !timingSafeEqual(given, mac))
      throw new ClientError('KMSInvalidMacException', '')
    return { KeyId: arn, MacValid: true, MacAlgorithm: 'HMAC_SHA_256' }
  }
  throw new ClientError('UnknownOperationException', '')
}

function reply(res: ServerResponse, status: number, payload: Record<string, unknown>): void {
  const body = Buffer.from(JSON.stringify(payload), 'utf8')
  res.writeHead(status, {
    'x-amzn-requestid': randomUUID(),
    'content-type': KMS_JSON,
    'content-length': body.length,
  })
  res.end(body)
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES)
        reject(new ClientError('SerializationException', 'Body too large.'))
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (req.method !== 'POST' || req.url !== '/')
      throw new ClientError('UnknownOperationException', 'KMS requests are POST /.')
    const raw = await readBody(req)
    const body = parseBody(raw)
    verifySignature(req, raw)
    reply(res, 200, runOperation(headerText(req.headers, 'x-amz-target'), body))
  } catch (err) {
    if (err instanceof ClientError) reply(res, 400, { __type: err.code, message: err.message })
    else reply(res, 500, { __type: 'KMSInternalException', message: 'An internal error occurred.' })
  }
}

/** Listens and resolves with the port; in a cluster worker the primary shares one socket. */
function listen(host: string, port: number): Promise<number> {
  // Same timeouts as macaw's server, so keep-alive behaves the same under load.
  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 30_000, headersTimeout: 20_000 },
    (req, res) => {
      void handle(req, res)
    },
  )
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port))
  })
}

/** Forks the workers and prints the URL once all of them listen (cluster gives all of them one port). */
function startPrimary(host: string, workers: number): void {
  let listening = 0
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers)
      process.stdout.write(`baseline listening on http://${host}:${address.port}\n`)
  })
  cluster.on('exit', (worker, code) => {
    process.stderr.write(`baseline worker ${worker.process.pid ?? '?'} exited with ${code}\n`)
    process.exit(1)
  })
  process.once('SIGTERM', () => {
    cluster.removeAllListeners('exit')
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill()
    process.exit(0)
  })
  for (let i = 0; i < workers; i++) cluster.fork()
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      workers: { type: 'string', default: '1' },
    },
  })
  const workers = Number(values.workers)
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`--workers must be a positive integer, got ${values.workers}`)
  if (workers > 1 && cluster.isPrimary) return startPrimary(values.host, workers)
  const port = await listen(values.host, Number(values.port))
  if (cluster.isPrimary)
    process.stdout.write(`baseline listening on http://${values.host}:${port}\n`)
}

await main()
