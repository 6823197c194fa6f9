// CloudTrail's LookupEvents over macaw's audit records (the CloudTrail API Reference, LookupEvents):
// newest first, at most one lookup attribute, StartTime/EndTime, MaxResults 1 to 50 (default 50),
// and a NextToken bound to the parameters it was issued for. An account sees the records of its own
// callers and those about its own keys; nobody sees the records of unauthenticated requests.
//
// Bounded: one call reads at most SCAN_ROWS records, through the (time, seq) index from where the
// last page stopped. When those hold fewer matches than asked for, the answer carries fewer events
// and a NextToken, as CloudTrail's own answers can; the client pages on. No RegExp or pattern is built from request text: every attribute is an exact match.
import { createHash } from 'node:crypto'
import { cloudTrailText } from '../audit/event.js'
import {
  InvalidEventCategoryException,
  InvalidLookupAttributesException,
  InvalidMaxResultsException,
  InvalidNextTokenException,
  InvalidTimeRangeException,
  SerializationException,
} from '../protocol/errors.js'
import type { AuditRow, AuditStore } from '../store/store.js'

/** The records one call reads at the most. */
export const SCAN_ROWS = 500
export const DEFAULT_RESULTS = 50
const MAX_TOKEN_CHARS = 512

export const LOOKUP_ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const
type AttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number]

export interface LookupQuery {
  readonly attribute?: { readonly key: AttributeKey; readonly value: string }
  /** Epoch ms, inclusive. */
  readonly start?: number
  readonly end?: number
  readonly maxResults: number
  readonly insight: boolean
  readonly nextToken?: string
}

export interface LookupEvent {
  readonly EventId: string
  readonly EventName: string
  readonly ReadOnly: string
  readonly AccessKeyId?: string
  /** Epoch seconds (the JSON protocol's timestamps). */
  readonly EventTime: number
  readonly EventSource: string
  readonly Username?: string
  readonly Resources: { ResourceType: string; ResourceName: string }[]
  readonly CloudTrailEvent: string
}

function epochMs(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SerializationException(`${name} must be a timestamp (epoch seconds).`)
  const ms = Math.round(value * 1000)
  // Beyond what a date can be (±8.64e15 ms).
  if (Math.abs(ms) > 8.64e15) throw new InvalidTimeRangeException(`${name} is outside the range of possible times.`)
  return ms
}

/** A member's value as an error message shows it: short, whatever its type. */
function shown(value: unknown): string {
  return (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).slice(0, 64)
}

/** The request, validated (AWS's own texts for these errors are not recorded: ours, in the fixtures). */
export function parseLookup(body: Record<string, unknown>): LookupQuery {
  const attributes = body['LookupAttributes']
  let attribute: LookupQuery['attribute']
  if (attributes !== undefined && attributes !== null) {
    if (!Array.isArray(attributes)) throw new SerializationException('LookupAttributes must be a list.')
    if (attributes.length > 1) throw new InvalidLookupAttributesException('You cannot specify more than one lookup attribute.')
    const [first] = attributes as unknown[]
    if (first !== undefined) {
      const { AttributeKey: key, AttributeValue: value } = (first ?? {}) as Record<string, unknown>
      if (typeof key !== 'string' || !(LOOKUP_ATTRIBUTE_KEYS as readonly string[]).includes(key)) {
        throw new InvalidLookupAttributesException(`The attribute key '${shown(key)}' is not valid. Valid keys: ${LOOKUP_ATTRIBUTE_KEYS.join(', ')}.`)
      }
      if (typeof value !== 'string' || value.length < 1 || value.length > 2000) {
        throw new InvalidLookupAttributesException('The attribute value must be a string of 1 to 2000 characters.')
      }
      attribute = { key: key as AttributeKey, value }
    }
  }
  const start = epochMs('StartTime', body['StartTime'])
  const end = epochMs('EndTime', body['EndTime'])
  if (start !== undefined && end !== undefined && start > end) throw new InvalidTimeRangeException('The start time must not be after the end time.')
  const max = body['MaxResults']
  let maxResults = DEFAULT_RESULTS
  if (max !== undefined && max !== null) {
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) throw new InvalidMaxResultsException('MaxResults must be an integer from 1 to 50.')
    maxResults = max
  }
  const category = body['EventCategory']
  if (category !== undefined && category !== null && category !== 'insight') {
    throw new InvalidEventCategoryException(`The event category '${shown(category)}' is not valid. The only valid category is insight.`)
  }
  const token = body['NextToken']
  if (token !== undefined && token !== null && typeof token !== 'string') throw new SerializationException('NextToken must be a string.')
  return {
    ...(attribute === undefined ? {} : { attribute }),
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    maxResults,
    insight: category === 'insight',
    ...(typeof token === 'string' ? { nextToken: token } : {}),
  }
}

/** Where the scan goes on: records before this position, newest first by time then seq. */
interface Cursor {
  readonly time: number
  readonly seq: number
}

/** The parameters a token is bound to (MaxResults may change between pages, as CloudTrail allows). */
function fingerprint(q: LookupQuery, accountId: string): string {
  const bound = [accountId, q.attribute?.key ?? '', q.attribute?.value ?? '', q.start ?? '', q.end ?? '', q.insight]
  return createHash('sha256').update(JSON.stringify(bound)).digest('base64url').slice(0, 16)
}

function tokenOf(cursor: Cursor, q: LookupQuery, accountId: string): string {
  return Buffer.from(JSON.stringify([1, cursor.time, cursor.seq, fingerprint(q, accountId)])).toString('base64url')
}

function cursorOf(token: string, q: LookupQuery, accountId: string): Cursor {
  const invalid = new InvalidNextTokenException('The NextToken is not valid, or was issued for other parameters.')
  if (token.length > MAX_TOKEN_CHARS) throw invalid
  let parts: unknown
  try {
    parts = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw invalid
  }
  if (!Array.isArray(parts) || parts.length !== 4 || parts[0] !== 1) throw invalid
  const [, time, seq, print] = parts as unknown[]
  if (!Number.isSafeInteger(time) || !Number.isSafeInteger(seq) || print !== fingerprint(q, accountId)) throw invalid
  return { time: time as number, seq: seq as number }
}

/** Records of the account's callers, and records about the account's keys. */
function visible(row: AuditRow, accountId: string): boolean {
  if (row.accountId === accountId) return true
  // arn:<partition>:kms:<region>:<account>:key/<id>
  return row.keyArn !== undefined && row.keyArn.split(':')[4] === accountId
}

function sessionName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1)
}

/** CloudTrail's Username: the IAM user's name, the role session's name, `root`, or the web identity's subject. */
function usernameOf(identity: Record<string, unknown>): string | undefined {
  const type = identity['type']
  if (type === 'Root') return 'root'
  if (type === 'AssumedRole' && typeof identity['arn'] === 'string') return sessionName(identity['arn'])
  return typeof identity['userName'] === 'string' ? identity['userName'] : undefined
}

export function lookupEventOf(row: AuditRow): LookupEvent {
  const text = cloudTrailText(row)
  const event = JSON.parse(text) as Record<string, unknown>
  const identity = (event['userIdentity'] ?? {}) as Record<string, unknown>
  const resources = (event['resources'] ?? []) as { type?: string; ARN?: string }[]
  const username = usernameOf(identity)
  const accessKeyId = identity['accessKeyId']
  return {
    EventId: row.eventId,
    EventName: row.eventName,
    ReadOnly: String(event['readOnly'] === true),
    ...(typeof accessKeyId === 'string' ? { AccessKeyId: accessKeyId } : {}),
    EventTime: row.time / 1000,
    EventSource: String(event['eventSource']),
    ...(username === undefined ? {} : { Username: username }),
    Resources: resources.map((r) => ({ ResourceType: String(r.type), ResourceName: String(r.ARN) })),
    CloudTrailEvent: text,
  }
}

function matches(event: LookupEvent, attribute: LookupQuery['attribute']): boolean {
  if (attribute === undefined) return true
  const value = attribute.value
  switch (attribute.key) {
    case 'EventId':
    case 'EventName':
    case 'ReadOnly':
    case 'EventSource':
    case 'AccessKeyId':
    case 'Username':
      return event[attribute.key] === value
    case 'ResourceName':
      return event.Resources.some((r) => r.ResourceName === value)
    case 'ResourceType':
      return event.Resources.some((r) => r.ResourceType === value)
  }
}

export interface LookupResult {
  readonly Events: LookupEvent[]
  readonly NextToken?: string
}

/** One page of the account's events, newest first. */
export async function lookupEvents(store: Pick<AuditStore, 'scanAudit'>, accountId: string, q: LookupQuery): Promise<LookupResult> {
  // No Insights events are ever recorded here.
  if (q.insight) return { Events: [] }
  const before = q.nextToken === undefined ? undefined : cursorOf(q.nextToken, q, accountId)
  const rows = await store.scanAudit({
    ...(before === undefined ? {} : { before }),
    ...(q.start === undefined ? {} : { from: q.start }),
    ...(q.end === undefined ? {} : { to: q.end }),
    limit: SCAN_ROWS,
  })
  const events: LookupEvent[] = []
  let next: Cursor | undefined
  for (const row of rows) {
    if (!visible(row, accountId)) continue
    // The indexed columns first: most records are skipped without parsing them.
    if (q.attribute?.key === 'EventName' && row.eventName !== q.attribute.value) continue
    if (q.attribute?.key === 'EventId' && row.eventId !== q.attribute.value) continue
    const event = lookupEventOf(row)
    if (!matches(event, q.attribute)) continue
    if (events.length === q.maxResults) {
      // This one opens the next page: resume just above it.
      next = { time: row.time, seq: row.seq + 1 }
      break
    }
    events.push(event)
  }
  // The scan stopped at its bound with records left: the next page goes on below the last one read.
  const last = rows.at(-1)
  if (next === undefined && rows.length === SCAN_ROWS && last !== undefined) next = { time: last.time, seq: last.seq }
  return { Events: events, ...(next === undefined ? {} : { NextToken: tokenOf(next, q, accountId) }) }
}
