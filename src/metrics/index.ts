// Prometheus metrics (prom-client) on a registry of our own. No per-key labels: operation, outcome
// and error code are bounded sets. Label children are cached so the request path allocates nothing.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Counter as CounterT } from 'prom-client'
import type { Store } from '../store/store.js'

export type Outcome = 'success' | 'client_error' | 'server_error'

interface RequestSeries {
  readonly count: CounterT.Internal
  readonly duration: { observe(value: number): void }
}

export interface MetricSources {
  cacheHits(): number
  cacheMisses(): number
  cachedKeys(): number
  cacheBytes(): number
  auditBacklog(): number
  auditWritten(): number
  auditFailures(): number
  /** 1 while audit records can be stored, else 0. */
  auditHealthy(): number
  auditRefused(): number
  auditDropped(): number
  auditSummarised(): number
  throttled(): number
  /** The running chain verification (audit/verifier.ts); zeros in a process that does not run it. */
  auditChain(): { verified: number; broken: boolean; checkedAt: number }
}

/** Store methods that are not timed: the change feed's and close. */
const UNTIMED: ReadonlySet<string> = new Set(['onChange', 'catchUp', 'deliveryEpoch', 'notify', 'close'])

export class Metrics {
  readonly registry = new Registry()
  private readonly requests: Counter<'operation' | 'outcome' | 'error'>
  private readonly durations: Histogram<'operation'>
  private readonly storeDurations: Histogram<'method'>
  private readonly storeErrors: Counter<'method'>
  private readonly series = new Map<string, RequestSeries>()

  constructor(sources: MetricSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'macaw_' })
    this.requests = new Counter({
      name: 'macaw_requests_total',
      help: 'KMS API requests by operation, outcome and error code',
      labelNames: ['operation', 'outcome', 'error'],
      registers,
    })
    this.durations = new Histogram({
      name: 'macaw_request_duration_seconds',
      help: 'Time from a complete request body to the response, by operation',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    })
    this.storeDurations = new Histogram({
      name: 'macaw_store_operation_duration_seconds',
      help: 'Store calls by method',
      labelNames: ['method'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5],
      registers,
    })
    this.storeErrors = new Counter({ name: 'macaw_store_errors_total', help: 'Store calls that failed, by method', labelNames: ['method'], registers })
    const fromSource = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(read())
        },
      })
    }
    fromSource('macaw_key_cache_hits_total', 'Key lookups served from memory', () => sources.cacheHits())
    fromSource('macaw_key_cache_misses_total', 'Key lookups that read the store', () => sources.cacheMisses())
    fromSource('macaw_audit_records_written_total', 'Audit records stored', () => sources.auditWritten())
    fromSource('macaw_audit_write_failures_total', 'Audit batches that failed to store (and were retried)', () => sources.auditFailures())
    fromSource('macaw_audit_refused_requests_total', 'Requests refused because their audit record could not be stored', () => sources.auditRefused())
    fromSource('macaw_audit_dropped_records_total', 'Audit records dropped with --audit-failure continue and a full backlog', () => sources.auditDropped())
    fromSource('macaw_audit_summarised_requests_total', 'Unauthenticated requests counted in summary records instead of recorded one by one', () => sources.auditSummarised())
    fromSource('macaw_throttled_requests_total', 'Requests refused with ThrottlingException (over their request quota)', () => sources.throttled())
    new Gauge({
      name: 'macaw_audit_healthy',
      help: '1 while audit records can be stored, 0 while writes fail or the backlog is full',
      registers,
      // Across workers: 0 as soon as one of them cannot store its records.
      aggregator: 'min',
      collect() {
        this.set(sources.auditHealthy())
      },
    })
    new Gauge({
      name: 'macaw_key_cache_entries',
      help: 'Keys held in the decrypted-key cache',
      registers,
      collect() {
        this.set(sources.cachedKeys())
      },
    })
    new Gauge({
      name: 'macaw_cache_bytes',
      help: 'Estimated memory held by the key and policy caches (bounded by --cache-max-mb)',
      registers,
      collect() {
        this.set(sources.cacheBytes())
      },
    })
    // The chain verification runs in one process of the deployment; the others report 0, and the
    // node's figure is the largest of its workers'.
    const chainGauge = (name: string, help: string, value: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        aggregator: 'max',
        collect() {
          this.set(value())
        },
      })
    }
    chainGauge('macaw_audit_chain_verified_records', 'Audit records whose keyed hash chain the running verification has checked, from the anchor', () => sources.auditChain().verified)
    chainGauge('macaw_audit_chain_broken', '1 once the running verification found an edited, removed or reordered audit record', () => (sources.auditChain().broken ? 1 : 0))
    chainGauge('macaw_audit_chain_checked_timestamp_seconds', 'When the running chain verification last finished a pass (0: not in this node)', () => sources.auditChain().checkedAt / 1000)
    new Gauge({
      name: 'macaw_audit_backlog',
      help: 'Audit records waiting to be stored',
      registers,
      collect() {
        this.set(sources.auditBacklog())
      },
    })
  }

  observeRequest(operation: string, outcome: Outcome, error: string, seconds: number): void {
    const id = `${operation}\u0000${outcome}\u0000${error}`
    let s = this.series.get(id)
    if (s === undefined) {
      s = { count: this.requests.labels(operation, outcome, error), duration: this.durations.labels(operation) }
      if (this.series.size < 10_000) this.series.set(id, s)
    }
    s.count.inc()
    s.duration.observe(seconds)
  }

  /** Wraps a store so that every async call is timed and its failures counted. */
  instrument(store: Store): Store {
    const durations = this.storeDurations
    const errors = this.storeErrors
    // One wrapper per method, made on first use: catchUp and deliveryEpoch run on every request.
    const wrappers = new Map<string, unknown>()
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver)
        if (typeof value !== 'function' || typeof prop !== 'string') return value
        const known = wrappers.get(prop)
        if (known !== undefined) return known
        const method = value as (...a: unknown[]) => unknown
        let wrapper: unknown
        if (UNTIMED.has(prop)) {
          wrapper = method.bind(target)
        } else {
          const timer = durations.labels(prop)
          wrapper = (...args: unknown[]) => {
            const started = performance.now()
            const result = method.apply(target, args)
            if (!(result instanceof Promise)) return result
            return result.then(
              (v: unknown) => {
                timer.observe((performance.now() - started) / 1000)
                return v
              },
              (err: unknown) => {
                errors.labels(prop).inc()
                throw err
              },
            )
          }
        }
        wrappers.set(prop, wrapper)
        return wrapper
      },
    })
  }
}
