// The STS service of one process, on the same port as KMS: a Query-protocol request (form body,
// no X-Amz-Target) becomes one XML answer. Order: admission (audit), SigV4 for the service `sts`
// (before the body is read for anything but routing), the operation, then metrics and one audit
// record (eventSource sts.amazonaws.com), as for KMS.
import type { Logger } from 'pino'
import { requestFactsOf } from '../auth/context.js'
import type { Caller } from '../auth/principals.js'
import { SigV4Verifier } from '../auth/sigv4.js'
import type { AuditTrail } from '../audit/trail.js'
import { AuditTrail as Trail } from '../audit/trail.js'
import { AUDIT_LIMITS, capped, type AuditIdentity } from '../audit/event.js'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics/index.js'
import { KmsError } from '../protocol/errors.js'
import { accessKeyIdOf, AUDIT_UNAVAILABLE, headerValue, normalizeIp, outcomeOf, userAgentOf, type KmsRequest, type KmsResponse } from '../protocol/wire.js'
import { StoreUnavailableError } from '../store/store.js'
import { auditIdentityOf } from '../audit/identity.js'
import { assumeRole } from './assume-role.js'
import { assumeRoleWithWebIdentity } from './assume-role-with-web-identity.js'
import { getCallerIdentity } from './get-caller-identity.js'
import { getSessionToken } from './get-session-token.js'
import { issuedElements, type StsContext, type StsOperation, type StsServices } from './operation.js'
import { Params, parseForm, StsError, STS_VERSION, XML_TYPE, xmlError, xmlResponse, type XmlMembers } from './query.js'

/** The STS operations, by Action; looked up with Object.hasOwn. */
export const STS_OPERATIONS: Readonly<Record<string, StsOperation>> = Object.freeze({
  AssumeRole: assumeRole,
  AssumeRoleWithWebIdentity: assumeRoleWithWebIdentity,
  GetCallerIdentity: getCallerIdentity,
  GetSessionToken: getSessionToken,
})

/** KMS's signature and credential errors, as the Query protocol names them (status, code). */
const AUTH_ERRORS: Readonly<Record<string, readonly [number, string]>> = {
  MissingAuthenticationTokenException: [403, 'MissingAuthenticationToken'],
  IncompleteSignatureException: [400, 'IncompleteSignature'],
  InvalidSignatureException: [403, 'SignatureDoesNotMatch'],
  UnrecognizedClientException: [403, 'InvalidClientTokenId'],
  ExpiredTokenException: [400, 'ExpiredToken'],
  AccessDeniedException: [403, 'AccessDenied'],
  ValidationException: [400, 'ValidationError'],
}


export class Sts {
  private readonly verifier: SigV4Verifier
  private readonly services: StsServices
  private readonly audit: AuditTrail
  private readonly metrics: Metrics
  private readonly logger: Logger
  private readonly now: () => number
  private readonly region: string

  constructor(config: Config, services: StsServices, audit: AuditTrail, metrics: Metrics, logger: Logger, now: () => number) {
    this.verifier = new SigV4Verifier({ service: 'sts', clockSkewMs: config.clockSkewMs, regions: config.regions })
    this.services = services
    this.audit = audit
    this.metrics = metrics
    this.logger = logger
    this.now = now
    this.region = config.region
  }

  async handle(req: KmsRequest): Promise<KmsResponse> {
    const started = performance.now()
    let operation: StsOperation | undefined
    let caller: Caller | undefined
    let region = this.region
    let ctx: StsContext | undefined
    let params: Params | undefined
    let response: KmsResponse
    let result: XmlMembers | undefined
    let unaudited = false
    try {
      if (!(await this.audit.admitWhenRoom())) {
        unaudited = true
        throw new StsError('ServiceUnavailable', 503, AUDIT_UNAVAILABLE, 'Receiver')
      }
      if (headerValue(req.headers['authorization']) !== undefined) {
        const verified = await this.services.credentials.verify(this.verifier, req)
        caller = verified.principal.caller
        region = verified.region
      }
      const form = parseForm(req.body)
      const action = form.get('Action') ?? ''
      operation = Object.hasOwn(STS_OPERATIONS, action) ? STS_OPERATIONS[action] : undefined
      if (operation === undefined || form.get('Version') !== STS_VERSION) {
        throw new StsError('InvalidAction', 400, `Could not find operation ${action.slice(0, 64)} for version ${(form.get('Version') ?? 'NO_VERSION_SPECIFIED').slice(0, 32)}`)
      }
      if (operation.signed && caller === undefined) throw new StsError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token')
      params = new Params(form)
      const now = this.now()
      const facts = requestFactsOf(caller ?? ANONYMOUS, { sourceIp: normalizeIp(req.remoteAddress), secure: req.secure === true, now, region })
      ctx = { services: this.services, caller, facts, now }
      result = await operation.run(ctx, params)
      response = { status: 200, body: xmlResponse(operation.name, result, req.requestId), operation: operation.name, contentType: XML_TYPE }
    } catch (err) {
      response = this.errorResponse(err, req.requestId, operation?.name)
    }
    this.observe(req, started, response, { operation, caller, region, ctx, form: params, unaudited, result })
    return response
  }

  private errorResponse(err: unknown, requestId: string, operation: string | undefined): KmsResponse {
    let error: StsError
    if (err instanceof StsError) error = err
    else if (err instanceof KmsError && Object.hasOwn(AUTH_ERRORS, err.code)) {
      const [status, code] = AUTH_ERRORS[err.code] ?? [400, 'ValidationError']
      error = new StsError(code, status, err.message)
    } else if (err instanceof StoreUnavailableError) {
      error = new StsError('ServiceUnavailable', 503, 'The service cannot reach its store right now. Try again later.', 'Receiver')
    } else {
      this.logger.error({ requestId, err }, 'internal error in STS')
      error = new StsError('InternalFailure', 500, 'The request processing has failed because of an unknown error, exception or failure.', 'Receiver')
    }
    return { status: error.status, body: xmlError(error, requestId), contentType: XML_TYPE, stsError: error, ...(operation === undefined ? {} : { operation }) }
  }

  private observe(
    req: KmsRequest,
    started: number,
    response: KmsResponse,
    seen: {
      operation: StsOperation | undefined
      caller: Caller | undefined
      region: string
      ctx: StsContext | undefined
      form: Params | undefined
      unaudited: boolean
      result: XmlMembers | undefined
    },
  ): void {
    const name = seen.operation?.name ?? 'Unknown'
    const error = response.stsError?.code
    this.metrics.observeRequest(`sts:${name}`, outcomeOf(response.status), error ?? '', (performance.now() - started) / 1000)
    if (!this.audit.enabled || seen.unaudited) return
    const caller = seen.caller
    this.audit.record({
      time: this.now(),
      requestId: req.requestId,
      eventId: Trail.eventId(),
      operation: name,
      eventSource: 'sts.amazonaws.com',
      readOnly: seen.operation?.readOnly ?? false,
      region: seen.region,
      sourceIp: normalizeIp(req.remoteAddress),
      userAgent: capped(userAgentOf(req), AUDIT_LIMITS.userAgentChars),
      identity: caller ? auditIdentityOf(caller) : webIdentityOf(seen.ctx?.webIdentity) ?? { type: 'Unknown', ...accessKeyIdOf(req) },
      requestParameters: caller && seen.operation && seen.form ? seen.form.audited(seen.operation.audited) : null,
      responseElements: seen.result === undefined ? null : issuedElements(seen.result),
      errorCode: error,
      errorMessage: response.stsError?.message,
      ...(seen.ctx?.role === undefined ? {} : { resource: { type: 'AWS::IAM::Role', arn: seen.ctx.role.arn, accountId: seen.ctx.role.accountId } }),
    })
  }
}

/** CloudTrail's WebIdentityUser: the token's provider, audience and subject. */
function webIdentityOf(web: StsContext['webIdentity']): AuditIdentity | undefined {
  if (web === undefined) return undefined
  return { type: 'WebIdentityUser', principalId: `${web.provider}:${web.audience}:${web.subject}`, userName: web.subject, identityProvider: web.provider }
}

/** The facts of an unsigned request (AssumeRoleWithWebIdentity): nobody yet. */
const ANONYMOUS: Caller = { type: 'WebIdentityUser', accountId: '', arn: '', accessKeyId: '', isRoot: false }
