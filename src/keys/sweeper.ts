// Periodic jobs: deletes keys (with their aliases) whose deletion window has ended.
// Runs on a timer, and sooner when a request meets a key that is already past its window.
import type { Logger } from 'pino'
import type { Store } from '../store/store.js'

export class Sweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true

  private readonly store: Store
  private readonly logger: Logger
  private readonly now: () => number
  private readonly intervalMs: number

  constructor(store: Store, logger: Logger, now: () => number, intervalMs: number) {
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

  /** Asks for a sweep soon (a request found a key past its deletion date). */
  wake(): void {
    if (!this.stopped && !this.running) this.schedule(0)
  }

  /** Deletes every key that is due; returns how many. */
  async sweepOnce(): Promise<number> {
    let deleted = 0
    for (;;) {
      const due = await this.store.listKeysDueForDeletion(this.now(), 100)
      for (const key of due) {
        if (await this.store.deleteKey(key.accountId, key.region, key.keyId)) {
          deleted++
          this.logger.info({ keyId: key.keyId, accountId: key.accountId, region: key.region }, 'key deleted at the end of its waiting period')
        }
      }
      if (due.length < 100) return deleted
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
