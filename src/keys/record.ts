// A new key's stored record, the one place its fields are put together (CreateKey, ReplicateKey,
// seed files, `macaw keys create`): HMAC usage, the state its origin starts in, the multi-Region
// fields, the default key policy when none is given.
import type { HmacKeySpec, Origin, Tag } from '../domain.js'
import type { KeyRecord } from '../store/store.js'
import { defaultKeyPolicy } from './metadata.js'

export interface NewKey {
  readonly partition: string
  readonly accountId: string
  readonly region: string
  readonly keyId: string
  readonly keySpec: HmacKeySpec
  /** Default AWS_KMS; an EXTERNAL key starts PendingImport (no material yet). */
  readonly origin?: Origin
  /** Default true; false makes an AWS_KMS key start Disabled. */
  readonly enabled?: boolean
  readonly description?: string | undefined
  readonly creationDate: number
  /** Multi-Region keys: the primary's Region (this key's own for a primary). */
  readonly primaryRegion?: string | undefined
  /** Default: the account's default key policy. */
  readonly policy?: string | undefined
  /** Sorted by key (keys/tags.ts sortTags). */
  readonly tags?: readonly Tag[]
}

/** The record to insert, without material (sealed for the key's ARN by the caller) or version. */
export function newKeyRecord(k: NewKey): Omit<KeyRecord, 'version'> {
  const origin = k.origin ?? 'AWS_KMS'
  return {
    accountId: k.accountId,
    region: k.region,
    keyId: k.keyId,
    keySpec: k.keySpec,
    keyUsage: 'GENERATE_VERIFY_MAC',
    origin,
    state: origin === 'EXTERNAL' ? 'PendingImport' : k.enabled === false ? 'Disabled' : 'Enabled',
    description: k.description ?? '',
    creationDate: k.creationDate,
    multiRegion: k.primaryRegion !== undefined,
    ...(k.primaryRegion === undefined ? {} : { primaryRegion: k.primaryRegion }),
    policy: k.policy ?? defaultKeyPolicy(k.partition, k.accountId),
    tags: k.tags ?? [],
  }
}
