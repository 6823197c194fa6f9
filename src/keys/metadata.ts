// KeyMetadata of an HMAC key as AWS returns it from CreateKey and DescribeKey (AWS KMS API Reference, KeyMetadata):
// MacAlgorithms only, no encryption/signing algorithm lists, Description always present.
import { HMAC_SPECS } from '../domain.js'
import type { KeyRecord, KeyView } from '../store/store.js'

/** Epoch ms -> the wire's epoch seconds with a millisecond fraction. */
export function epochSeconds(ms: number): number {
  return ms / 1000
}

export interface KeyMetadata {
  AWSAccountId: string
  KeyId: string
  Arn: string
  CreationDate: number
  Enabled: boolean
  Description: string
  KeyUsage: string
  KeyState: string
  DeletionDate?: number
  /** Only while PendingReplicaDeletion: the waiting period that begins when the last replica goes. */
  PendingDeletionWindowInDays?: number
  Origin: string
  KeyManager: 'CUSTOMER'
  CustomerMasterKeySpec: string
  KeySpec: string
  MacAlgorithms: string[]
  MultiRegion: boolean
  ExpirationModel?: string
  ValidTo?: number
  MultiRegionConfiguration?: {
    MultiRegionKeyType: 'PRIMARY' | 'REPLICA'
    PrimaryKey: { Arn: string; Region: string }
    ReplicaKeys: { Arn: string; Region: string }[]
  }
}

export function keyMetadata(record: KeyView, arn: string, related?: readonly KeyRecord[]): KeyMetadata {
  return {
    AWSAccountId: record.accountId,
    KeyId: record.keyId,
    Arn: arn,
    CreationDate: epochSeconds(record.creationDate),
    Enabled: record.state === 'Enabled',
    Description: record.description,
    KeyUsage: record.keyUsage,
    KeyState: record.state,
    ...(record.deletionDate === undefined || record.state === 'PendingReplicaDeletion' ? {} : { DeletionDate: epochSeconds(record.deletionDate) }),
    ...(record.state === 'PendingReplicaDeletion' && record.pendingWindowDays !== undefined ? { PendingDeletionWindowInDays: record.pendingWindowDays } : {}),
    Origin: record.origin,
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: record.keySpec,
    KeySpec: record.keySpec,
    MacAlgorithms: [HMAC_SPECS[record.keySpec].macAlgorithm],
    MultiRegion: record.multiRegion,
    // Imported material: how it expires (AWS shows this once material has been imported).
    ...(record.origin === 'EXTERNAL' && record.expirationModel !== undefined && record.material !== undefined
      ? { ExpirationModel: record.expirationModel, ...(record.validTo === undefined ? {} : { ValidTo: epochSeconds(record.validTo) }) }
      : {}),
    ...(record.multiRegion ? { MultiRegionConfiguration: multiRegionConfiguration(record, arn, related) } : {}),
  }
}

/** Primary and replicas, from the copies of the key in every Region (`related`, this one included). */
function multiRegionConfiguration(record: KeyView, arn: string, related: readonly KeyRecord[] | undefined): NonNullable<KeyMetadata['MultiRegionConfiguration']> {
  const primaryRegion = record.primaryRegion ?? record.region
  const arnIn = (region: string) => arn.replace(`:kms:${record.region}:`, `:kms:${region}:`)
  const regions = new Set((related ?? [record]).map((r) => r.region))
  regions.add(record.region)
  return {
    MultiRegionKeyType: primaryRegion === record.region ? 'PRIMARY' : 'REPLICA',
    PrimaryKey: { Arn: arnIn(primaryRegion), Region: primaryRegion },
    ReplicaKeys: [...regions].filter((r) => r !== primaryRegion).sort().map((r) => ({ Arn: arnIn(r), Region: r })),
  }
}

/** The default key policy AWS attaches when CreateKey has no Policy, in AWS's layout (AWS KMS Developer Guide, Default key policy). */
export function defaultKeyPolicy(partition: string, accountId: string): string {
  return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:${partition}:iam::${accountId}:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}
