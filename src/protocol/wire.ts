// The KMS JSON protocol's envelope around an operation: what a request must be (POST, an
// x-amz-json content type, an X-Amz-Target naming a TrentService operation, a JSON object body in
// UTF-8) and how an error becomes a response body (`__type`, `message`). No operation logic here.
import { randomUUID } from 'node:crypto'
import { DependencyTimeoutException, KMSInternalException, KmsError, SerializationException, UnknownOperationException } from './errors.js'
import { StoreUnavailableError } from '../store/store.js'

export interface KmsRequest {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Buffer
  /** node's rawHeaders, to refuse duplicated Authorization or Host headers. */
  readonly rawHeaders?: readonly string[]
  readonly requestId: string
  /** The client's address (aws:SourceIp). */
  readonly remoteAddress?: string | undefined
  /** Whether the request came over TLS (aws:SecureTransport). */
  readonly secure?: boolean
}

export interface KmsResponse {
  readonly status: number
  /** The body's text: JSON for KMS, XML for STS (contentType). */
  readonly body: string
  /** Default application/x-amz-json-1.1. */
  readonly contentType?: string
  readonly operation?: string
  readonly error?: KmsError
  /** An STS answer's error (Query protocol code and message). */
  readonly stsError?: { readonly code: string; readonly message: string }
  /** The unexpected error behind a KMSInternalException, for the log only. */
  readonly cause?: unknown
}

export const STORE_UNREACHABLE = 'The service cannot reach its key store right now. Try again later.'
/** Why a request was refused before anything was done: its audit record could not be stored. */
export const AUDIT_UNAVAILABLE = 'The request was not performed: its audit record cannot be stored right now. Try again later.'
const TARGET_PREFIX = 'TrentService.'
const JSON_CONTENT_TYPES = new Set(['application/x-amz-json-1.1', 'application/x-amz-json-1.0'])
const utf8 = new TextDecoder('utf-8', { fatal: true })

export function newRequestId(): string {
  return randomUUID()
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/**
 * The operation a request names, after the envelope checks; `known` says whether this service has
 * it (checked with Object.hasOwn by the caller: `TrentService.constructor` is no operation).
 */
export function operationName(req: KmsRequest, known: (name: string) => boolean): string {
  if (req.method !== 'POST') {
    throw new UnknownOperationException(`Method ${req.method} is not supported; KMS requests are POST /.`)
  }
  const contentType = jsonContentType(req)
  if (contentType !== true) throw new UnknownOperationException(`Content-Type must be application/x-amz-json-1.1, got '${contentType}'.`)
  const target = headerValue(req.headers['x-amz-target'])
  if (target === undefined || !target.startsWith(TARGET_PREFIX)) {
    throw new UnknownOperationException('X-Amz-Target must name a TrentService operation.')
  }
  const name = target.slice(TARGET_PREFIX.length)
  if (!known(name)) throw new UnknownOperationException(`Operation ${name.slice(0, 64)} is not supported by this service.`)
  return name
}

/** True when the request's Content-Type is an x-amz-json one; else the type it has ('' for none). */
export function jsonContentType(req: KmsRequest): true | string {
  const contentType = headerValue(req.headers['content-type'])?.split(';')[0]?.trim().toLowerCase()
  return contentType !== undefined && JSON_CONTENT_TYPES.has(contentType) ? true : (contentType ?? '')
}

/**
 * The request refused because its audit record could not be stored: an outage when the store is
 * unreachable (SDKs retry), else our fault.
 */
export function unauditedError(storeUnreachable: boolean): KmsError {
  return storeUnreachable ? new DependencyTimeoutException(STORE_UNREACHABLE) : new KMSInternalException(AUDIT_UNAVAILABLE)
}

/** The metrics' outcome of an answer with this HTTP status. */
export function outcomeOf(status: number): 'success' | 'client_error' | 'server_error' {
  return status < 400 ? 'success' : status < 500 ? 'client_error' : 'server_error'
}

/** The operation name a request asked for, for the audit record of a request we could not route. */
export function targetName(req: KmsRequest): string {
  const target = headerValue(req.headers['x-amz-target'])
  if (target === undefined) return 'Unknown'
  const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target
  return name.replace(/[^\w.-]/g, '?').slice(0, 64) || 'Unknown'
}

/** The access key id a request claims to be signed with (for the audit of a refused signature). */
export function accessKeyIdOf(req: KmsRequest): { accessKeyId?: string } {
  const m = /Credential=([A-Z0-9]{16,128})\//.exec(headerValue(req.headers['authorization']) ?? '')
  return m?.[1] === undefined ? {} : { accessKeyId: m[1] }
}

/**
 * The client an audit record names: its User-Agent. An SDK in a browser (the console) cannot set
 * User-Agent, so it sends x-amz-user-agent: that comes first, then the browser's own.
 */
export function userAgentOf(req: KmsRequest): string | undefined {
  const agent = headerValue(req.headers['user-agent'])
  const sdk = headerValue(req.headers['x-amz-user-agent'])
  if (sdk === undefined || (agent !== undefined && !agent.startsWith('Mozilla/'))) return agent
  return agent === undefined ? sdk : `${sdk} ${agent}`
}

/** IPv4 clients on a dual-stack socket show up as ::ffff:a.b.c.d. */
export function normalizeIp(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

/** The body must be one JSON object in valid UTF-8; an empty body reads as `{}`. */
export function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {}
  let text: string
  try {
    text = utf8.decode(raw)
  } catch {
    throw new SerializationException('The request body is not valid UTF-8.')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new SerializationException('The request body is not valid JSON.')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SerializationException('The request body must be a JSON object.')
  }
  return value as Record<string, unknown>
}

/** The response for an error: a KmsError as AWS shapes it; anything else is our fault (5xx, no details). */
export function errorResponse(err: unknown, operation: string | undefined): KmsResponse {
  if (err instanceof KmsError) {
    const body = err.hasMessage ? { __type: err.code, message: err.message } : { __type: err.code }
    return { status: err.status, body: JSON.stringify(body), error: err, ...(operation ? { operation } : {}) }
  }
  // The cause goes to the log only.
  const fault =
    err instanceof StoreUnavailableError
      ? new DependencyTimeoutException(STORE_UNREACHABLE, { cause: err })
      : new KMSInternalException(KMSInternalException.MESSAGE, { cause: err })
  return {
    status: fault.status,
    body: JSON.stringify({ __type: fault.code, message: fault.message }),
    error: fault,
    cause: err,
    ...(operation ? { operation } : {}),
  }
}
