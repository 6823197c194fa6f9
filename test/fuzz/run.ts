// Drives the generators against a server: many requests at a fixed concurrency, the raw-socket
// cases, and the checks after the storm (still answering, nothing stored by a rejected request).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import fc from 'fast-check'
import { signedSend } from '../helpers/raw.js'
import { anyRequest, CREATING } from './cases.js'
import { deliver, headersFor, rawExchange, rawRequest, violation, type Answer, type FuzzRequest } from './wire.js'

export interface FamilyCount {
  sent: number
  succeeded: number
  refused: number
}

export interface FuzzReport {
  sent: number
  /** Violations explained by a bug already pinned down by a `todo` test, by bug. */
  readonly known: Map<string, number>
  readonly families: Map<string, FamilyCount>
  /** Violations of the answer properties (first few in full, then counted). */
  readonly problems: string[]
  problemCount: number
  /** ARNs of keys that requests the server accepted (200) created. */
  readonly created: Set<string>
}

export function newReport(): FuzzReport {
  return { sent: 0, known: new Map(), families: new Map(), problems: [], problemCount: 0, created: new Set() }
}

/**
 * Bugs in src/ that a `todo` test in test/attack already pins down. Their violations are counted
 * apart so that the fuzzer keeps catching new ones; drop an entry once the bug is fixed.
 */
const KNOWN_BUGS: readonly { readonly id: string; matches(r: FuzzRequest, a: Answer): boolean }[] = []

function note(report: FuzzReport, problem: string): void {
  report.problemCount++
  if (report.problems.length < 25) report.problems.push(problem)
}

function describe(r: FuzzRequest): string {
  const body = r.body.length > 160 ? `${r.body.subarray(0, 160).toString('latin1')}... (${r.body.length} bytes)` : r.body.toString('latin1')
  return `[${r.family}] ${r.method ?? 'POST'} ${r.path ?? '/'} target=${JSON.stringify(r.target)} signed=${r.signed} ${JSON.stringify(r.unsignedExtra ?? r.signedExtra ?? {})} body=${JSON.stringify(body)}`
}

function record(report: FuzzReport, r: FuzzRequest, a: Answer): void {
  report.sent++
  const count = report.families.get(r.family) ?? { sent: 0, succeeded: 0, refused: 0 }
  report.families.set(r.family, count)
  count.sent++
  if (a.status === 200) count.succeeded++
  else count.refused++
  const v = violation(r, a)
  const known = v === undefined ? undefined : KNOWN_BUGS.find((b) => b.matches(r, a))
  if (known !== undefined) report.known.set(known.id, (report.known.get(known.id) ?? 0) + 1)
  else if (v !== undefined) note(report, `${v}\n    request: ${describe(r)}`)
  if (a.status === 200 && CREATING.has(r.target.trim().slice('TrentService.'.length))) {
    const arn = (JSON.parse(a.body) as { KeyMetadata?: { Arn?: string } }).KeyMetadata?.Arn
    if (arn !== undefined) report.created.add(arn)
  }
}

/** Sends `count` generated requests, `concurrency` at a time; seeds make a run repeatable. */
export async function fuzzRequests(url: string, report: FuzzReport, count: number, options: { seed: number; concurrency: number; onBatch?: () => void }): Promise<void> {
  const batch = 500
  for (let done = 0, round = 0; done < count; round++) {
    const requests = fc.sample(anyRequest, { numRuns: Math.min(batch, count - done), seed: options.seed + round })
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const r = requests[next++]
        if (r === undefined) break
        try {
          record(report, r, await deliver(url, r))
        } catch (err) {
          report.sent++
          note(report, `connection failed: ${String(err)}\n    request: ${describe(r)}`)
        }
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    done += requests.length
    options.onBatch?.()
  }
}

interface RawCase {
  readonly name: string
  /** HTTP-level garbage is answered by node:http itself (400/431, no KMS body): only the status is checked. */
  readonly httpLevel?: boolean
  readonly mustFail: boolean
  readonly expect?: readonly string[]
  bytes(url: string): Promise<Buffer>
  /** Write the body (not the headers) `chunk` bytes at a time. */
  readonly pace?: { chunk: number; delayMs: number }
  readonly abortAfter?: number
}

const JSON_TYPE = 'application/x-amz-json-1.1'

/** A signed request laid out as header lines, so that a case can duplicate or drop any of them. */
async function signedLines(url: string, target: string, body: string, edit: (lines: [string, string][]) => [string, string][] = (l) => l): Promise<Buffer> {
  const r: FuzzRequest = { family: 'raw', target, body: Buffer.from(body), signed: true, mustFail: false }
  const headers = Object.entries(await headersFor(url, r)).map(([k, v]): [string, string] => [k, v])
  const lines = edit([...headers, ['content-length', String(Buffer.byteLength(body))], ['connection', 'close']])
  return rawRequest('POST', '/', lines, Buffer.from(body))
}

const RAW_CASES: readonly RawCase[] = [
  {
    name: 'a second, different content-type after the signed one',
    mustFail: false,
    bytes: (url) => signedLines(url, 'TrentService.ListKeys', '{}', (l) => [...l, ['content-type', 'text/plain']]),
  },
  {
    name: 'a second x-amz-target naming another operation',
    mustFail: true,
    expect: ['UnknownOperationException', 'InvalidSignatureException'],
    bytes: (url) => signedLines(url, 'TrentService.ListKeys', '{}', (l) => [...l, ['x-amz-target', 'TrentService.CreateKey']]),
  },
  {
    name: 'no content-type at all',
    mustFail: true,
    expect: ['UnknownOperationException'],
    bytes: (url) => signedLines(url, 'TrentService.ListKeys', '{}', (l) => l.filter(([k]) => k !== 'content-type')),
  },
  {
    name: 'no x-amz-target at all',
    mustFail: true,
    expect: ['UnknownOperationException'],
    bytes: (url) => signedLines(url, 'TrentService.ListKeys', '{}', (l) => l.filter(([k]) => k !== 'x-amz-target')),
  },
  {
    name: 'header names that are prototype members',
    mustFail: false,
    bytes: (url) => signedLines(url, 'TrentService.ListKeys', '{}', (l) => [...l, ['__proto__', 'x'], ['constructor', 'y'], ['hasOwnProperty', 'z'], ['toString', 'w']]),
  },
  {
    name: 'a chunked body',
    mustFail: false,
    bytes: (url) =>
      signedLines(url, 'TrentService.ListKeys', '{}', (l) => [...l.filter(([k]) => k !== 'content-length'), ['transfer-encoding', 'chunked']]).then((b) =>
        Buffer.concat([b.subarray(0, b.length - 2), Buffer.from('1\r\n{\r\n1\r\n}\r\n0\r\n\r\n')]),
      ),
  },
  {
    name: 'a slow upload (a body byte every 30 ms)',
    mustFail: false,
    pace: { chunk: 1, delayMs: 30 },
    bytes: (url) => signedLines(url, 'TrentService.ListKeys', '{"Limit":10}'),
  },
  { name: 'an upload aborted half way', mustFail: true, abortAfter: -1, bytes: (url) => signedLines(url, 'TrentService.CreateKey', JSON.stringify({ Description: 'aborted'.repeat(500) })) },
  { name: 'an upload aborted in the headers', mustFail: true, abortAfter: 40, bytes: (url) => signedLines(url, 'TrentService.CreateKey', '{}') },
  { name: 'a garbled request line', httpLevel: true, mustFail: true, bytes: () => Promise.resolve(Buffer.from('GARBAGE / / HTTP/9\r\n\r\n')) },
  { name: 'a header name with a space', httpLevel: true, mustFail: true, bytes: () => Promise.resolve(Buffer.from('POST / HTTP/1.1\r\nhost: x\r\nbad name: 1\r\n\r\n')) },
  { name: 'both content-length and transfer-encoding', httpLevel: true, mustFail: true, bytes: () => Promise.resolve(Buffer.from('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n{}')) },
  { name: 'headers over 16 KiB', httpLevel: true, mustFail: true, bytes: () => Promise.resolve(Buffer.from(`POST / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)) },
  {
    name: 'a body of NUL bytes with a signed content type',
    mustFail: true,
    expect: ['SerializationException', 'MissingAuthenticationTokenException'],
    bytes: () => Promise.resolve(rawRequest('POST', '/', [['host', 'x'], ['content-type', JSON_TYPE], ['x-amz-target', 'TrentService.ListKeys'], ['content-length', '64'], ['connection', 'close']], Buffer.alloc(64))),
  },
]

/** The raw-socket cases; aborted uploads must leave the server answering. */
export async function fuzzRaw(url: string, report: FuzzReport, probe: () => Promise<void>): Promise<number> {
  const port = Number(new URL(url).port)
  for (const c of RAW_CASES) {
    const bytes = await c.bytes(url)
    const abortAfter = c.abortAfter === -1 ? Math.floor(bytes.length * 0.6) : c.abortAfter
    let answer: Answer | undefined
    try {
      const pace = c.pace ? { ...c.pace, from: bytes.indexOf('\r\n\r\n') + 4 } : undefined
      answer = await rawExchange(port, bytes, { ...(pace ? { pace } : {}), ...(abortAfter === undefined ? {} : { abortAfter }) })
    } catch (err) {
      note(report, `raw case '${c.name}': ${String(err)}`)
      continue
    }
    report.sent++
    const count = report.families.get('raw-socket') ?? { sent: 0, succeeded: 0, refused: 0 }
    report.families.set('raw-socket', count)
    count.sent++
    if (abortAfter !== undefined) {
      count.refused++
      await probe()
      continue
    }
    if (answer === undefined) {
      note(report, `raw case '${c.name}': the connection closed without an answer`)
      continue
    }
    if (answer.status === 200) count.succeeded++
    else count.refused++
    if (c.httpLevel) {
      if (answer.status !== 400 && answer.status !== 431) note(report, `raw case '${c.name}': status ${answer.status}`)
    } else {
      const v = violation(c, answer)
      if (v !== undefined) note(report, `raw case '${c.name}': ${v}`)
    }
    await probe()
  }
  return RAW_CASES.length
}

/** Every key ARN of the default region, across pages. */
export async function listAllKeys(url: string): Promise<Set<string>> {
  const arns = new Set<string>()
  let marker: string | undefined
  do {
    const res = await signedSend(url, 'TrentService.ListKeys', JSON.stringify({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }))
    assert.equal(res.status, 200, res.body)
    const page = res.json as { Keys: { KeyArn: string }[]; Truncated: boolean; NextMarker?: string }
    for (const k of page.Keys) arns.add(k.KeyArn)
    marker = page.Truncated ? page.NextMarker : undefined
  } while (marker !== undefined)
  return arns
}

/**
 * The server still does real work: CreateKey, GenerateMac -> VerifyMac round-trips, a flipped bit
 * is refused, and another message gets another MAC. Returns the new key's ARN.
 */
export async function assertStillWorks(url: string): Promise<string> {
  const created = await signedSend(url, 'TrentService.CreateKey', '{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}')
  assert.equal(created.status, 200, created.body)
  const arn = (created.json?.['KeyMetadata'] as { Arn: string }).Arn
  const message = Buffer.from('after the fuzz').toString('base64')
  const mac = await signedSend(url, 'TrentService.GenerateMac', JSON.stringify({ KeyId: arn, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))
  assert.equal(mac.status, 200, mac.body)
  const value = Buffer.from(String(mac.json?.['Mac']), 'base64')
  assert.equal(value.length, 32)
  const ok = await signedSend(url, 'TrentService.VerifyMac', JSON.stringify({ KeyId: arn, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac: value.toString('base64') }))
  assert.equal(ok.json?.['MacValid'], true, ok.body)
  value[0] = (value[0] ?? 0) ^ 1
  const bad = await signedSend(url, 'TrentService.VerifyMac', JSON.stringify({ KeyId: arn, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac: value.toString('base64') }))
  assert.equal(bad.json?.['__type'], 'KMSInvalidMacException')
  // A MAC that differs per message: the key really is used, not a constant.
  const other = await signedSend(url, 'TrentService.GenerateMac', JSON.stringify({ KeyId: arn, Message: Buffer.from('other').toString('base64'), MacAlgorithm: 'HMAC_SHA_256' }))
  assert.equal(other.status, 200, other.body)
  assert.notEqual(other.json?.['Mac'], mac.json?.['Mac'])
  return arn
}

/** Keys after the run = keys before + keys of accepted CreateKey answers (+ the probe's own). */
export function unexpectedKeys(before: ReadonlySet<string>, after: ReadonlySet<string>, report: FuzzReport, own: ReadonlySet<string>): string[] {
  return [...after].filter((arn) => !before.has(arn) && !report.created.has(arn) && !own.has(arn))
}

export function formatReport(report: FuzzReport): string {
  const rows = [...report.families.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, c]) => `  ${name.padEnd(16)} ${String(c.sent).padStart(7)} sent ${String(c.succeeded).padStart(7)} 200 ${String(c.refused).padStart(7)} refused`)
  const known = [...report.known.entries()].map(([id, n]) => `  known bug (todo test): ${id}: ${n} answers`)
  return [`requests: ${report.sent}, violations: ${report.problemCount}, keys created by accepted requests: ${report.created.size}`, ...rows, ...known, ...report.problems.map((p) => `  ! ${p}`)].join('\n')
}

/** A process and all its descendants (a `--workers N` primary forks N workers), from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // The process exited while we looked.
    }
  }
  const out: number[] = []
  const visit = (pid: number): void => {
    out.push(pid)
    for (const c of children.get(pid) ?? []) visit(c)
  }
  visit(root)
  return out
}

/** VmRSS of a process tree, in MB. */
export function treeRssMb(root: number): number {
  let kb = 0
  for (const pid of processTree(root)) {
    try {
      kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    } catch {
      // Gone already.
    }
  }
  return kb / 1024
}
