// CloudTrail-shaped KMS events (one per request, allowed or denied, authenticated or not) and the
// indexed row stored for each. Request parameters are copied from an allow-list: never Message,
// Mac, grant tokens, plaintext or anything else secret.
import type { NewAuditRow } from '../store/store.js'

export interface AuditIdentity {
  readonly type: 'Root' | 'IAMUser' | 'AssumedRole' | 'WebIdentityUser' | 'Unknown'
  /** CloudTrail's principalId; by default the account id (root) or `<account>:<user name>`. */
  readonly principalId?: string
  readonly arn?: string
  readonly accountId?: string
  readonly accessKeyId?: string
  readonly userName?: string
  /** Temporary credentials: the session's issuer (a role) and when it was issued, as CloudTrail shows them. */
  readonly sessionContext?: Readonly<Record<string, unknown>>
  /** A web identity (AssumeRoleWithWebIdentity): its provider and subject. */
  readonly identityProvider?: string
}

export interface AuditInput {
  readonly time: number
  readonly requestId: string
  readonly eventId: string
  readonly operation: string
  /** The service called; KMS unless named. */
  readonly eventSource?: 'kms.amazonaws.com' | 'sts.amazonaws.com' | 'cloudtrail.amazonaws.com'
  /** A resource other than a key the request was about (an STS role). */
  readonly resource?: { readonly type: string; readonly arn: string; readonly accountId: string }
  readonly readOnly: boolean
  readonly region: string
  readonly sourceIp: string | undefined
  readonly userAgent: string | undefined
  readonly identity: AuditIdentity
  /** From requestParameters(): the allow-listed request members (taken at once, so that the
   * request body itself is not kept alive until the next flush). */
  readonly requestParameters: Record<string, unknown> | null
  /** From responseElements(), on success. */
  readonly responseElements: Record<string, unknown> | null
  readonly errorCode?: string | undefined
  readonly errorMessage?: string | undefined
  /** The ARN of the key the request resolved to, if it got that far. */
  readonly keyArn?: string | undefined
}

/** Request members that are safe to record, as CloudTrail names them (lowerCamelCase). */
const SAFE_REQUEST_MEMBERS = [
  'KeyId',
  'MacAlgorithm',
  'KeySpec',
  'CustomerMasterKeySpec',
  'KeyUsage',
  'Origin',
  'MultiRegion',
  'Description',
  'AliasName',
  'TargetKeyId',
  'GranteePrincipal',
  'RetiringPrincipal',
  'Operations',
  'Name',
  'GrantId',
  'PendingWindowInDays',
  'TagKeys',
  'Tags',
  'DryRun',
  'Limit',
  'BypassPolicyLockoutSafetyCheck',
  'PolicyName',
  'NumberOfBytes',
  'ReplicaRegion',
  'PrimaryRegion',
] as const

/**
 * Size caps, so that every stored record has a bounded size whatever a request carries: about
 * 16 KB at most (see MAX_AUDIT_RECORD_BYTES). Whatever is cut is marked with TRUNCATED.
 */
export const AUDIT_LIMITS = {
  /** One string value of requestParameters or responseElements. */
  valueChars: 2048,
  /** All of requestParameters, and all of responseElements, each. */
  membersChars: 6144,
  userAgentChars: 1024,
  errorMessageChars: 1024,
} as const
/** What a record can weigh at the most, as JSON text (asserted by the tests). */
export const MAX_AUDIT_RECORD_BYTES = 16 * 1024
export const TRUNCATED = '...[truncated]'

/** A string cut to `max` characters, marked when it was cut. */
export function capped(value: string | undefined, max: number): string | undefined {
  return value === undefined || value.length <= max ? value : value.slice(0, max) + TRUNCATED
}

function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

/** A copy of `value` within a character budget shared by all members of one record field. */
class Copier {
  left: number = AUDIT_LIMITS.membersChars
  truncated = false

  value(value: unknown, depth = 0): unknown {
    if (this.left <= 0) {
      this.truncated = true
      return undefined
    }
    if (typeof value === 'string') {
      const out = capped(value, Math.min(AUDIT_LIMITS.valueChars, this.left)) ?? ''
      if (out !== value) this.truncated = true
      this.left -= out.length + 3
      return out
    }
    this.left -= 8
    if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value
    if (depth > 2) return undefined
    if (Array.isArray(value)) {
      const out: unknown[] = []
      for (const v of value.slice(0, 100)) {
        const copy = this.value(v, depth + 1)
        if (copy === undefined) break
        out.push(copy)
      }
      if (out.length < value.length) this.truncated = true
      return out
    }
    if (typeof value === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 50)) {
        const copy = this.value(v, depth + 1)
        if (copy === undefined) break
        out[camel(k).slice(0, 128)] = copy
        this.left -= Math.min(k.length, 128) + 3
      }
      return out
    }
    return undefined
  }

  /** The members, with a marker member if anything was cut. */
  finish(out: Record<string, unknown>): Record<string, unknown> {
    if (this.truncated) out['macawTruncated'] = true
    return out
  }
}

/**
 * The members of an operation's request that its records show: the safe ones its request has.
 * Unknown members are ignored by the operation (AWS's JSON protocol), and not recorded either.
 */
export function auditedMembers(requestMembers: readonly string[]): readonly string[] {
  return SAFE_REQUEST_MEMBERS.filter((name) => requestMembers.includes(name))
}

/**
 * The request's safe members (`members`: its operation's auditedMembers(); all safe members when
 * the operation is not known). One lookup per member the operation can have: looking up all 25
 * safe members cost each request about 2,600 instructions.
 */
export function requestParameters(request: Record<string, unknown> | undefined, members: readonly string[] = SAFE_REQUEST_MEMBERS): Record<string, unknown> | null {
  if (request === undefined) return null
  const copier = new Copier()
  const out: Record<string, unknown> = {}
  for (const name of members) {
    if (!Object.hasOwn(request, name)) continue
    const copy = copier.value(request[name])
    if (copy !== undefined) out[camel(name)] = copy
  }
  return copier.finish(out)
}

/** What responses may show: identifiers and states, never MACs, tokens or random bytes. */
export function responseElements(operation: string, response: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (response === undefined) return null
  switch (operation) {
    case 'CreateKey':
    case 'ReplicateKey':
    {
      const copier = new Copier()
      return copier.finish({ keyMetadata: copier.value(response['KeyMetadata']) })
    }
    case 'CreateGrant':
      return { grantId: response['GrantId'] }
    case 'ScheduleKeyDeletion':
      return { keyId: response['KeyId'], deletionDate: response['DeletionDate'], keyState: response['KeyState'], pendingWindowInDays: response['PendingWindowInDays'] }
    case 'CancelKeyDeletion':
      return { keyId: response['KeyId'] }
    default:
      return null
  }
}

/** CloudTrail's userIdentity for an identity. */
function userIdentityOf(id: AuditIdentity): Record<string, unknown> {
  const userIdentity: Record<string, unknown> = { type: id.type }
  if (id.arn !== undefined) {
    userIdentity['principalId'] = id.principalId ?? (id.type === 'Root' ? id.accountId : `${id.accountId ?? ''}:${id.userName ?? ''}`)
    userIdentity['arn'] = id.arn
    userIdentity['accountId'] = id.accountId
    userIdentity['accessKeyId'] = id.accessKeyId
    if (id.userName !== undefined) userIdentity['userName'] = id.userName
    if (id.sessionContext !== undefined) userIdentity['sessionContext'] = id.sessionContext
  } else if (id.principalId !== undefined) {
    // A web identity: no ARN of its own (CloudTrail's WebIdentityUser).
    userIdentity['principalId'] = id.principalId
    if (id.userName !== undefined) userIdentity['userName'] = id.userName
    if (id.identityProvider !== undefined) userIdentity['identityProvider'] = id.identityProvider
  } else if (id.accessKeyId !== undefined) {
    userIdentity['accessKeyId'] = id.accessKeyId
  }
  return userIdentity
}

/** userIdentity as JSON text, once per identity: callers keep theirs (identity.ts). */
const identityTexts = new WeakMap<AuditIdentity, string>()

function identityText(id: AuditIdentity): string {
  let text = identityTexts.get(id)
  if (text === undefined) identityTexts.set(id, (text = JSON.stringify(userIdentityOf(id))))
  return text
}

/**
 * A string as JSON text. Most of a record's strings (ids, names, ARNs, addresses) have nothing to
 * escape and are quoted as they are; any other goes through JSON.stringify. Each JSON.stringify
 * call cost about 2,300 instructions whatever the string, and a fixed RegExp test about 1,000
 * (callgrind); a record has about a dozen such strings. The loop is as long as the string, and
 * every string here is bounded (AUDIT_LIMITS, or the request's header size). It stops at what
 * JSON.stringify would change: a quote, a backslash, a control character, a surrogate (a lone
 * one is escaped).
 */
function jsonString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(value)
  }
  return `"${value}"`
}

/** JSON text of a member that may be null (JSON.stringify's answer for undefined is not text). */
function jsonObject(value: Record<string, unknown> | null): string {
  return value === null ? 'null' : JSON.stringify(value)
}

/**
 * The ISO 8601 text of an epoch-ms time, as Date's toISOString writes it. Records of the same
 * second share all but the milliseconds, so that part is formatted once per second: toISOString
 * cost about 7,500 instructions a call (callgrind), more than the rest of a record's members.
 */
let isoSecond = Number.NaN
let isoPrefix = ''
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms)) return new Date(ms).toISOString()
  const millis = ((ms % 1000) + 1000) % 1000
  const second = ms - millis
  if (second !== isoSecond) {
    // "YYYY-MM-DDTHH:MM:SS." (or an expanded year), without the milliseconds and the Z.
    isoPrefix = new Date(second).toISOString().slice(0, -4)
    isoSecond = second
  }
  return `${isoPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`
}

/** The account of an ARN (`arn:partition:service:region:account:...`), or undefined if it has no such field. */
function arnAccount(arn: string): string | undefined {
  let start = 0
  for (let field = 0; field < 4; field++) {
    const colon = arn.indexOf(':', start)
    if (colon < 0) return undefined
    start = colon + 1
  }
  const end = arn.indexOf(':', start)
  return end < 0 ? arn.slice(start) : arn.slice(start, end)
}

/** CloudTrail's `resources`: the one resource a request was about, if any. */
function resourcesText(accountId: string | undefined, type: string, arn: string): string {
  // JSON.stringify leaves out a member whose value is undefined.
  const account = accountId === undefined ? '' : `"accountId":${jsonString(accountId)},`
  return `[{${account}"type":${jsonString(type)},"ARN":${jsonString(arn)}}]`
}

/**
 * What an event holds besides its indexed columns (time, eventID, eventName, the key ARN), each
 * member as its JSON text. `resources` and `recipientAccountId` are '' when they are those of the
 * key in the key ARN column (almost every record): they are then derived from it.
 */
interface EventParts {
  readonly userIdentity: string
  /** '' for kms.amazonaws.com. */
  readonly eventSource: string
  readonly awsRegion: string
  readonly sourceIPAddress: string
  readonly userAgent: string
  /** '' when the request succeeded. */
  readonly errorCode: string
  readonly errorMessage: string
  readonly requestParameters: string
  readonly responseElements: string
  readonly requestID: string
  readonly readOnly: string
  readonly resources: string
  readonly recipientAccountId: string
}

/** The first line of a stored record in the compact form (a whole event's text starts with `{`). */
const COMPACT = 'c1'

function eventParts(input: AuditInput): EventParts {
  const id = input.identity
  const resource = input.resource
  const keyAccount = input.keyArn === undefined ? undefined : arnAccount(input.keyArn)
  const ofKey = keyAccount !== undefined
  const accountId = keyAccount ?? resource?.accountId ?? id.accountId
  const failed = input.errorCode !== undefined
  return {
    userIdentity: identityText(id),
    eventSource: input.eventSource === undefined || input.eventSource === 'kms.amazonaws.com' ? '' : jsonString(input.eventSource),
    awsRegion: jsonString(input.region),
    sourceIPAddress: jsonString(input.sourceIp ?? ''),
    userAgent: jsonString(capped(input.userAgent, AUDIT_LIMITS.userAgentChars) ?? ''),
    errorCode: failed ? jsonString(input.errorCode) : '',
    errorMessage: failed ? jsonString(capped(input.errorMessage, AUDIT_LIMITS.errorMessageChars) ?? '') : '',
    requestParameters: jsonObject(input.requestParameters),
    responseElements: jsonObject(failed ? null : input.responseElements),
    requestID: jsonString(input.requestId),
    readOnly: input.readOnly ? 'true' : 'false',
    resources: ofKey
      ? ''
      : input.keyArn !== undefined
        ? resourcesText(accountId, 'AWS::KMS::Key', input.keyArn)
        : resource !== undefined
          ? resourcesText(resource.accountId, resource.type, resource.arn)
          : '[]',
    recipientAccountId: ofKey ? '' : jsonString(accountId ?? ''),
  }
}

/** The indexed columns an event's text is rendered with. */
type EventColumns = Pick<NewAuditRow, 'time' | 'eventId' | 'eventName' | 'keyArn'>

/** An event's CloudTrail JSON text, from its columns and the rest of its members. */
function renderEvent(row: EventColumns, p: EventParts): string {
  let resources = p.resources
  let recipient = p.recipientAccountId
  if (resources === '' || recipient === '') {
    const account = row.keyArn === undefined ? undefined : arnAccount(row.keyArn)
    if (row.keyArn === undefined || account === undefined) throw new Error('malformed audit record: its key ARN column names no account')
    if (resources === '') resources = resourcesText(account, 'AWS::KMS::Key', row.keyArn)
    if (recipient === '') recipient = jsonString(account)
  }
  const error = p.errorCode === '' ? '' : `"errorCode":${p.errorCode},"errorMessage":${p.errorMessage},`
  return (
    `{"eventVersion":"1.11","userIdentity":${p.userIdentity},"eventTime":"${isoTime(row.time)}",` +
    `"eventSource":${p.eventSource === '' ? '"kms.amazonaws.com"' : p.eventSource},"eventName":${jsonString(row.eventName)},"awsRegion":${p.awsRegion},` +
    `"sourceIPAddress":${p.sourceIPAddress},"userAgent":${p.userAgent},${error}` +
    `"requestParameters":${p.requestParameters},"responseElements":${p.responseElements},` +
    `"requestID":${p.requestID},"eventID":${jsonString(row.eventId)},"readOnly":${p.readOnly},"resources":${resources},` +
    `"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":${recipient},"eventCategory":"Management"}`
  )
}

/**
 * The request's CloudTrail event as JSON text. Written member by member rather than built as an
 * object and serialised: most of the text is the same in every record, and serialising it walked
 * and escaped all of it (about a fifth of what a record cost). The tests hold it equal to
 * JSON.stringify of the event object.
 */
export function auditEventText(input: AuditInput): string {
  return renderEvent(columnsOf(input), eventParts(input))
}

function columnsOf(input: AuditInput): EventColumns {
  const keyArn = input.keyArn ?? input.resource?.arn
  return { time: input.time, eventId: input.eventId, eventName: input.operation, ...(keyArn === undefined ? {} : { keyArn }) }
}

/**
 * What is stored of a request's event (the `event` of its row, auditRow()): the compact form, the
 * members that its indexed columns do not hold, one JSON text a line, after the format line. What
 * every record repeats (eventVersion, eventType, the default eventSource...) and what the columns
 * hold (eventTime, eventName, eventID, the key's resources) is rendered on read by
 * cloudTrailText(). About 45 % of the bytes of the whole text, and so about half the trail's disk
 * writes and size (docs/performance.md). No member's JSON text holds a line break: JSON.stringify
 * and jsonString escape control characters.
 */
export function storedEvent(input: AuditInput): string {
  const p = eventParts(input)
  // In the order cloudTrailText() reads them.
  return (
    `${COMPACT}\n${p.userIdentity}\n${p.eventSource}\n${p.awsRegion}\n${p.sourceIPAddress}\n${p.userAgent}\n${p.errorCode}\n${p.errorMessage}\n` +
    `${p.requestParameters}\n${p.responseElements}\n${p.requestID}\n${p.readOnly}\n${p.resources}\n${p.recipientAccountId}`
  )
}

/**
 * A stored record's CloudTrail JSON text: its `event` as it is when that is a whole event (records
 * of earlier versions, summaries), or rendered from the compact form and the row's columns. Throws
 * on a compact record that is not well formed (only an edited store has one; verify says which).
 */
export function cloudTrailText(row: EventColumns & { readonly event: string }): string {
  if (!row.event.startsWith(`${COMPACT}\n`)) return row.event
  // A bounded split: the text is at most MAX_AUDIT_RECORD_BYTES.
  const lines = row.event.split('\n')
  const [, userIdentity, eventSource, awsRegion, sourceIPAddress, userAgent, errorCode, errorMessage, requestParameters, responseElements, requestID, readOnly, resources, recipientAccountId] = lines
  if (lines.length !== 14 || recipientAccountId === undefined) throw new Error('malformed audit record: not the compact form')
  // Each is defined: there are 14 lines.
  return renderEvent(row, {
    userIdentity: userIdentity ?? '',
    eventSource: eventSource ?? '',
    awsRegion: awsRegion ?? '',
    sourceIPAddress: sourceIPAddress ?? '',
    userAgent: userAgent ?? '',
    errorCode: errorCode ?? '',
    errorMessage: errorMessage ?? '',
    requestParameters: requestParameters ?? '',
    responseElements: responseElements ?? '',
    requestID: requestID ?? '',
    readOnly: readOnly ?? '',
    resources: resources ?? '',
    recipientAccountId,
  })
}

/**
 * The stored row of a request's event (`text`: storedEvent(input)): the indexed columns taken from
 * the input, as auditIndex() derives them from the event's whole text (the tests hold both equal).
 */
export function auditRow(input: AuditInput, text: string): NewAuditRow {
  const id = input.identity
  const keyArn = input.keyArn ?? input.resource?.arn
  return {
    time: input.time,
    eventId: input.eventId,
    eventName: input.operation,
    accountId: (id.arn === undefined ? undefined : id.accountId) ?? '',
    ...(keyArn === undefined ? {} : { keyArn }),
    principal: id.arn ?? '',
    outcome: input.errorCode === undefined ? 'success' : 'failure',
    event: text,
  }
}

/**
 * The indexed columns of a stored record, derived from its event (and re-derived by verify).
 * `time`, when the caller has it, is the event's eventTime as epoch ms (saves parsing it back).
 */
export function auditIndex(event: Record<string, unknown>, text: string, time?: number): NewAuditRow {
  const identity = event['userIdentity'] as { arn?: string; accountId?: string } | undefined
  const resources = event['resources'] as { ARN?: string }[] | undefined
  const keyArn = resources?.[0]?.ARN
  return {
    time: time ?? Date.parse(String(event['eventTime'])),
    eventId: String(event['eventID']),
    eventName: String(event['eventName']),
    accountId: identity?.accountId ?? '',
    ...(keyArn === undefined ? {} : { keyArn }),
    principal: identity?.arn ?? '',
    outcome: event['errorCode'] === undefined ? 'success' : 'failure',
    event: text,
  }
}

/** Unauthenticated requests from one source, refused with one error, counted in one interval. */
export interface RequestSummary {
  readonly sourceIp: string | undefined
  /** The error the counted requests were refused with. */
  readonly errorCode: string
  readonly region: string
  readonly count: number
  /** Epoch ms of the first and last request counted. */
  readonly first: number
  readonly last: number
}

/**
 * The record standing for unauthenticated requests from one source that were counted rather than
 * recorded one by one (a flood must not fill the disk): how many, refused with which error, when.
 */
export function summaryEvent(summary: RequestSummary, eventId: string): Record<string, unknown> {
  return {
    eventVersion: '1.11',
    userIdentity: { type: 'Unknown' },
    eventTime: new Date(summary.last).toISOString(),
    eventSource: 'kms.amazonaws.com',
    eventName: 'UnauthenticatedRequests',
    awsRegion: summary.region,
    sourceIPAddress: summary.sourceIp ?? '',
    userAgent: '',
    errorCode: summary.errorCode,
    errorMessage: `${summary.count} more unauthenticated request(s) from this source were refused with ${summary.errorCode} and counted here instead of recorded one by one.`,
    requestParameters: null,
    responseElements: null,
    additionalEventData: {
      summarisedRequests: summary.count,
      firstEventTime: new Date(summary.first).toISOString(),
      lastEventTime: new Date(summary.last).toISOString(),
    },
    requestID: '',
    eventID: eventId,
    readOnly: true,
    resources: [],
    eventType: 'MacawSummary',
    managementEvent: true,
    recipientAccountId: '',
    eventCategory: 'Management',
  }
}
