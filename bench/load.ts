// The load generator: autocannon in its own process (pinned apart from the servers), so that
// neither the orchestrator nor a server shares its event loop. It takes jobs over IPC, signs the
// requests itself at the start of each job (fresh X-Amz-Date every round), and answers with
// counts and latency percentiles. Started by run.ts; not meant to be run by hand.
import autocannon from 'autocannon'
import { Presigner, type Credentials, type PresignedRequest } from './sign.js'

export interface LoadJob {
  readonly url: string
  /** X-Amz-Target, e.g. `TrentService.GenerateMac`. */
  readonly target: string
  /** Body fields shared by every request. */
  readonly fields: Readonly<Record<string, string>>
  /** Each request names one of these as KeyId, rotating through them in a shuffled order. */
  readonly keyIds: readonly string[]
  readonly connections: number
  /** Run this long; with `amount`, the upper bound on the run. */
  readonly durationS: number
  /** Stop after this many responses instead. */
  readonly amount?: number
  /** Keep KeyMetadata.KeyId of each CreateKey answer. */
  readonly collectKeyIds: boolean
  /** Requests per second across all connections (soak); unlimited when absent. */
  readonly overallRate?: number
  /** Who signs (default: the bench root user). */
  readonly credentials?: Credentials
}

export interface LoadResult {
  readonly ok: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  readonly durationS: number
  readonly reqPerS: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** CPU this process used while autocannon ran, as % of one core: near 100 means the load
   * generator, not the server, set the pace. */
  readonly loadCpuPct: number
  /** Status and body of the first non-2xx answer, to say what went wrong. */
  readonly firstFailure: string | undefined
  readonly keyIds: readonly string[]
}

export type LoadMessage =
  { type: 'ready' } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string }

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const a = out[i] as T
    out[i] = out[j] as T
    out[j] = a
  }
  return out
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** The pre-signed requests of a job: one, or one per key in a random order. */
function presign(job: LoadJob): PresignedRequest[] {
  const signer = new Presigner(new URL(job.url).host, job.credentials)
  if (job.keyIds.length === 0) return [signer.sign(job.target, JSON.stringify(job.fields))]
  return shuffled(job.keyIds).map((KeyId) =>
    signer.sign(job.target, JSON.stringify({ KeyId, ...job.fields })),
  )
}

/**
 * autocannon's request list for a pool. One fixed request is encoded once; a pool goes through
 * setupRequest with one counter shared by all connections, so consecutive requests (from any
 * connection) name different keys instead of every connection walking the same list in step.
 */
function requestsFor(
  pool: readonly PresignedRequest[],
  onResponse: (status: number, body: string) => void,
): autocannon.Request[] {
  const [first] = pool
  if (first === undefined) throw new Error('no requests to send')
  if (pool.length === 1)
    return [{ method: 'POST', path: '/', headers: first.headers, body: first.body, onResponse }]
  let next = 0
  const setupRequest = (request: autocannon.Request): autocannon.Request => {
    const signed = pool[next++ % pool.length] ?? first
    return { ...request, headers: { ...signed.headers }, body: signed.body }
  }
  return [{ method: 'POST', path: '/', setupRequest, onResponse }]
}

function keyIdOf(body: string): string | undefined {
  const parsed = JSON.parse(body) as { KeyMetadata?: { KeyId?: unknown } }
  const id = parsed.KeyMetadata?.KeyId
  return typeof id === 'string' ? id : undefined
}

function runJob(job: LoadJob): Promise<LoadResult> {
  const pool = presign(job)
  const keyIds: string[] = []
  let firstFailure: string | undefined
  const onResponse = (status: number, body: string): void => {
    if (status < 200 || status > 299) firstFailure ??= `${status} ${body}`
    else if (job.collectKeyIds) {
      const id = keyIdOf(body)
      if (id !== undefined) keyIds.push(id)
    }
  }
  // Our own latency record: autocannon's histogram keeps whole milliseconds, too coarse below 1 ms.
  const latencies: number[] = []
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.durationS,
        ...(job.amount === undefined ? {} : { amount: job.amount }),
        ...(job.overallRate === undefined ? {} : { overallRate: job.overallRate }),
        requests: requestsFor(pool, onResponse),
        timeout: 10,
      },
      (err: unknown, result: autocannon.Result) => {
        clearTimeout(cap)
        if (err !== null && err !== undefined)
          return reject(err instanceof Error ? err : new Error('autocannon failed', { cause: err }))
        const cpu = process.cpuUsage(cpuBefore)
        const wallUs = (performance.now() - started) * 1000
        const sorted = Float64Array.from(latencies).sort()
        resolve({
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          durationS: result.duration,
          reqPerS: result['2xx'] / result.duration,
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          loadCpuPct: (100 * (cpu.user + cpu.system)) / wallUs,
          firstFailure,
          keyIds,
        })
      },
    )
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms))
    // autocannon ignores `duration` when `amount` is set; this keeps the time bound.
    const cap =
      job.amount === undefined ? undefined : setTimeout(() => instance.stop(), job.durationS * 1000)
  })
}

function send(message: LoadMessage): void {
  process.send?.(message)
}

process.on('message', (message: { type: 'run'; job: LoadJob }) => {
  runJob(message.job).then(
    (result) => send({ type: 'result', result }),
    (err: unknown) =>
      send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  )
})
// The orchestrator owns this process: when it goes, so do we.
process.on('disconnect', () => process.exit(0))
send({ type: 'ready' })
