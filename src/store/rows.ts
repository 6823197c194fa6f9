// Row shapes shared by the SQL drivers (SQLite and PostgreSQL use the same tables and columns) and
// their conversion to and from the Store's records: one place for the key document format.
import type { Tag } from '../domain.js'
import type {
  AccessKeyRecord,
  AliasRecord,
  AuditRow,
  GrantRecord,
  ImportParameters,
  KeyRecord,
  Page,
  OidcProviderRecord,
  RoleRecord,
  UserRecord,
} from './store.js'

// Row shapes (type aliases rather than interfaces: pg's row type needs an index signature).
export type KeyRow = {
  account_id: string
  region: string
  key_id: string
  state: string
  deletion_date: number | null
  creation_date: number
  version: number
  doc: string
  material: Buffer | null
  valid_to: number | null
  grant_count: number
}

/** Fields of a key kept as JSON: the ones never searched on. */
export interface KeyDoc {
  keySpec: KeyRecord['keySpec']
  keyUsage: KeyRecord['keyUsage']
  origin: KeyRecord['origin']
  description: string
  multiRegion: boolean
  policy: string
  tags: Tag[]
  expirationModel?: KeyRecord['expirationModel']
  validTo?: number
  importCheck?: string
  importParameters?: Omit<ImportParameters, 'privateKey'> & { privateKey: string }
  primaryRegion?: string
  pendingWindowDays?: number
}

export type AliasRow = {
  account_id: string
  region: string
  alias_name: string
  key_id: string
  creation_date: number
  last_updated_date: number
}

export type AccessKeyRow = {
  access_key_id: string
  account_id: string
  user_name: string | null
  secret: Buffer
  status: string
  create_date: number
}

export type RoleRow = {
  account_id: string
  role_name: string
  role_id: string
  trust_policy: string
  policy: string | null
  max_session_seconds: number
  create_date: number
  sessions_valid_after: number | null
}

export type OidcProviderRow = {
  account_id: string
  url: string
  client_ids: string
  jwks: string | null
  create_date: number
}

export function toOidcProvider(row: OidcProviderRow): OidcProviderRecord {
  return {
    accountId: row.account_id,
    url: row.url,
    clientIds: JSON.parse(row.client_ids) as string[],
    ...(row.jwks === null ? {} : { jwks: row.jwks }),
    createDate: Number(row.create_date),
  }
}

export type UserRow = {
  account_id: string
  user_name: string
  policy: string | null
  create_date: number
}

export type GrantRow = {
  seq: number
  grant_id: string
  account_id: string
  region: string
  key_id: string
  name: string | null
  grantee: string
  retiring_principal: string | null
  operations: string
  issuing_account: string
  creation_date: number
}

export type AuditDbRow = {
  seq: number
  time: number
  event_id: string
  event_name: string
  account_id: string
  key_arn: string | null
  principal: string
  outcome: string
  event: string
  prev_hash: string
  hash: string
}

export function toKey(row: KeyRow): KeyRecord {
  const doc = JSON.parse(row.doc) as KeyDoc
  return {
    accountId: row.account_id,
    region: row.region,
    keyId: row.key_id,
    keySpec: doc.keySpec,
    keyUsage: doc.keyUsage,
    origin: doc.origin,
    state: row.state as KeyRecord['state'],
    description: doc.description,
    creationDate: row.creation_date,
    ...(row.deletion_date === null ? {} : { deletionDate: row.deletion_date }),
    multiRegion: doc.multiRegion,
    policy: doc.policy,
    tags: doc.tags,
    ...(row.material === null ? {} : { material: row.material }),
    ...(doc.expirationModel === undefined ? {} : { expirationModel: doc.expirationModel }),
    ...(doc.validTo === undefined ? {} : { validTo: doc.validTo }),
    ...(doc.importCheck === undefined ? {} : { importCheck: doc.importCheck }),
    ...(doc.importParameters === undefined
      ? {}
      : {
          importParameters: {
            ...doc.importParameters,
            privateKey: Buffer.from(doc.importParameters.privateKey, 'base64'),
          },
        }),
    ...(doc.primaryRegion === undefined ? {} : { primaryRegion: doc.primaryRegion }),
    ...(doc.pendingWindowDays === undefined ? {} : { pendingWindowDays: doc.pendingWindowDays }),
    grantCount: row.grant_count,
    version: row.version,
  }
}

export function docOf(key: Omit<KeyRecord, 'version'>): string {
  const doc: KeyDoc = {
    keySpec: key.keySpec,
    keyUsage: key.keyUsage,
    origin: key.origin,
    description: key.description,
    multiRegion: key.multiRegion,
    policy: key.policy,
    tags: key.tags.map((t) => ({ key: t.key, value: t.value })),
    ...(key.expirationModel === undefined ? {} : { expirationModel: key.expirationModel }),
    ...(key.validTo === undefined ? {} : { validTo: key.validTo }),
    ...(key.importCheck === undefined ? {} : { importCheck: key.importCheck }),
    ...(key.importParameters === undefined
      ? {}
      : {
          importParameters: {
            ...key.importParameters,
            privateKey: key.importParameters.privateKey.toString('base64'),
          },
        }),
    ...(key.primaryRegion === undefined ? {} : { primaryRegion: key.primaryRegion }),
    ...(key.pendingWindowDays === undefined ? {} : { pendingWindowDays: key.pendingWindowDays }),
  }
  return JSON.stringify(doc)
}

/** The expiry the expiry job looks for: only while the key holds expiring imported material. */
export function materialExpiry(key: Omit<KeyRecord, 'version'>): number | null {
  return key.material !== undefined && key.validTo !== undefined ? key.validTo : null
}

export function toAlias(row: AliasRow): AliasRecord {
  return {
    accountId: row.account_id,
    region: row.region,
    aliasName: row.alias_name,
    keyId: row.key_id,
    creationDate: row.creation_date,
    lastUpdatedDate: row.last_updated_date,
  }
}

export function toAccessKey(row: AccessKeyRow): AccessKeyRecord {
  return {
    accessKeyId: row.access_key_id,
    accountId: row.account_id,
    ...(row.user_name === null ? {} : { userName: row.user_name }),
    secret: row.secret,
    status: row.status as AccessKeyRecord['status'],
    createDate: row.create_date,
  }
}

export function toRole(row: RoleRow): RoleRecord {
  return {
    accountId: row.account_id,
    roleName: row.role_name,
    roleId: row.role_id,
    trustPolicy: row.trust_policy,
    ...(row.policy === null ? {} : { policy: row.policy }),
    maxSessionSeconds: Number(row.max_session_seconds),
    createDate: Number(row.create_date),
    ...(row.sessions_valid_after === null ? {} : { sessionsValidAfter: Number(row.sessions_valid_after) }),
  }
}

export function toUser(row: UserRow): UserRecord {
  return {
    accountId: row.account_id,
    userName: row.user_name,
    ...(row.policy === null ? {} : { policy: row.policy }),
    createDate: row.create_date,
  }
}

export function toGrant(row: GrantRow): GrantRecord {
  return {
    grantId: row.grant_id,
    accountId: row.account_id,
    region: row.region,
    keyId: row.key_id,
    ...(row.name === null ? {} : { name: row.name }),
    granteePrincipal: row.grantee,
    ...(row.retiring_principal === null ? {} : { retiringPrincipal: row.retiring_principal }),
    operations: JSON.parse(row.operations) as string[],
    issuingAccount: row.issuing_account,
    creationDate: row.creation_date,
  }
}

export function toAudit(row: AuditDbRow): AuditRow {
  return {
    seq: row.seq,
    time: row.time,
    eventId: row.event_id,
    eventName: row.event_name,
    accountId: row.account_id,
    ...(row.key_arn === null ? {} : { keyArn: row.key_arn }),
    principal: row.principal,
    outcome: row.outcome as AuditRow['outcome'],
    event: row.event,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

/** Grants with the same name are the same grant when everything else matches too. */
export function sameGrant(a: GrantRecord, b: GrantRecord): boolean {
  const ops = (g: GrantRecord): string => [...g.operations].sort().join(',')
  return (
    a.granteePrincipal === b.granteePrincipal &&
    a.retiringPrincipal === b.retiringPrincipal &&
    ops(a) === ops(b)
  )
}

/** A ListGrants/ListRetirableGrants marker (a grant seq) as a number; 0 from the start. */
export function seqAfter(marker: string | undefined): number {
  return marker !== undefined && /^\d{1,15}$/.test(marker) ? Number(marker) : 0
}

export function grantPage(rows: GrantRow[], limit: number): Page<GrantRecord> {
  const items = rows.slice(0, limit).map(toGrant)
  const last = rows[limit - 1]
  return rows.length > limit && last ? { items, next: String(last.seq) } : { items }
}

export function page<T>(rows: T[], limit: number, position: (row: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows }
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return last === undefined ? { items } : { items, next: position(last) }
}

/** A key's place in the store-wide (account, region, key id) order: scanKeys' marker. */
export function keyPosition(key: Pick<KeyRecord, 'accountId' | 'region' | 'keyId'>): string {
  return `${key.accountId}\u0000${key.region}\u0000${key.keyId}`
}

/** The (account, region, key id) a scanKeys marker stands for; empty strings from the start. */
export function keyPositionParts(marker: string | undefined): [string, string, string] {
  const [a = '', r = '', k = ''] = marker === undefined ? [] : marker.split('\u0000')
  return [a, r, k]
}
