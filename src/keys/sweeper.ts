// Periodic jobs: deletes keys (with their aliases) whose deletion window has ended, and imported
// key material whose ValidTo has passed.
// Runs on a timer, and sooner when a request meets a key that is already past its window.
import type { Logger } from 'pino'
import { randomUUID } from 'node:crypto'
import { withoutMaterial } from './lifecycle.js'
import { StoreConflictError, type KeyRecord, type KeyStore, type LeaseStore } from '../store/store.js'

const DAY_MS = 24 * 3600 * 1000

export class Sweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true

  private readonly store: KeyStore & LeaseStore
  private readonly logger: Logger
  private readonly now: () => number
  private readonly intervalMs: number

  constructor(store: KeyStore & LeaseStore, logger: Logger, now: () => number, intervalMs: number) {
    this.store = store
    this.logger = logger
    this.now = now
    this.intervalMs = intervalMs
  }

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Gives the sweep lease up (at shutdown), so another process need not wait for it to expire. */
  async release(): Promise<void> {
    await this.running
    // An expiry in the past frees the lease if it is ours; someone else's is left alone.
    await this.store.acquireLease('sweeper', this.owner, Date.now(), -1).catch(() => false)
  }

  /** Asks for a sweep soon (a request found a key past its deletion date). */
  wake(): void {
    if (!this.stopped && !this.running) this.schedule(0)
  }

  /** This process's name for the sweep lease. */
  private readonly owner = randomUUID()

  /**
   * Deletes every key that is due, and the imported material whose ValidTo has passed, if this
   * process holds the sweep lease (one node or worker sweeps at a time; another takes over when
   * the holder stops renewing it). Each change is a compare-and-set as well.
   */
  async sweepOnce(): Promise<number> {
    const ttlMs = this.intervalMs * 2 + 5000
    if (!(await this.store.acquireLease('sweeper', this.owner, Date.now(), ttlMs))) return 0
    await this.expireMaterial()
    let deleted = 0
    for (;;) {
      const due = await this.store.listKeysDueForDeletion(this.now(), 100)
      for (const key of due) {
        if (await this.store.deleteKey(key.accountId, key.region, key.keyId)) {
          deleted++
          this.logger.info({ keyId: key.keyId, accountId: key.accountId, region: key.region }, 'key deleted at the end of its waiting period')
          if (key.multiRegion && key.primaryRegion !== undefined && key.primaryRegion !== key.region) await this.releasePrimary(key)
        }
      }
      if (due.length < 100) return deleted
    }
  }

  /** A primary waiting for its replicas (PendingReplicaDeletion) starts its own wait when the last goes. */
  private async releasePrimary(replica: KeyRecord): Promise<void> {
    const related = await this.store.listRelatedKeys(replica.accountId, replica.keyId)
    const primary = related.find((k) => k.region === replica.primaryRegion)
    if (primary?.state !== 'PendingReplicaDeletion' || related.length > 1) return
    // Its full window starts now (a record of an older version kept a date instead).
    const { pendingWindowDays, ...rest } = primary
    const deletionDate = pendingWindowDays !== undefined ? this.now() + pendingWindowDays * DAY_MS : Math.max(primary.deletionDate ?? 0, this.now())
    try {
      await this.store.updateKey({ ...rest, state: 'PendingDeletion', deletionDate })
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err
    }
  }

  /** Imported material past its ValidTo is deleted: the key goes back to PendingImport. */
  private async expireMaterial(): Promise<void> {
    for (;;) {
      const due = await this.store.listKeysWithExpiredMaterial(this.now(), 100)
      let changed = 0
      for (const key of due) {
        try {
          await this.store.updateKey(withoutMaterial(key))
          changed++
          this.logger.info({ keyId: key.keyId, accountId: key.accountId, region: key.region }, 'imported key material expired and was deleted')
        } catch (err) {
          // Changed meanwhile (re-imported?): the next sweep looks again.
          if (!(err instanceof StoreConflictError)) throw err
        }
      }
      if (due.length < 100 || changed === 0) return
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.running = this.sweepOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.error({ err }, 'deletion sweep failed'))
        .finally(() => {
          this.running = undefined
          if (!this.stopped) this.schedule(this.intervalMs)
        })
    }, delayMs)
    this.timer.unref()
  }
}
