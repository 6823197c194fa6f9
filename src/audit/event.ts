// CloudTrail-shaped KMS events (one per request, allowed or denied, authenticated or not) and the
// indexed row stored for each. Request parameters are copied from an allow-list: never Message,
// Mac, grant tokens, plaintext or anything else secret.
import type { NewAuditRow } from '../store/store.js'

export interface AuditIdentity {
  readonly type: 'Root' | 'IAMUser' | 'Unknown'
  readonly arn?: string
  readonly accountId?: string
  readonly accessKeyId?: string
  readonly userName?: string
}

export interface AuditInput {
  readonly time: number
  readonly requestId: string
  readonly eventId: string
  readonly operation: string
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

const MAX_VALUE_CHARS = 2048

function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

function safeValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}...` : value
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value
  if (depth > 2) return undefined
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => safeValue(v, depth + 1))
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 50)) out[camel(k)] = safeValue(v, depth + 1)
    return out
  }
  return undefined
}

export function requestParameters(request: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (request === undefined) return null
  const out: Record<string, unknown> = {}
  for (const name of SAFE_REQUEST_MEMBERS) {
    if (Object.hasOwn(request, name)) out[camel(name)] = safeValue(request[name])
  }
  return out
}

/** What responses may show: identifiers and states, never MACs, tokens or random bytes. */
export function responseElements(operation: string, response: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (response === undefined) return null
  switch (operation) {
    case 'CreateKey':
    case 'ReplicateKey':
      return { keyMetadata: safeValue(response['KeyMetadata']) }
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

export function auditEvent(input: AuditInput): Record<string, unknown> {
  const id = input.identity
  const userIdentity: Record<string, unknown> = { type: id.type }
  if (id.arn !== undefined) {
    userIdentity['principalId'] = id.type === 'Root' ? id.accountId : `${id.accountId ?? ''}:${id.userName ?? ''}`
    userIdentity['arn'] = id.arn
    userIdentity['accountId'] = id.accountId
    userIdentity['accessKeyId'] = id.accessKeyId
    if (id.userName !== undefined) userIdentity['userName'] = id.userName
  } else if (id.accessKeyId !== undefined) {
    userIdentity['accessKeyId'] = id.accessKeyId
  }
  const accountId = input.keyArn?.split(':')[4] ?? id.accountId
  return {
    eventVersion: '1.11',
    userIdentity,
    eventTime: new Date(input.time).toISOString(),
    eventSource: 'kms.amazonaws.com',
    eventName: input.operation,
    awsRegion: input.region,
    sourceIPAddress: input.sourceIp ?? '',
    userAgent: input.userAgent ?? '',
    ...(input.errorCode === undefined ? {} : { errorCode: input.errorCode, errorMessage: input.errorMessage ?? '' }),
    requestParameters: input.requestParameters,
    responseElements: input.errorCode === undefined ? input.responseElements : null,
    requestID: input.requestId,
    eventID: input.eventId,
    readOnly: input.readOnly,
    resources: input.keyArn === undefined ? [] : [{ accountId, type: 'AWS::KMS::Key', ARN: input.keyArn }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: accountId ?? '',
    eventCategory: 'Management',
  }
}

/** The indexed columns of a stored record, derived from its event (and re-derived by verify). */
export function auditIndex(event: Record<string, unknown>, text: string): NewAuditRow {
  const identity = event['userIdentity'] as { arn?: string; accountId?: string } | undefined
  const resources = event['resources'] as { ARN?: string }[] | undefined
  const keyArn = resources?.[0]?.ARN
  return {
    time: Date.parse(String(event['eventTime'])),
    eventId: String(event['eventID']),
    eventName: String(event['eventName']),
    accountId: identity?.accountId ?? '',
    ...(keyArn === undefined ? {} : { keyArn }),
    principal: identity?.arn ?? '',
    outcome: event['errorCode'] === undefined ? 'success' : 'failure',
    event: text,
  }
}
