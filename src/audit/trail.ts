// The audit trail writer: each request's CloudTrail event is written in its stored (compact) form
// when it is recorded, and a background flush appends the queued events to the store in batches,
// continuing the hash chain, and optionally to a JSON-lines file. Nothing is dropped silently: a
// failed flush keeps its records and retries; close() flushes everything. What a crash can lose is
// what was not flushed yet (at most `flushIntervalMs` of records).
//
// Bounded: at most MAX_BACKLOG records wait in memory. While records cannot be stored (a failed
// write, a full backlog) the trail is not `healthy`, and `admit()` refuses requests instead of
// answering them unaudited (`--audit-failure refuse`, the default), or answers them and counts
// the records it had to drop (`continue`). Unauthenticated requests are recorded one by one only
// up to UNAUTHENTICATED_PER_SOURCE per source and interval; beyond that they are counted, and one
// summary record per source and error code is written at the end of the interval.
import { randomUUID } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import type { Logger } from 'pino'
import { StoreUnavailableError, type ChainFn, type NewAuditRow, type Store } from '../store/store.js'
import type { AuditSink } from './sqlite-sink.js'
import { auditIndex, auditRow, cloudTrailText, storedEvent, summaryEvent, type AuditInput, type RequestSummary } from './event.js'

export interface AuditOptions {
  readonly enabled: boolean
  /** Also append each event as one JSON line to this file. */
  readonly file?: string | undefined
  readonly flushIntervalMs: number
  /** Delete stored records older than this many days; 0 keeps everything. */
  readonly retentionDays: number
  /** What to do with requests while records cannot be stored. */
  readonly onFailure: 'refuse' | 'continue'
  /** How long unauthenticated requests are counted before their summaries are written. */
  readonly summaryIntervalMs: number
}

const MAX_BATCH = 2000
const DAY_MS = 86_400_000
/** Records waiting in memory at the most (each at most MAX_AUDIT_RECORD_BYTES once serialised). */
export const MAX_BACKLOG = 10_000
/**
 * Records waiting above which new requests wait for the writer before they are served
 * (backpressure: `room()`), so that a saturated core slows requests down instead of filling the
 * backlog and refusing them.
 */
export const HIGH_WATER = MAX_BACKLOG / 2
/** How long a request waits for room at the most; then `admit()` decides (a writer that hangs must not hang requests). */
const ROOM_WAIT_MS = 2000
/** Unauthenticated requests recorded in full per source and summary interval. */
export const UNAUTHENTICATED_PER_SOURCE = 10
/** Sources counted per interval; the rest share one bucket. */
const MAX_SOURCES = 1024

/** A summary being counted: its requests so far in this interval. */
interface Summary extends RequestSummary {
  count: number
  first: number
  last: number
}

export class AuditTrail {
  /** Records waiting to be stored: each event's stored form and indexed columns. */
  private queue: NewAuditRow[] = []
  private flushing: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private retentionTimer: NodeJS.Timeout | undefined
  private file: FileHandle | undefined
  private closed = false
  /** Records written to the store since start (for metrics). */
  written = 0
  failures = 0
  /** Records dropped (`continue` only) and requests refused because they could not be audited. */
  dropped = 0
  refused = 0
  /** Unauthenticated requests counted into summaries instead of recorded one by one. */
  summarised = 0
  /** Set while the last write failed; cleared by the next one that succeeds. */
  private failure: unknown
  /** Unauthenticated requests per source in this interval, and their summaries. */
  private sources = new Map<string, number>()
  private summaries = new Map<string, Summary>()
  private summaryTimer: NodeJS.Timeout | undefined
  /** Requests waiting for the backlog to fall below HIGH_WATER (one per request in flight at most). */
  private waiting: (() => void)[] = []

  private readonly store: Store
  private readonly sink: AuditSink
  /** A writer thread is the trail's to close; the store is its owner's (service/kms.ts). */
  private readonly ownsSink: boolean
  private readonly options: AuditOptions
  private readonly logger: Logger

  /** `sink` takes the batches (default: the store itself; SQLite: a writer thread). */
  private readonly chain: ChainFn

  /** `chain`: the keyed chain the records are appended with (chain.ts). */
  constructor(store: Store, options: AuditOptions, logger: Logger, chain: ChainFn, sink?: AuditSink) {
    this.chain = chain
    this.store = store
    this.sink = sink ?? store
    this.ownsSink = sink !== undefined
    this.options = options
    this.logger = logger
  }

  async start(): Promise<void> {
    if (!this.options.enabled) return
    if (this.options.file !== undefined) this.file = await open(this.options.file, 'a', 0o600)
    if (this.options.retentionDays > 0) {
      const prune = (): void => {
        this.store.pruneAudit(Date.now() - this.options.retentionDays * DAY_MS).catch((err: unknown) => {
          this.logger.error({ err }, 'audit retention failed')
        })
      }
      prune()
      this.retentionTimer = setInterval(prune, 3_600_000)
      this.retentionTimer.unref()
    }
  }

  get enabled(): boolean {
    return this.options.enabled
  }

  /** Can records be stored right now? False after a failed write, or with the backlog full. */
  get healthy(): boolean {
    return this.failure === undefined && this.queue.length < MAX_BACKLOG
  }

  /** Whether the last write failed because the store could not be reached (an outage). */
  get storeUnreachable(): boolean {
    return this.failure instanceof StoreUnavailableError
  }

  /**
   * May a request be served? With `refuse`, only while records can be stored: a request is refused
   * (and counted) rather than answered without its record.
   */
  admit(): boolean {
    if (!this.options.enabled || this.options.onFailure === 'continue' || this.healthy) return true
    this.refused++
    return false
  }

  /**
   * Backpressure: while the writer is behind (HIGH_WATER records or more waiting) but its writes
   * succeed, a request waits for the backlog to fall below HIGH_WATER before it is served. On a
   * busy core this idle time is what lets the writer thread (at a lower priority) catch up; without
   * it a saturated server filled the backlog and refused thousands of requests per second.
   * It waits ROOM_WAIT_MS at the most. Undefined when there is room (or when waiting would not
   * help: a failing write is refused by `admit()` at once).
   */
  room(): Promise<void> | undefined {
    if (!this.options.enabled || this.closed || this.failure !== undefined || this.queue.length < HIGH_WATER) return undefined
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ROOM_WAIT_MS)
      this.waiting.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** `admit()`, once there is room (`room()`): how every request is let in. */
  async admitWhenRoom(): Promise<boolean> {
    const room = this.room()
    if (room !== undefined) await room
    return this.admit()
  }

  private release(): void {
    for (const resolve of this.waiting.splice(0)) resolve()
  }

  /** Records not yet written. */
  get backlog(): number {
    return this.queue.length
  }

  /** A new event id. */
  static eventId(): string {
    return randomUUID()
  }

  record(input: AuditInput): void {
    if (!this.options.enabled || this.closed) return
    if (input.identity.type === 'Unknown' && !this.takeUnauthenticated(input)) return
    if (this.queue.length >= MAX_BACKLOG) {
      // Only reachable with `continue` (or a request admitted just before the backlog filled).
      this.dropped++
      if (this.dropped % 1000 === 1) this.logger.error({ dropped: this.dropped }, 'audit backlog full: records dropped')
      return
    }
    // The stored form (the compact one, event.ts) is written now, not when its batch is flushed:
    // written a batch at a time, 125 events (50 ms of one connection) held the event loop for
    // about 2 ms, and the requests that arrived meanwhile waited that long (the 1-connection p99);
    // and the facts waited in memory long enough to be promoted to V8's old space.
    this.queue.push(auditRow(input, storedEvent(input)))
    this.scheduleFlush()
  }

  /** Whether an unauthenticated request gets a record of its own; otherwise it is counted. */
  private takeUnauthenticated(input: AuditInput): boolean {
    const source = this.sources.size < MAX_SOURCES || this.sources.has(input.sourceIp ?? '') ? (input.sourceIp ?? '') : '*'
    const seen = (this.sources.get(source) ?? 0) + 1
    this.sources.set(source, seen)
    this.summaryTimer ??= setTimeout(() => this.endInterval(), this.options.summaryIntervalMs).unref()
    if (seen <= UNAUTHENTICATED_PER_SOURCE) return true
    const errorCode = input.errorCode ?? ''
    const id = `${source}\u0000${errorCode}`
    const summary = this.summaries.get(id)
    if (summary === undefined) {
      const sourceIp = source === '*' ? undefined : input.sourceIp
      this.summaries.set(id, { sourceIp, errorCode, region: input.region, count: 1, first: input.time, last: input.time })
    } else {
      summary.count++
      summary.last = input.time
    }
    this.summarised++
    return false
  }

  /** Queues one summary record per source and error code counted in the interval. */
  private endInterval(): void {
    this.summaryTimer = undefined
    const summaries = [...this.summaries.values()]
    this.sources = new Map()
    this.summaries = new Map()
    for (const s of summaries) {
      const event = summaryEvent(s, AuditTrail.eventId())
      const text = JSON.stringify(event)
      // A summary's eventTime is its last request's time to the millisecond.
      this.queue.push(auditIndex(event, text, s.last))
    }
    if (summaries.length > 0) this.scheduleFlush()
  }

  private scheduleFlush(delayMs = this.options.flushIntervalMs): void {
    if (this.timer === undefined && this.flushing === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        void this.write('due')
      }, delayMs)
    }
  }

  /**
   * How long until the oldest queued record has waited `flushIntervalMs` (0: it has). Records
   * that arrive while a batch is being written wait for that, not for the write to end: writing
   * them at once kept the writer busy with batch after batch of the few records each write took
   * (at one connection, a transaction every 10 ms with 9 records; the batch's fixed cost, a few
   * milliseconds of CPU, then fell on each of them). A record still waits no longer than it did:
   * `flushIntervalMs` and the write before it.
   */
  private dueIn(): number {
    const oldest = this.queue[0]
    if (oldest === undefined) return this.options.flushIntervalMs
    return Math.min(this.options.flushIntervalMs, Math.max(0, oldest.time + this.options.flushIntervalMs - Date.now()))
  }

  /** Writes everything queued so far (waits for a flush in progress first). */
  flush(): Promise<void> {
    return this.write('all')
  }

  /** `all`: everything queued; `due`: batches as long as their oldest record is due. */
  private async write(what: 'all' | 'due'): Promise<void> {
    while (this.flushing !== undefined) await this.flushing
    if (this.queue.length === 0) return
    this.flushing = this.writeQueued(what).finally(() => {
      this.flushing = undefined
      // What arrived during the write (a failed write has its retry timer already).
      if (this.queue.length > 0 && !this.closed) this.scheduleFlush(this.dueIn())
    })
    await this.flushing
  }

  private async writeQueued(what: 'all' | 'due'): Promise<void> {
    // The first batch is the one its timer was set for (by the timer's clock, which may lag
    // Date.now() by a millisecond); the next ones only if they are already due (a backlog).
    for (let first = true; this.queue.length > 0 && (what === 'all' || first || this.dueIn() === 0); first = false) {
      const batch = this.queue.slice(0, MAX_BATCH)
      try {
        await this.sink.appendAudit(batch, this.chain)
      } catch (err) {
        // Keep the records; the next flush retries them. Never drop silently.
        this.failure = err
        this.failures++
        this.logger.error({ err, backlog: this.queue.length }, 'audit records could not be stored; will retry')
        // Waiting requests go on to admit(), which refuses them while writes fail.
        this.release()
        this.scheduleRetry()
        return
      }
      this.failure = undefined
      this.queue.splice(0, batch.length)
      this.written += batch.length
      if (this.queue.length < HIGH_WATER) this.release()
      if (this.file !== undefined) {
        try {
          await this.file.appendFile(batch.map((row) => `${cloudTrailText(row)}\n`).join(''))
        } catch (err) {
          this.logger.error({ err }, 'audit file append failed (records are in the store)')
        }
      }
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, 1000)
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer)
    if (this.summaryTimer !== undefined) clearTimeout(this.summaryTimer)
    this.endInterval()
    await this.flush()
    this.closed = true
    this.release()
    if (this.queue.length > 0) this.logger.error({ lost: this.queue.length }, 'audit records could not be stored before shutdown')
    await this.file?.close()
    if (this.ownsSink) await this.sink.close?.()
  }
}
