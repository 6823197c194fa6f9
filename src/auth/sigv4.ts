// AWS Signature Version 4 verification of KMS requests (header form). The server recomputes the
// canonical request over the client's SignedHeaders and the SHA-256 of the raw body it received
// (never the x-amz-content-sha256 header's word for it), derives the signing key (cached per
// access key, secret, date, region and service) and compares signatures in constant time.
// Order of checks: header syntax (IncompleteSignature) -> date and skew -> scope service and
// region -> credential lookup (UnrecognizedClient) -> signature (InvalidSignature).
import { createHmac, hash, timingSafeEqual } from 'node:crypto'
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from '../protocol/errors.js'

export interface SignedRequest {
  readonly method: string
  /** Raw request target, e.g. `/` or `/?a=b`. */
  readonly url: string
  /** node's IncomingHttpHeaders: lower-case names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** node's rawHeaders (name, value, name, value, ...), to see headers node keeps only once. */
  readonly rawHeaders?: readonly string[] | undefined
  readonly body: Buffer
}

/** Headers node keeps only the first of; a second copy makes the request ambiguous. */
const SINGLE_HEADERS = ['authorization', 'host', 'x-amz-date', 'x-amz-content-sha256'] as const

/**
 * The first header of SINGLE_HEADERS that the request has twice. Names are compared by length
 * first: most headers are none of these, and looking each name up in a Set hashed a new string per
 * header and request (a few hundred instructions each).
 */
function repeatedHeader(rawHeaders: readonly string[]): string | undefined {
  let seen = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? ''
    if (name.length !== 4 && name.length !== 10 && name.length !== 13 && name.length !== 20) continue
    const index = SINGLE_HEADERS.indexOf(name.toLowerCase() as (typeof SINGLE_HEADERS)[number])
    if (index < 0) continue
    if ((seen & (1 << index)) !== 0) return SINGLE_HEADERS[index]
    seen |= 1 << index
  }
  return undefined
}

export interface Secret {
  readonly secretAccessKey: string
}

export interface VerifiedRequest<P> {
  readonly accessKeyId: string
  /** The X-Amz-Security-Token the request was signed with (temporary credentials). */
  readonly sessionToken: string | undefined
  readonly region: string
  readonly principal: P
  readonly signedAt: Date
}

export interface SigV4Options {
  readonly service: string
  /** Accepted distance between X-Amz-Date and the server clock; default 5 minutes. */
  readonly clockSkewMs?: number
  readonly now?: () => number
  /** The Region names a credential scope may name (default: any well-formed one). */
  readonly regions?: ReadonlySet<string>
}

const ALGORITHM = 'AWS4-HMAC-SHA256'
const AMZ_DATE = /^(\d{8})T(\d{6})Z$/
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/
const ACCESS_KEY_ID = /^\w{1,128}$/
const CACHE_LIMIT = 10_000

const INVALID_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

/**
 * The signature's 32 bytes, if it is 64 lower-case hex digits (else undefined). Node's hex decoding
 * stops at the first pair that is not hex and takes upper case too, so the round trip is what
 * proves the syntax; the bytes are needed anyway. In the server under callgrind the RegExp this
 * replaces cost about 5,000 instructions a request (V8 grew its backtracking stack on every call),
 * and a loop over the characters about 3,000; alone, each form takes about 0.3 µs with the decode.
 */
function signatureBytes(signature: string): Buffer | undefined {
  if (signature.length !== 64) return undefined
  const bytes = Buffer.from(signature, 'hex')
  return bytes.length === 32 && bytes.toString('hex') === signature ? bytes : undefined
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

/** `20240101T120000Z` <-> epoch ms. */
function parseAmzDate(text: string): number | undefined {
  const m = AMZ_DATE.exec(text)
  if (!m) return undefined
  const [d = '', t = ''] = [m[1], m[2]]
  const ms = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +t.slice(0, 2), +t.slice(2, 4), +t.slice(4, 6))
  return Number.isNaN(ms) ? undefined : ms
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

/** SigV4 URI encoding: everything but unreserved characters, upper-case hex. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/'
  return path
    .split('/')
    .map((segment) => uriEncode(safeDecode(segment)))
    .join('/')
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

function canonicalQuery(query: string): string {
  if (query === '') return ''
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=')
      const k = i === -1 ? p : p.slice(0, i)
      const v = i === -1 ? '' : p.slice(i + 1)
      return [uriEncode(safeDecode(k.replace(/\+/g, ' '))), uriEncode(safeDecode(v.replace(/\+/g, ' ')))] as const
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

function canonicalHeaderValue(value: string | string[]): string {
  const values = Array.isArray(value) ? value : [value]
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')
}

interface ParsedAuthorization {
  readonly accessKeyId: string
  readonly date: string
  readonly region: string
  readonly service: string
  readonly terminator: string
  readonly scope: string
  readonly signedHeaders: string
  readonly signature: string
}

function parseAuthorization(value: string): ParsedAuthorization {
  if (!value.startsWith(`${ALGORITHM} `)) {
    const alg = value.split(' ', 1)[0] ?? ''
    throw new IncompleteSignatureException(`Unsupported AWS 'algorithm': '${alg}'. Use ${ALGORITHM}.`)
  }
  const params = new Map<string, string>()
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const i = part.indexOf('=')
    if (i > 0) params.set(part.slice(0, i).trim(), part.slice(i + 1).trim())
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((p) => !params.get(p))
  if (missing.length > 0) {
    throw new IncompleteSignatureException(
      `${missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ')} Authorization=${ALGORITHM} ...`,
    )
  }
  const credential = params.get('Credential') ?? ''
  const parts = credential.split('/')
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw new IncompleteSignatureException(
      `Authorization header requires a Credential of the form <access key>/<date>/<region>/<service>/aws4_request, got '${credential}'.`,
    )
  }
  const [accessKeyId = '', date = '', region = '', service = '', terminator = ''] = parts
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    scope: `${date}/${region}/${service}/${terminator}`,
    signedHeaders: params.get('SignedHeaders') ?? '',
    signature: params.get('Signature') ?? '',
  }
}

export class SigV4Verifier {
  private readonly service: string
  private readonly skewMs: number
  private readonly now: () => number
  /** (access key, secret, date, region, service) -> signing key; changes once a day. */
  private readonly signingKeys = new Map<string, Buffer>()

  private readonly regions: ReadonlySet<string> | undefined
  /**
   * The last X-Amz-Date parsed, and its time: clients sign with the current second, so most
   * requests repeat the one before (parsing it cost about 4,000 instructions; callgrind).
   */
  private lastAmzDate: string | undefined
  private lastSignedAt = 0
  /** The signing key the last verified request used, with what it was derived for. */
  private lastSigning: { readonly accessKeyId: string; readonly secret: string; readonly scope: string; readonly key: Buffer } | undefined

  constructor(options: SigV4Options) {
    this.service = options.service
    this.skewMs = options.clockSkewMs ?? 5 * 60_000
    this.now = options.now ?? Date.now
    this.regions = options.regions
  }

  async verify<P extends Secret>(
    req: SignedRequest,
    lookup: (accessKeyId: string, sessionToken: string | undefined) => Promise<P | undefined> | P | undefined,
  ): Promise<VerifiedRequest<P>> {
    const authorization = header(req.headers, 'authorization')
    if (authorization === undefined || authorization === '') {
      throw new MissingAuthenticationTokenException('Missing Authentication Token')
    }
    // Two copies: a proxy and we might disagree about who signed the request.
    const repeated = req.rawHeaders === undefined ? undefined : repeatedHeader(req.rawHeaders)
    if (repeated !== undefined) throw new InvalidSignatureException(`The request has more than one '${repeated}' header.`)
    const auth = parseAuthorization(authorization)
    const amzDate = header(req.headers, 'x-amz-date') ?? dateHeaderAsAmz(header(req.headers, 'date'))
    if (amzDate === undefined) {
      throw new IncompleteSignatureException(
        `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${ALGORITHM} Credential=${auth.accessKeyId}/${auth.scope}`,
      )
    }
    const signedAt = amzDate === this.lastAmzDate ? this.lastSignedAt : parseAmzDate(amzDate)
    if (signedAt === undefined) {
      throw new IncompleteSignatureException(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`)
    }
    this.lastAmzDate = amzDate
    this.lastSignedAt = signedAt
    const now = this.now()
    if (signedAt < now - this.skewMs) {
      const minutes = `${Math.round(this.skewMs / 60_000)} min.`
      throw new InvalidSignatureException(
        `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - this.skewMs)} (${formatAmzDate(now)} - ${minutes})`,
      )
    }
    if (signedAt > now + this.skewMs) {
      const minutes = `${Math.round(this.skewMs / 60_000)} min.`
      throw new InvalidSignatureException(
        `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + this.skewMs)} (${formatAmzDate(now)} + ${minutes})`,
      )
    }
    if (auth.date !== amzDate.slice(0, 8)) {
      throw new InvalidSignatureException(`Credential should be scoped to a valid date: '${auth.date}' does not match the request date ${amzDate.slice(0, 8)}.`)
    }
    if (auth.service !== this.service) {
      throw new InvalidSignatureException(`Credential should be scoped to correct service: '${this.service}'. `)
    }
    if (this.regions !== undefined) {
      // A Region that does not exist would open a key namespace of its own (AWS's words; a long
      // name is not echoed).
      if (!this.regions.has(auth.region)) {
        throw new InvalidSignatureException(auth.region.length <= 64 ? `Credential should be scoped to a valid region, not '${auth.region}'. ` : 'Credential should be scoped to a valid region. ')
      }
    } else if (auth.region.length > 32 || !REGION.test(auth.region)) {
      throw new InvalidSignatureException('Credential should be scoped to a valid region. ')
    }
    if (auth.terminator !== 'aws4_request') {
      throw new InvalidSignatureException("Credential should be scoped with a valid terminator: 'aws4_request'.")
    }
    const signedHeaders = auth.signedHeaders.split(';')
    if (!signedHeaders.includes('host')) {
      throw new InvalidSignatureException("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    }
    // The operation must be signed too, or a captured request could be replayed as another one.
    if (header(req.headers, 'x-amz-target') !== undefined && !signedHeaders.includes('x-amz-target')) {
      throw new InvalidSignatureException("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")
    }
    const given = signatureBytes(auth.signature)
    if (given === undefined) throw new InvalidSignatureException(INVALID_SIGNATURE)

    // An id no access key can have is refused without a lookup (at most 128 word characters).
    const sessionToken = header(req.headers, 'x-amz-security-token')
    const principal = ACCESS_KEY_ID.test(auth.accessKeyId) ? await lookup(auth.accessKeyId, sessionToken) : undefined
    if (principal === undefined) throw new UnrecognizedClientException('The security token included in the request is invalid.')

    // crypto.hash: one call instead of a Hash object, its update and digest (about 1 µs less each).
    const bodyHash = hash('sha256', req.body, 'hex')
    const claimed = header(req.headers, 'x-amz-content-sha256')
    // Never trust the client's word for the body hash: a wrong claim is a signature failure.
    if (claimed !== undefined && claimed !== 'UNSIGNED-PAYLOAD' && claimed !== bodyHash) {
      throw new InvalidSignatureException(INVALID_SIGNATURE)
    }
    const canonical = this.canonicalRequest(req, signedHeaders, bodyHash)
    if (canonical === undefined) throw new InvalidSignatureException(INVALID_SIGNATURE)
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${auth.scope}\n${hash('sha256', canonical, 'hex')}`
    // The last signing key used first: most requests repeat its caller and scope, and building the
    // map's id (the secret among it) and hashing it cost more than comparing the three strings.
    const last = this.lastSigning
    const repeat = last !== undefined && last.secret === principal.secretAccessKey && last.scope === auth.scope && last.accessKeyId === auth.accessKeyId
    const cacheId = repeat ? '' : `${auth.accessKeyId}\0${principal.secretAccessKey}\0${auth.scope}`
    const cached = repeat ? last.key : this.signingKeys.get(cacheId)
    const key = cached ?? signingKey(auth, principal.secretAccessKey)
    const expected = createHmac('sha256', key).update(stringToSign).digest()
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidSignatureException(INVALID_SIGNATURE)
    }
    // Cached only once a signature made with it verified: made-up scopes cost nothing that lasts.
    if (cached === undefined) {
      if (this.signingKeys.size >= CACHE_LIMIT) this.signingKeys.delete(this.signingKeys.keys().next().value as string)
      this.signingKeys.set(cacheId, key)
    }
    if (!repeat) this.lastSigning = { accessKeyId: auth.accessKeyId, secret: principal.secretAccessKey, scope: auth.scope, key }
    return { accessKeyId: auth.accessKeyId, sessionToken, region: auth.region, principal, signedAt: new Date(signedAt) }
  }

  /** The canonical request, or undefined if a signed header is absent. */
  private canonicalRequest(req: SignedRequest, signedHeaders: readonly string[], bodyHash: string): string | undefined {
    const q = req.url.indexOf('?')
    const path = q === -1 ? req.url : req.url.slice(0, q)
    const query = q === -1 ? '' : req.url.slice(q + 1)
    let headers = ''
    for (const name of signedHeaders) {
      // Own properties only: `constructor` or `__proto__` must not reach Object.prototype.
      const value = Object.hasOwn(req.headers, name) ? req.headers[name] : undefined
      if (typeof value !== 'string' && !Array.isArray(value)) return undefined
      headers += `${name}:${canonicalHeaderValue(value)}\n`
    }
    return `${req.method}\n${canonicalPath(path)}\n${canonicalQuery(query)}\n${headers}\n${signedHeaders.join(';')}\n${bodyHash}`
  }

}

/** SigV4: signing key = HMAC chain over date/region/service/terminator. */
function signingKey(auth: ParsedAuthorization, secret: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(auth.date).digest()
  const kRegion = createHmac('sha256', kDate).update(auth.region).digest()
  const kService = createHmac('sha256', kRegion).update(auth.service).digest()
  return createHmac('sha256', kService).update(auth.terminator).digest()
}

/** An RFC 7231 `Date` header as an X-Amz-Date value. */
function dateHeaderAsAmz(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : formatAmzDate(ms)
}
