// CloudTrail's API on the KMS port, for the one operation macaw serves: LookupEvents over the audit
// trail (AWS JSON 1.1, X-Amz-Target com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*,
// SigV4 service `cloudtrail`). Order as for KMS: admission (audit), the envelope, SigV4 (before
// the body is parsed), the caller's identity policy (`cloudtrail:LookupEvents`), then metrics and
// one audit record (eventSource cloudtrail.amazonaws.com), as CloudTrail records its own lookups.
import { AUDIT_LIMITS, capped } from '../audit/event.js'
import { auditIdentityOf } from '../audit/identity.js'
import { AuditTrail } from '../audit/trail.js'
import { accessDenied, decideIdentityAccess } from '../auth/authorize.js'
import { conditionLookup, requestFactsOf } from '../auth/context.js'
import type { Caller, CredentialResolver } from '../auth/principals.js'
import { SigV4Verifier } from '../auth/sigv4.js'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics/index.js'
import { ThrottlingException, UnknownOperationException } from '../protocol/errors.js'
import { CLOUDTRAIL_THROTTLING_MESSAGE, type Throttle } from '../quotas/throttle.js'
import {
  accessKeyIdOf,
  errorResponse,
  headerValue,
  jsonContentType,
  normalizeIp,
  outcomeOf,
  parseBody,
  unauditedError,
  userAgentOf,
  type KmsRequest,
  type KmsResponse,
} from '../protocol/wire.js'
import type { AuditStore } from '../store/store.js'
import { lookupEvents, parseLookup, type LookupQuery } from './lookup-events.js'

/** botocore and the CLI send the full shape id; the JS SDK v3 sends the service's short name. */
const TARGET_PREFIXES = ['com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.', 'CloudTrail_20131101.'] as const

/** Is this a CloudTrail API request (by its X-Amz-Target)? */
export function isCloudTrailRequest(req: KmsRequest): boolean {
  return cloudTrailOperation(req) !== undefined
}

/** The operation named after one of CloudTrail's target prefixes, or undefined. */
function cloudTrailOperation(req: KmsRequest): string | undefined {
  const target = headerValue(req.headers['x-amz-target'])
  if (target === undefined) return undefined
  const prefix = TARGET_PREFIXES.find((p) => target.startsWith(p))
  return prefix === undefined ? undefined : target.slice(prefix.length)
}

export class CloudTrail {
  private readonly verifier: SigV4Verifier
  private readonly credentials: CredentialResolver
  private readonly store: Pick<AuditStore, 'scanAudit'>
  private readonly audit: AuditTrail
  private readonly metrics: Metrics
  private readonly now: () => number
  private readonly region: string
  private readonly partition: string
  private readonly throttle: Throttle | undefined

  /** `throttle`: the node's request quotas (`--throttle`), LookupEvents' among them. */
  constructor(
    config: Config,
    credentials: CredentialResolver,
    store: Pick<AuditStore, 'scanAudit'>,
    audit: AuditTrail,
    metrics: Metrics,
    now: () => number,
    throttle: Throttle | undefined,
  ) {
    this.throttle = throttle
    this.verifier = new SigV4Verifier({ service: 'cloudtrail', clockSkewMs: config.clockSkewMs, regions: config.regions })
    this.credentials = credentials
    this.store = store
    this.audit = audit
    this.metrics = metrics
    this.now = now
    this.region = config.region
    this.partition = config.partition
  }

  async handle(req: KmsRequest): Promise<KmsResponse> {
    const started = performance.now()
    let caller: Caller | undefined
    let region = this.region
    let query: LookupQuery | undefined
    let unaudited = false
    let response: KmsResponse
    const name = cloudTrailOperation(req) ?? ''
    const known = name === 'LookupEvents'
    try {
      if (!(await this.audit.admitWhenRoom())) {
        unaudited = true
        throw unauditedError(this.audit.storeUnreachable)
      }
      if (req.method !== 'POST' || jsonContentType(req) !== true) {
        throw new UnknownOperationException('CloudTrail requests are POST / with Content-Type application/x-amz-json-1.1.')
      }
      if (!known) throw new UnknownOperationException(`Operation ${name.slice(0, 64)} is not supported by this service: macaw serves CloudTrail's LookupEvents only.`)
      const verified = await this.credentials.verify(this.verifier, req)
      caller = verified.principal.caller
      region = verified.region
      const body = parseBody(req.body)
      if (this.throttle !== undefined && !this.throttle.take(caller.accountId, region, name, Date.now())) throw new ThrottlingException(CLOUDTRAIL_THROTTLING_MESSAGE)
      query = parseLookup(body)
      const facts = requestFactsOf(caller, { sourceIp: normalizeIp(req.remoteAddress), secure: req.secure === true, now: this.now(), region })
      const action = 'cloudtrail:LookupEvents'
      const resource = `arn:${this.partition}:cloudtrail:${region}:${caller.accountId}:*`
      const decision = decideIdentityAccess(caller, action, resource, conditionLookup(facts, undefined, undefined))
      // CloudTrail's denial of LookupEvents names no resource.
      if (!decision.allowed) throw accessDenied(caller, action, undefined, decision.reason)
      const result = await lookupEvents(this.store, caller.accountId, query)
      response = { status: 200, body: JSON.stringify(result), operation: name }
    } catch (err) {
      response = errorResponse(err, known ? name : undefined)
    }
    this.observe(req, started, response, { name: known ? name : 'Unknown', caller, region, query, unaudited })
    return response
  }

  private observe(
    req: KmsRequest,
    started: number,
    response: KmsResponse,
    seen: { name: string; caller: Caller | undefined; region: string; query: LookupQuery | undefined; unaudited: boolean },
  ): void {
    const error = response.error?.code
    this.metrics.observeRequest(`cloudtrail:${seen.name}`, outcomeOf(response.status), error ?? '', (performance.now() - started) / 1000)
    if (!this.audit.enabled || seen.unaudited) return
    const caller = seen.caller
    const q = seen.query
    this.audit.record({
      time: this.now(),
      requestId: req.requestId,
      eventId: AuditTrail.eventId(),
      operation: seen.name,
      eventSource: 'cloudtrail.amazonaws.com',
      readOnly: true,
      region: seen.region,
      sourceIp: normalizeIp(req.remoteAddress),
      userAgent: capped(userAgentOf(req), AUDIT_LIMITS.userAgentChars),
      identity: caller ? auditIdentityOf(caller) : { type: 'Unknown', ...accessKeyIdOf(req) },
      requestParameters:
        caller === undefined || q === undefined
          ? null
          : {
              ...(q.attribute === undefined ? {} : { lookupAttributes: [{ attributeKey: q.attribute.key, attributeValue: capped(q.attribute.value, 256) }] }),
              ...(q.start === undefined ? {} : { startTime: new Date(q.start).toISOString() }),
              ...(q.end === undefined ? {} : { endTime: new Date(q.end).toISOString() }),
              maxResults: q.maxResults,
            },
      responseElements: null,
      errorCode: error,
      errorMessage: response.error?.hasMessage === true ? response.error.message : undefined,
    })
  }
}
