// SigV4 signing for the benchmark: the bench credentials, the signing-key chain, and pre-signed
// KMS requests (fixed X-Amz-Date, so one signature serves a whole round of load).
import { createHash, createHmac } from 'node:crypto'

export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** Temporary credentials: sent, and signed, as X-Amz-Security-Token (as the SDKs do). */
  readonly sessionToken?: string
}

/** Root credentials both servers are started with; bench-only, never used outside a temp dir. */
export const BENCH_ROOT: Credentials = {
  accessKeyId: 'AKIAMACAWBENCHROOT01',
  secretAccessKey: 'macaw-bench-root-secret-0123456789abcdef',
}
export const BENCH_ACCOUNT = '111122223333'
export const BENCH_REGION = 'us-east-1'
export const KMS_JSON = 'application/x-amz-json-1.1'

const ALGORITHM = 'AWS4-HMAC-SHA256'
/** Headers we sign, sorted as SigV4 requires; the same set the AWS SDK signs for KMS at minimum. */
const SIGNED_HEADERS = 'content-type;host;x-amz-date;x-amz-target'
const SIGNED_WITH_TOKEN = 'content-type;host;x-amz-date;x-amz-security-token;x-amz-target'

/** A signed STS Query request (form body) for the service `sts`, e.g. AssumeRole during set-up. */
export function signStsQuery(host: string, credentials: Credentials, form: Record<string, string>): PresignedRequest {
  const body = new URLSearchParams(form).toString()
  const date = amzDate(Date.now())
  const day = date.slice(0, 8)
  const scope = `${day}/${BENCH_REGION}/sts/aws4_request`
  const type = 'application/x-www-form-urlencoded'
  const canonical = `POST\n/\n\ncontent-type:${type}\nhost:${host}\nx-amz-date:${date}\n\ncontent-type;host;x-amz-date\n${sha256Hex(body)}`
  const key = deriveSigningKey(credentials.secretAccessKey, day, BENCH_REGION, 'sts')
  const signature = createHmac('sha256', key).update(`${ALGORITHM}\n${date}\n${scope}\n${sha256Hex(canonical)}`).digest('hex')
  const authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=${signature}`
  return { headers: { 'content-type': type, host, 'x-amz-date': date, authorization }, body }
}

export interface PresignedRequest {
  /** Header names in lower case, exactly as sent (autocannon writes them verbatim). */
  readonly headers: Record<string, string>
  readonly body: string
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** SigV4: signing key = HMAC chain over date/region/service/"aws4_request". */
export function deriveSigningKey(
  secret: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest()
  const kRegion = createHmac('sha256', kDate).update(region).digest()
  const kService = createHmac('sha256', kRegion).update(service).digest()
  return createHmac('sha256', kService).update('aws4_request').digest()
}

/** `2024-01-01T12:00:00.123Z` -> `20240101T120000Z`. */
export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

/**
 * Signs many bodies for one host and target with one timestamp. The signing key is derived once:
 * pre-signing 100,000 requests must take about a second, not a minute.
 */
export class Presigner {
  private readonly host: string
  private readonly accessKeyId: string
  private readonly sessionToken: string | undefined
  private readonly date: string
  private readonly scope: string
  private readonly key: Buffer

  constructor(
    host: string,
    credentials: Credentials = BENCH_ROOT,
    region = BENCH_REGION,
    signedAtMs = Date.now(),
  ) {
    this.host = host
    this.accessKeyId = credentials.accessKeyId
    this.sessionToken = credentials.sessionToken
    this.date = amzDate(signedAtMs)
    const day = this.date.slice(0, 8)
    this.scope = `${day}/${region}/kms/aws4_request`
    this.key = deriveSigningKey(credentials.secretAccessKey, day, region, 'kms')
  }

  sign(target: string, body: string): PresignedRequest {
    const token = this.sessionToken
    const headers: Record<string, string> = {
      'content-type': KMS_JSON,
      host: this.host,
      'x-amz-date': this.date,
      ...(token === undefined ? {} : { 'x-amz-security-token': token }),
      'x-amz-target': target,
    }
    const signed = token === undefined ? SIGNED_HEADERS : SIGNED_WITH_TOKEN
    const canonicalHeaders = Object.entries(headers)
      .map(([name, value]) => `${name}:${value}\n`)
      .join('')
    const canonical = `POST\n/\n\n${canonicalHeaders}\n${signed}\n${sha256Hex(body)}`
    const stringToSign = `${ALGORITHM}\n${this.date}\n${this.scope}\n${sha256Hex(canonical)}`
    const signature = createHmac('sha256', this.key).update(stringToSign).digest('hex')
    const authorization = `${ALGORITHM} Credential=${this.accessKeyId}/${this.scope}, SignedHeaders=${signed}, Signature=${signature}`
    return { headers: { ...headers, authorization }, body }
  }
}

/** Both servers see the same root credentials, account and region; macaw logs warnings only. */
export const SERVER_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  MACAW_ROOT_ACCESS_KEY_ID: BENCH_ROOT.accessKeyId,
  MACAW_ROOT_SECRET_ACCESS_KEY: BENCH_ROOT.secretAccessKey,
  MACAW_ACCOUNT_ID: BENCH_ACCOUNT,
  MACAW_REGION: BENCH_REGION,
  MACAW_LOG_LEVEL: 'warn',
  // One process unless a scenario asks for workers (macaw's default is one per core).
  MACAW_WORKERS: '1',
}
