// The audit trail writer: requests hand over their facts (cheap), and a background flush turns them
// into CloudTrail events and appends them to the store in batches, continuing the hash chain, and
// optionally to a JSON-lines file. Nothing is dropped: a failed flush keeps its records and
// retries; close() flushes everything. What a crash can lose is what was not flushed yet (at most
// `flushIntervalMs` of records).
import { randomUUID } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { Store } from '../store/store.js'
import type { AuditSink } from './sqlite-sink.js'
import { chainHash } from './chain.js'
import { auditEvent, auditIndex, type AuditInput } from './event.js'

export interface AuditOptions {
  readonly enabled: boolean
  /** Also append each event as one JSON line to this file. */
  readonly file?: string | undefined
  readonly flushIntervalMs: number
  /** Delete stored records older than this many days; 0 keeps everything. */
  readonly retentionDays: number
}

const MAX_BATCH = 2000
const DAY_MS = 86_400_000

export class AuditTrail {
  private queue: AuditInput[] = []
  private flushing: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private retentionTimer: NodeJS.Timeout | undefined
  private file: FileHandle | undefined
  private closed = false
  /** Records written to the store since start (for metrics). */
  written = 0
  failures = 0

  private readonly store: Store
  private readonly sink: AuditSink
  private readonly options: AuditOptions
  private readonly logger: Logger

  /** `sink` takes the batches (default: the store itself; SQLite: a writer thread). */
  constructor(store: Store, options: AuditOptions, logger: Logger, sink?: AuditSink) {
    this.store = store
    this.sink = sink ?? store
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
    this.queue.push(input)
    if (this.timer === undefined && this.flushing === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        void this.flush()
      }, this.options.flushIntervalMs)
    }
  }

  /** Writes everything queued so far (waits for a flush in progress first). */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing
    if (this.queue.length === 0) return
    this.flushing = this.writeQueued().finally(() => {
      this.flushing = undefined
    })
    await this.flushing
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, MAX_BATCH)
      const events = batch.map((input) => {
        const event = auditEvent(input)
        const text = JSON.stringify(event)
        return { text, row: auditIndex(event, text) }
      })
      try {
        await this.sink.appendAudit(
          events.map((e) => e.row),
          chainHash,
        )
      } catch (err) {
        // Keep the records; the next flush retries them. Never drop silently.
        this.failures++
        this.logger.error({ err, backlog: this.queue.length }, 'audit records could not be stored; will retry')
        this.scheduleRetry()
        return
      }
      this.queue.splice(0, batch.length)
      this.written += batch.length
      if (this.file !== undefined) {
        try {
          await this.file.appendFile(events.map((e) => `${e.text}\n`).join(''))
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
    await this.flush()
    this.closed = true
    if (this.queue.length > 0) this.logger.error({ lost: this.queue.length }, 'audit records could not be stored before shutdown')
    await this.file?.close()
    await this.sink.close?.()
  }
}
