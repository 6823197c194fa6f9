// Readiness (/readyz): the store answers, the root of trust wraps and unwraps, it opens a sample
// of what is stored, the store's current root is configured here, and audit records can be
// stored. Details go to the log; the answer (seen by anyone) names only what is wrong.
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { AuditTrail } from '../audit/trail.js'
import type { Store } from '../store/store.js'
import { trialOpen } from '../trial-open.js'
import type { RootRing } from '../trust/ring.js'

/** How long one probe of the store and root is reused. */
const PROBE_MS = 2000
/** How often a sample of stored envelopes is opened for real. */
const SAMPLE_MS = 60_000

export class Readiness {
  private probed: { at: number; problems: string[] } | undefined
  private sampled: { at: number; ok: boolean } | undefined

  private readonly store: Store
  private readonly root: RootRing
  private readonly audit: AuditTrail
  private readonly partition: string
  private readonly logger: Logger

  constructor(
    store: Store,
    root: RootRing,
    audit: AuditTrail,
    partition: string,
    logger: Logger,
  ) {
    this.store = store
    this.root = root
    this.audit = audit
    this.partition = partition
    this.logger = logger
  }

  /** What keeps this node from serving; empty when it is ready. */
  async problems(): Promise<string[]> {
    const now = performance.now()
    if (this.probed === undefined || now - this.probed.at >= PROBE_MS) this.probed = { at: now, problems: await this.probe() }
    // The audit state is read afresh: it changes with every write.
    return this.audit.enabled && !this.audit.healthy ? [...this.probed.problems, 'audit: records cannot be stored'] : this.probed.problems
  }

  private async probe(): Promise<string[]> {
    const problems: string[] = []
    try {
      await this.store.getAccessKey('AKIAMACAWREADINESS00')
    } catch (err) {
      this.logger.error({ err }, 'readiness: the store does not answer')
      problems.push('store: not reachable')
    }
    try {
      const probe = randomBytes(32)
      const back = await this.root.unwrapKey(await this.root.wrapKey(probe))
      if (!back.equals(probe)) problems.push('root of trust: unwrap returned other bytes')
    } catch (err) {
      this.logger.error({ err }, 'readiness: the root of trust does not wrap and unwrap')
      problems.push('root of trust: not usable')
    }
    // A root that works but is not the one the store was sealed under (a restore with the wrong
    // key) would answer every MAC with 500: open a sample of stored envelopes, once a minute.
    const now = performance.now()
    if (this.sampled === undefined || now - this.sampled.at >= SAMPLE_MS) {
      let failed = 0
      try {
        failed = await trialOpen(this.store, this.root, this.partition)
      } catch (err) {
        this.logger.error({ err }, 'readiness: cannot read stored envelopes to try them')
      }
      if (failed > 0) this.logger.error({ failed }, 'readiness: the root of trust cannot open sampled stored secrets')
      this.sampled = { at: now, ok: failed === 0 }
    }
    if (!this.sampled.ok) problems.push('root of trust: cannot open stored secrets')
    if (this.root.problem !== undefined) problems.push(this.root.problem)
    return problems
  }
}
