// Observation: the request metrics and one audit record for every request, whatever its outcome
// (allowed, failed, denied, unauthenticated, not even routable).
import { AUDIT_LIMITS, capped, requestParameters, responseElements, type AuditIdentity } from '../audit/event.js'
import { auditIdentityOf } from '../audit/identity.js'
import { AuditTrail } from '../audit/trail.js'
import type { Caller } from '../auth/principals.js'
import type { LastUsage } from '../keys/last-usage.js'
import type { Metrics, Outcome } from '../metrics/index.js'
import type { Operation } from '../operations/define.js'
import { accessKeyIdOf, outcomeOf, normalizeIp, userAgentOf, targetName, type KmsRequest, type KmsResponse } from '../protocol/wire.js'

/** What a request's handling learnt on its way, as far as it got. */
export interface Observed {
  /** Refused because its record could not have been stored. */
  unaudited: boolean
  operation: Operation
  body: Record<string, unknown>
  caller: Caller
  region: string
  /** Set once the request reached its handler. */
  ctx: { readonly facts: { readonly sourceIp: string | undefined }; readonly keyArn: string | undefined }
  output: Record<string, unknown>
}

/** The operations GetKeyLastUsage reports (the cryptographic ones an HMAC key performs). */
const TRACKED: ReadonlySet<string> = new Set(['GenerateMac', 'VerifyMac'])

export class Observer {
  private readonly metrics: Metrics
  private readonly audit: AuditTrail
  private readonly lastUsage: LastUsage
  private readonly defaultRegion: string
  private readonly now: () => number

  constructor(
    metrics: Metrics,
    audit: AuditTrail,
    lastUsage: LastUsage,
    defaultRegion: string,
    now: () => number,
  ) {
    this.metrics = metrics
    this.audit = audit
    this.lastUsage = lastUsage
    this.defaultRegion = defaultRegion
    this.now = now
  }

  observe(req: KmsRequest, started: number, response: KmsResponse, facts: Partial<Observed>): void {
    const name = facts.operation?.name ?? targetName(req)
    const error = response.error?.code
    const outcome: Outcome = outcomeOf(response.status)
    this.metrics.observeRequest(facts.operation?.name ?? 'Unknown', outcome, error ?? '', (performance.now() - started) / 1000)
    const eventId = this.audit.enabled && facts.unaudited !== true ? AuditTrail.eventId() : undefined
    const keyArn = facts.ctx?.keyArn
    if (outcome === 'success' && keyArn !== undefined && TRACKED.has(name)) {
      this.lastUsage.note(keyArn, { operation: name, time: this.now(), eventId, requestId: req.requestId })
    }
    if (eventId === undefined) return
    const caller = facts.caller
    const identity: AuditIdentity = caller ? auditIdentityOf(caller) : { type: 'Unknown', ...accessKeyIdOf(req) }
    this.audit.record({
      time: this.now(),
      requestId: req.requestId,
      eventId,
      operation: name,
      readOnly: facts.operation?.readOnly ?? false,
      region: facts.region ?? this.defaultRegion,
      sourceIp: facts.ctx?.facts.sourceIp ?? normalizeIp(req.remoteAddress),
      userAgent: capped(userAgentOf(req), AUDIT_LIMITS.userAgentChars),
      identity,
      // The body of a request whose signature did not verify is not kept: anyone could send it.
      requestParameters: caller ? requestParameters(facts.body, facts.operation?.auditedMembers) : null,
      responseElements: error === undefined ? responseElements(name, facts.output) : null,
      errorCode: error,
      errorMessage: response.error?.hasMessage === true ? response.error.message : undefined,
      keyArn: facts.ctx?.keyArn,
    })
  }
}
