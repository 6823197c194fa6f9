// The fuzzers' view of the wire: one request as data, a keep-alive HTTP sender and a raw-socket
// sender (for what node:http will not put on the wire), and the properties every answer must have.
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import { signedHeaders } from '../helpers/raw.js'
import { repoPath } from '../helpers/repo.js'

/** Every `__type` docs/errors.md lists: an answer with any other type is a finding. */
export const DOCUMENTED_TYPES: ReadonlySet<string> = new Set(
  [...readFileSync(repoPath('docs', 'errors.md'), 'utf8').matchAll(/^\| ([A-Za-z]+) \| (\d{3}) \|/gm)].map((m) => m[1] ?? ''),
)

export interface FuzzRequest {
  /** The generator that made it, for counts and failure reports. */
  readonly family: string
  readonly target: string
  readonly body: Buffer
  /** Sign with SigV4 (so that the body reaches validation), or send as is. */
  readonly signed: boolean
  /** Extra headers: signed ones go into SignedHeaders, unsigned ones are added after signing. */
  readonly signedExtra?: Readonly<Record<string, string>>
  readonly unsignedExtra?: Readonly<Record<string, string>>
  readonly method?: string
  readonly path?: string
  readonly contentType?: string
  /** The request is the client's fault: it must get a 400. Otherwise 200 is fine as well. */
  readonly mustFail: boolean
  /** If set, the 400's __type must be one of these. */
  readonly expect?: readonly string[]
}

export interface Answer {
  readonly status: number
  readonly body: string
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 })

export function closeAgent(): void {
  agent.destroy()
}

export async function headersFor(url: string, r: FuzzRequest): Promise<Record<string, string>> {
  let headers: Record<string, string>
  if (r.signed) {
    headers = await signedHeaders(url, r.target, r.body, {
      ...(r.contentType === undefined ? {} : { contentType: r.contentType }),
      ...(r.signedExtra === undefined ? {} : { headers: { ...r.signedExtra } }),
    })
  } else {
    headers = { 'content-type': r.contentType ?? 'application/x-amz-json-1.1', 'x-amz-target': r.target }
  }
  return { ...headers, ...r.unsignedExtra }
}

/** Sends one request over a shared keep-alive agent; rejects if the connection drops. */
export async function deliver(url: string, r: FuzzRequest): Promise<Answer> {
  const u = new URL(url)
  const headers = await headersFor(url, r)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, agent, method: r.method ?? 'POST', path: r.path ?? '/', headers: { ...headers, 'content-length': String(r.body.length) } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(r.body)
  })
}

/**
 * Writes raw bytes on a fresh socket and reads until the server closes it or a whole response
 * (by Content-Length) has arrived. `pace` writes the bytes from `from` on in chunks with pauses (slow uploads);
 * `abortAfter` destroys the socket after that many bytes (aborted uploads) and resolves undefined.
 */
export function rawExchange(
  port: number,
  bytes: Buffer,
  options: { pace?: { from: number; chunk: number; delayMs: number }; abortAfter?: number; timeoutMs?: number } = {},
): Promise<Answer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let done = false
    const finish = (value: Answer | undefined, err?: Error): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    const timer = setTimeout(() => finish(undefined, new Error('no answer in time')), options.timeoutMs ?? 15_000)
    const parse = (): Answer | undefined => {
      const all = Buffer.concat(chunks)
      const end = all.indexOf('\r\n\r\n')
      if (end === -1) return undefined
      const head = all.subarray(0, end).toString('latin1')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1]
      const body = all.subarray(end + 4)
      if (length !== undefined && body.length >= Number(length)) return { status, body: body.subarray(0, Number(length)).toString('utf8') }
      return length === undefined ? { status, body: body.toString('utf8') } : undefined
    }
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      const answer = parse()
      if (answer && /\r\ncontent-length:/i.test(Buffer.concat(chunks).toString('latin1'))) finish(answer)
    })
    socket.on('end', () => finish(parse()))
    socket.on('close', () => finish(parse()))
    socket.on('error', (err) => finish(undefined, err))
    socket.on('connect', () => {
      void (async () => {
        const limit = options.abortAfter ?? bytes.length
        const step = options.pace?.chunk ?? limit
        const start = Math.min(options.pace?.from ?? 0, limit)
        if (start > 0) socket.write(bytes.subarray(0, start))
        for (let i = start; i < limit && !done; i += step) {
          socket.write(bytes.subarray(i, Math.min(i + step, limit)))
          if (options.pace) await new Promise((r) => setTimeout(r, options.pace?.delayMs))
        }
        if (options.abortAfter !== undefined) finish(undefined)
      })()
    })
  })
}

/** HTTP/1.1 request bytes with exactly these header lines (duplicates and odd names allowed). */
export function rawRequest(method: string, path: string, headers: readonly (readonly [string, string])[], body: Buffer): Buffer {
  const head = `${method} ${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}

/**
 * The properties every KMS answer has: 200 only if the request may succeed, else 400 (never a
 * server fault for the client's fault), and a JSON `{__type, message?}` whose type is documented.
 * Returns a description of the violation, or undefined.
 */
export function violation(r: Pick<FuzzRequest, 'mustFail' | 'expect'>, a: Answer): string | undefined {
  if (a.status === 200 && !r.mustFail) {
    try {
      const v: unknown = JSON.parse(a.body)
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : `200 with a non-object body ${a.body.slice(0, 200)}`
    } catch {
      return `200 with a non-JSON body ${a.body.slice(0, 200)}`
    }
  }
  if (a.status !== 400) return `status ${a.status}: ${a.body.slice(0, 300)}`
  let parsed: unknown
  try {
    parsed = JSON.parse(a.body)
  } catch {
    return `400 with a non-JSON body ${JSON.stringify(a.body.slice(0, 200))}`
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `400 with body ${a.body.slice(0, 200)}`
  const body = parsed as Record<string, unknown>
  const extra = Object.keys(body).filter((k) => k !== '__type' && k !== 'message')
  if (extra.length > 0) return `error body has members ${extra.join(',')}`
  const type = body['__type']
  if (typeof type !== 'string' || !DOCUMENTED_TYPES.has(type)) return `undocumented __type ${String(type)}`
  if (body['message'] !== undefined && typeof body['message'] !== 'string') return 'message is not a string'
  if (r.expect !== undefined && !r.expect.includes(type)) return `__type ${type}, expected one of ${r.expect.join('|')}: ${String(body['message']).slice(0, 200)}`
  return undefined
}
