// The last successful cryptographic operation of each key (GetKeyLastUsage). The request path only
// notes it in memory (one Map.set per GenerateMac or VerifyMac); a flush every few seconds, and at
// shutdown, stores the latest use of each key noted since (table key_usage, in transactions of
// multi-row upserts), so the store sees at most one write per key used per interval. With SQLite
// and the audit trail on, the flush is written by the audit writer thread.
// GetKeyLastUsage reads the newer of this process's note and the stored one: another process's use
// shows once it has flushed (the same eventual consistency AWS documents for this operation).
import { setImmediate } from 'node:timers/promises'
import type { KeyUseRow, SettingStore } from '../store/store.js'

export interface KeyUse {
  readonly operation: string
  /** Epoch ms. */
  readonly time: number
  /** The audit record's event id (absent with --audit off). */
  readonly eventId?: string | undefined
  readonly requestId: string
}

/** The setting holding when tracking began on this store (epoch ms). */
export const TRACKING_START = 'lastUsage.trackingStart'
const usageSetting = (arn: string): string => `lastUsage.${arn}`

/** How often noted uses are stored. */
export const LAST_USAGE_FLUSH_MS = 5000
/**
 * Uses stored per transaction. On SQLite's request-thread connection (audit off: no writer thread)
 * a transaction blocks the event loop while it runs: 15,000 keys in one took about 300 ms; in
 * transactions of 1,000 the loop waits 40 ms at the most, for about a third more CPU in all (340 to
 * 400 ms per flush of 15,000 keys). On the writer thread, smaller transactions also hold the
 * database's write lock (which other writers wait for) for less time.
 */
const USES_PER_TRANSACTION = 1000
/** Noted uses kept between flushes; beyond it the map is flushed at once (bounded memory). */
export const MAX_NOTED = 50_000
/**
 * After a failed flush (the store down), how long until the notes beyond MAX_NOTED start another:
 * each attempt sorts every note on the request path, and without a pause each request noted
 * during an outage started one. The periodic flush goes on meanwhile.
 */
export const FLUSH_RETRY_MS = 1000

function byArn(a: readonly [string, KeyUse], b: readonly [string, KeyUse]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

/**
 * Where a flush is written: through the store on this thread (storeOnThisThread), or by SQLite's
 * audit writer thread, which puts the uses in order and serialises them there.
 */
export interface KeyUseWriter {
  storeKeyUses(uses: ReadonlyMap<string, KeyUse>): Promise<void>
}

/**
 * A flush's rows, in key order: each transaction then rewrites one stretch of the table's pages
 * instead of pages all over it (SQLite: about 40 % less CPU per flush of 14,000 of 100,000 keys,
 * and half the system time), and concurrent flushes of several processes lock rows in the same
 * order. On the request thread this took 50 to 60 ms at once for 26,000 keys (100,000 in use).
 */
export function keyUseRows(uses: Iterable<readonly [string, KeyUse]>): KeyUseRow[] {
  return [...uses].sort(byArn).map(([arn, use]) => ({ arn, time: use.time, use: JSON.stringify(use) }))
}

/** Stores a flush's rows, USES_PER_TRANSACTION per transaction, awaiting `between` between them. */
export async function storeInTransactions(store: Pick<SettingStore, 'storeKeyUses'>, rows: readonly KeyUseRow[], between?: () => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += USES_PER_TRANSACTION) {
    if (start > 0 && between !== undefined) await between()
    await store.storeKeyUses(rows.slice(start, start + USES_PER_TRANSACTION))
  }
}

/**
 * A flush through the store on the request thread (PostgreSQL; SQLite with the audit trail off): a
 * turn of the event loop between transactions lets requests in (SQLite writes on this thread).
 */
export function storeOnThisThread(store: Pick<SettingStore, 'storeKeyUses'>): KeyUseWriter {
  return { storeKeyUses: (uses) => storeInTransactions(store, keyUseRows(uses), () => setImmediate()) }
}

export class LastUsage {
  private noted = new Map<string, KeyUse>()
  private readonly store: SettingStore
  private readonly writer: KeyUseWriter
  private timer: NodeJS.Timeout | undefined
  /** The flush in progress, and what it stores (still this process's latest uses meanwhile). */
  private flushing: { readonly batch: ReadonlyMap<string, KeyUse>; readonly done: Promise<void> } | undefined
  private trackingStart: number | undefined
  /** No flush for being over MAX_NOTED before this (epoch ms): set by a failed flush. */
  private retryAt = 0
  private readonly clock: () => number

  constructor(store: SettingStore, writer: KeyUseWriter = storeOnThisThread(store), clock: () => number = Date.now) {
    this.store = store
    this.writer = writer
    this.clock = clock
  }

  /** Records when tracking began on this store, once, and flushes every few seconds. */
  async start(now: number): Promise<void> {
    const stored = await this.store.getSetting(TRACKING_START)
    if (stored === undefined) await this.store.putSetting(TRACKING_START, String(now))
    this.trackingStart = stored === undefined ? now : Number(stored)
    this.timer = setInterval(() => void this.flush(), LAST_USAGE_FLUSH_MS)
    this.timer.unref()
  }

  /** When tracking began for a key created at `created` (the later of the two). */
  trackingStartFor(created: number): number {
    return Math.max(this.trackingStart ?? created, created)
  }

  /** The request path: remember the latest use of `arn`. */
  note(arn: string, use: KeyUse): void {
    this.noted.set(arn, use)
    if (this.noted.size >= MAX_NOTED && this.clock() >= this.retryAt) void this.flush()
  }

  /** The latest use of `arn` known here or stored, not before `since` (the key's creation). */
  async get(arn: string, since: number): Promise<KeyUse | undefined> {
    const mine = this.noted.get(arn) ?? this.flushing?.batch.get(arn)
    // Uses stored before the key_usage table are in the settings.
    const text = (await this.store.getKeyUse(arn))?.use ?? (await this.store.getSetting(usageSetting(arn)))
    const stored = text === undefined ? undefined : (JSON.parse(text) as KeyUse)
    const latest = mine === undefined ? stored : stored === undefined || mine.time >= stored.time ? mine : stored
    return latest !== undefined && latest.time >= since ? latest : undefined
  }

  /** Stores what was noted since the last flush, each use only if newer than the stored one. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing.done
    const batch = this.noted
    this.noted = new Map()
    const done = this.write(batch).finally(() => (this.flushing = undefined))
    this.flushing = { batch, done }
    return done
  }

  private async write(batch: Map<string, KeyUse>): Promise<void> {
    if (batch.size === 0) return
    try {
      await this.writer.storeKeyUses(batch)
    } catch {
      // The store is down: keep the uses for the next flush, unless newer ones were noted.
      for (const [arn, use] of batch) if (!this.noted.has(arn)) this.noted.set(arn, use)
      this.retryAt = this.clock() + FLUSH_RETRY_MS
    }
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.flush()
  }
}
