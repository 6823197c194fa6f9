// Request quotas (`--throttle off|aws|<file>`): token buckets per account, Region and quota, so that
// one tenant cannot take the whole service, answered as AWS answers: HTTP 400 ThrottlingException,
// which the SDKs' standard and adaptive retry modes back off from.
//
// Each process enforces its share of a rate: rate / (workers of the node x nodes in the file).
// Connections, not requests, are spread over workers, so a client on a single connection gets at
// most one worker's share; clients with a pool of connections (every SDK) get the whole rate.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'

// The YAML parser loads only for a rules file: it is about 40 ms of every process's start-up
// (each worker and admin command reads the configuration), and most run with `off` or `aws`.
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof Yaml).parse(text)

/** CloudTrail's text for a throttled LookupEvents, as public reports quote it (test/fixtures/aws-texts.json). */
export const CLOUDTRAIL_THROTTLING_MESSAGE = 'Rate exceeded'

/** AWS's wording (KMS developer guide, "Request throttling"); recorded with its source in test/fixtures/aws-texts.json. */
export const THROTTLING_MESSAGE = 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.'

/** Operations that count against the shared "Cryptographic operations (symmetric)" quota. */
export const CRYPTOGRAPHIC_OPERATIONS: ReadonlySet<string> = new Set([
  'GenerateMac',
  'VerifyMac',
  'GenerateRandom',
  'Encrypt',
  'Decrypt',
  'ReEncrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
])

/** AWS's default shared cryptographic quota by Region (req/s); 5,500 elsewhere. */
const CRYPTOGRAPHIC_BY_REGION: Readonly<Record<string, number>> = {
  'us-east-1': 50_000,
  'us-west-2': 50_000,
  'eu-west-1': 50_000,
  'us-east-2': 10_000,
  'ap-southeast-1': 10_000,
  'ap-southeast-2': 10_000,
  'ap-northeast-1': 10_000,
  'eu-central-1': 10_000,
  'eu-west-2': 10_000,
}
const CRYPTOGRAPHIC_ELSEWHERE = 5_500

/** AWS's default per-operation request quotas (req/s per account and Region). */
export const AWS_OPERATION_QUOTAS: Readonly<Record<string, number>> = {
  CreateKey: 5,
  DescribeKey: 2000,
  ListKeys: 500,
  EnableKey: 5,
  DisableKey: 5,
  ScheduleKeyDeletion: 15,
  CancelKeyDeletion: 5,
  UpdateKeyDescription: 5,
  CreateAlias: 5,
  UpdateAlias: 5,
  DeleteAlias: 15,
  ListAliases: 500,
  TagResource: 10,
  UntagResource: 5,
  ListResourceTags: 2000,
  GetKeyPolicy: 1000,
  PutKeyPolicy: 15,
  ListKeyPolicies: 100,
  CreateGrant: 50,
  ListGrants: 100,
  ListRetirableGrants: 100,
  RetireGrant: 30,
  RevokeGrant: 30,
  GetParametersForImport: 0.25,
  ImportKeyMaterial: 5,
  DeleteImportedKeyMaterial: 5,
  ReplicateKey: 5,
  UpdatePrimaryRegion: 5,
  GetKeyRotationStatus: 1000,
  EnableKeyRotation: 15,
  DisableKeyRotation: 5,
  // CloudTrail's (API Reference, LookupEvents: "two per second, per account, per Region").
  LookupEvents: 2,
}

interface Rates {
  /** The shared cryptographic quota; undefined: AWS's for the Region (base aws) or none. */
  readonly cryptographic?: number | undefined
  readonly operations: Readonly<Record<string, number>>
}

export interface ThrottleRules {
  /** Whether operations the rules do not name get AWS's defaults (`aws`) or no limit (`none`). */
  readonly base: 'aws' | 'none'
  readonly nodes: number
  readonly all: Rates
  readonly accounts: Readonly<Record<string, Rates>>
}

export class ThrottleConfigError extends Error {}

function rate(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ThrottleConfigError(`${where} must be a positive number of requests per second`)
  }
  return value
}

function rates(raw: unknown, where: string): Rates {
  if (raw === undefined || raw === null) return { operations: {} }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ThrottleConfigError(`${where} must be a mapping`)
  const r = raw as Record<string, unknown>
  for (const k of Object.keys(r)) {
    if (k !== 'cryptographic' && k !== 'operations' && !(where === 'the file' && ['base', 'nodes', 'accounts'].includes(k))) {
      throw new ThrottleConfigError(`${where}: unknown field '${k}' (valid: cryptographic, operations${where === 'the file' ? ', base, nodes, accounts' : ''})`)
    }
  }
  const operations: Record<string, number> = {}
  const ops = r['operations']
  if (ops !== undefined) {
    if (typeof ops !== 'object' || ops === null || Array.isArray(ops)) throw new ThrottleConfigError(`${where}: operations must be a mapping`)
    for (const [name, value] of Object.entries(ops as Record<string, unknown>)) operations[name] = rate(value, `${where}: operations.${name}`)
  }
  return {
    ...(r['cryptographic'] === undefined ? {} : { cryptographic: rate(r['cryptographic'], `${where}: cryptographic`) }),
    operations,
  }
}

/** The rules of `--throttle`: undefined for `off`; ThrottleConfigError for a bad file. */
export function loadThrottleRules(setting: string): ThrottleRules | undefined {
  if (setting === 'off') return undefined
  if (setting === 'aws') return { base: 'aws', nodes: 1, all: { operations: {} }, accounts: {} }
  let doc: unknown
  try {
    doc = parseYaml(readFileSync(setting, 'utf8'))
  } catch (err) {
    throw new ThrottleConfigError(`cannot read ${setting}: ${(err as Error).message}`)
  }
  const all = rates(doc, 'the file')
  const d = doc as Record<string, unknown>
  const base = d['base'] ?? 'aws'
  if (base !== 'aws' && base !== 'none') throw new ThrottleConfigError(`base must be aws or none, got ${JSON.stringify(base)}`)
  const nodes = d['nodes'] ?? 1
  if (typeof nodes !== 'number' || !Number.isInteger(nodes) || nodes < 1) throw new ThrottleConfigError('nodes must be a whole number of at least 1')
  const accounts: Record<string, Rates> = {}
  const rawAccounts = d['accounts'] ?? {}
  if (typeof rawAccounts !== 'object' || rawAccounts === null || Array.isArray(rawAccounts)) throw new ThrottleConfigError('accounts must be a mapping')
  for (const [id, value] of Object.entries(rawAccounts as Record<string, unknown>)) {
    if (!/^\d{12}$/.test(id)) throw new ThrottleConfigError(`accounts: '${id}' is not a 12-digit account id`)
    accounts[id] = rates(value, `accounts.${id}`)
  }
  return { base, nodes, all, accounts }
}

interface Bucket {
  tokens: number
  at: number
}

/** Buckets kept at the most; the oldest is forgotten first (it then starts full again). */
const MAX_BUCKETS = 100_000

export class Throttle {
  private readonly buckets = new Map<string, Bucket>()
  private readonly rules: ThrottleRules
  private readonly share: number
  /** Requests refused for their rate (for metrics). */
  throttled = 0

  /** `processes`: how many processes of this node share the rates (the workers). */
  constructor(rules: ThrottleRules, processes: number) {
    this.rules = rules
    this.share = 1 / (processes * rules.nodes)
  }

  /** The rate (req/s, whole service) that applies, and the bucket it is counted in. */
  private quotaOf(accountId: string, region: string, operation: string): { group: string; rate: number } | undefined {
    const account = this.rules.accounts[accountId]
    if (CRYPTOGRAPHIC_OPERATIONS.has(operation)) {
      const own = account?.cryptographic ?? this.rules.all.cryptographic
      const r = own ?? (this.rules.base === 'aws' ? (CRYPTOGRAPHIC_BY_REGION[region] ?? CRYPTOGRAPHIC_ELSEWHERE) : undefined)
      return r === undefined ? undefined : { group: 'cryptographic', rate: r }
    }
    const own = pick(account?.operations, operation) ?? pick(this.rules.all.operations, operation)
    const r = own ?? (this.rules.base === 'aws' ? pick(AWS_OPERATION_QUOTAS, operation) : undefined)
    return r === undefined ? undefined : { group: operation, rate: r }
  }

  /** Takes one request from the bucket; false when the caller is over its rate. */
  take(accountId: string, region: string, operation: string, nowMs: number): boolean {
    const quota = this.quotaOf(accountId, region, operation)
    if (quota === undefined) return true
    const rate = quota.rate * this.share
    const capacity = Math.max(1, rate)
    const id = `${accountId}\u0000${region}\u0000${quota.group}`
    let bucket = this.buckets.get(id)
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string)
      bucket = { tokens: capacity, at: nowMs }
      this.buckets.set(id, bucket)
    } else {
      bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.at) / 1000) * rate)
      bucket.at = nowMs
    }
    if (bucket.tokens < 1) {
      this.throttled++
      return false
    }
    bucket.tokens -= 1
    return true
  }
}

function pick(table: Readonly<Record<string, number>> | undefined, name: string): number | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined
}
