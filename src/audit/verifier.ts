// The audit chain, verified while the service runs: every `--audit-verify-seconds` (default
// VERIFY_INTERVAL_MS) the process holding
// the `audit-verify` lease (one per deployment, like the deletion sweep) checks the whole chain
// from the anchor with the keyed hashes, as `macaw audit verify` does, and reports the result in
// /metrics (macaw_audit_chain_verified_records, macaw_audit_chain_broken,
// macaw_audit_chain_checked_timestamp_seconds), where Prometheus alerts on it and the console shows it.
//
// Bounded: one pass reads at most MAX_PER_PASS records, in pages of PAGE with a turn of the event
// loop between pages (a page is read and checked synchronously on SQLite: 5,000 at once stalled
// every request for about half a second); a longer trail is checked over several passes (a cycle),
// and the report counts the last complete cycle. Retention moving the anchor restarts the cycle
// from the new anchor.
import type { Logger } from 'pino'
import type { AuditStore, LeaseStore } from '../store/store.js'
import { verifyPage, type ChainProblem, type ChainState } from './chain.js'
import type { ChainKey } from './chain-key.js'

export const VERIFY_INTERVAL_MS = 30_000
const MAX_PER_PASS = 20_000
const PAGE = 500
const LEASE = 'audit-verify'

export interface ChainReport {
  /** Records of the last complete cycle: from the anchor (the start, or the last record removed by retention) to the newest. */
  readonly verified: number
  readonly problem: ChainProblem | undefined
  /** When the last cycle finished, or the break was found (epoch ms); 0 before, or in a process without the lease. */
  readonly checkedAt: number
}

export class ChainVerifier {
  /** The cycle in progress: from the anchor it started at, up to the last record checked. */
  private cycle: { readonly anchorSeq: number; readonly state: ChainState; count: number } | undefined
  private verified = 0
  private problem: ChainProblem | undefined
  private checkedAt = 0
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private readonly owner = `${process.pid}-${Math.random().toString(36).slice(2)}`
  private intervalMs = VERIFY_INTERVAL_MS

  private readonly store: Pick<AuditStore, 'queryAudit' | 'auditAnchor'> & LeaseStore
  private readonly key: ChainKey
  private readonly logger: Logger

  constructor(store: Pick<AuditStore, 'queryAudit' | 'auditAnchor'> & LeaseStore, key: ChainKey, logger: Logger) {
    this.store = store
    this.key = { key: Buffer.from(key.key), unkeyedUpTo: key.unkeyedUpTo }
    this.logger = logger
  }

  get report(): ChainReport {
    return { verified: this.verified, problem: this.problem, checkedAt: this.checkedAt }
  }

  /** Runs a pass now, or waits for the one running (never two at once). */
  verifyNow(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: unknown) => this.logger.error({ err }, 'audit chain verification failed to run'))
      .finally(() => (this.running = undefined))
    return this.running
  }

  start(intervalMs = VERIFY_INTERVAL_MS): void {
    this.intervalMs = intervalMs
    const tick = (): void => void this.verifyNow()
    // The first pass soon after start, then every interval.
    setTimeout(tick, Math.min(intervalMs, 2000)).unref()
    this.timer = setInterval(tick, intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.running
    await this.store.acquireLease(LEASE, this.owner, Date.now(), -1).catch(() => false)
    this.key.key.fill(0)
  }

  /**
   * One pass (when this process holds the lease): the next records of the current cycle. A cycle
   * goes from the anchor to the newest record, so an edit of an old record is found too; when it
   * reaches the newest record, the report is updated and the next pass starts a new cycle.
   */
  private async pass(): Promise<void> {
    if (!(await this.store.acquireLease(LEASE, this.owner, Date.now(), this.intervalMs * 3))) {
      // Another process verifies: report nothing of our own.
      this.checkedAt = 0
      this.cycle = undefined
      return
    }
    // A break stays reported until the process restarts: an integrity alarm must not clear itself.
    if (this.problem !== undefined) return
    const anchor = await this.store.auditAnchor()
    // Retention moved the anchor: start again from it.
    if (this.cycle === undefined || this.cycle.anchorSeq !== anchor.seq) this.cycle = { anchorSeq: anchor.seq, state: { ...anchor }, count: 0 }
    const cycle = this.cycle
    for (let read = 0; read < MAX_PER_PASS; ) {
      const rows = await this.store.queryAudit({ afterSeq: cycle.state.seq, limit: PAGE })
      // The last page (a committed snapshot: every batch in it ends with its seal) must end sealed.
      const problem = verifyPage(anchor, rows, cycle.state, this.key, rows.length < PAGE)
      if (problem !== undefined) {
        // Records pruned while we read them look missing: that is retention, not a break.
        if ((await this.store.auditAnchor()).seq !== anchor.seq) {
          this.cycle = undefined
          return
        }
        this.logger.error({ seq: problem.seq, eventId: problem.eventId }, `audit chain broken: ${problem.reason}`)
        this.problem = problem
        this.checkedAt = Date.now()
        return
      }
      cycle.count += rows.length
      read += rows.length
      if (rows.length < PAGE) {
        this.verified = cycle.count
        this.checkedAt = Date.now()
        this.cycle = undefined
        return
      }
      // Requests waiting meanwhile go first.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
