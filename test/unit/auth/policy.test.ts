// The policy evaluator as a table: each row is a key policy (and optionally an identity policy and
// grants), a caller, an action and request values, and the decision AWS would make.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decideIdentityAccess, decideKeyAccess, type Principal } from '../../../src/auth/authorize.js'
import { conditionLookup } from '../../../src/auth/context.js'
import { GrantIndex } from '../../../src/auth/grants.js'
import { compilePolicy, type CompiledPolicy } from '../../../src/auth/policy.js'
import { MalformedPolicyDocumentException } from '../../../src/protocol/errors.js'
import type { GrantRecord, KeyRecord } from '../../../src/store/store.js'

const A = '111122223333'
const B = '444455556666'
const KEY_ARN = `arn:aws:kms:us-east-1:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
const rootA = `arn:aws:iam::${A}:root`
const rootB = `arn:aws:iam::${B}:root`
const alice = `arn:aws:iam::${A}:user/alice`
const bob = `arn:aws:iam::${A}:user/bob`
const carol = `arn:aws:iam::${B}:user/carol`

type Who = 'rootA' | 'alice' | 'bob' | 'rootB' | 'carol'
const WHO: Record<Who, { arn: string; accountId: string; isRoot: boolean; userName?: string }> = {
  rootA: { arn: rootA, accountId: A, isRoot: true },
  alice: { arn: alice, accountId: A, isRoot: false, userName: 'alice' },
  bob: { arn: bob, accountId: A, isRoot: false, userName: 'bob' },
  rootB: { arn: rootB, accountId: B, isRoot: true },
  carol: { arn: carol, accountId: B, isRoot: false, userName: 'carol' },
}

const DEFAULT = {
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: rootA }, Action: 'kms:*', Resource: '*' }],
}
const stmt = (s: object) => ({ Version: '2012-10-17', Statement: [s] })
const withDefault = (...extra: object[]) => ({ ...DEFAULT, Statement: [...DEFAULT.Statement, ...extra] })
const allowAll = stmt({ Effect: 'Allow', Action: 'kms:*', Resource: '*' })
const cond = (action: string, condition: object, effect = 'Allow') => stmt({ Effect: effect, Principal: '*', Action: action, Resource: '*', Condition: condition })

interface Case {
  readonly name: string
  readonly policy: object
  readonly identity?: object
  readonly who: Who
  readonly action?: string
  readonly values?: Record<string, string | string[]>
  readonly key?: Partial<KeyRecord>
  readonly grants?: Partial<GrantRecord>[]
  readonly crossAccount?: boolean
  readonly sourceIp?: string
  readonly secure?: boolean
  readonly now?: number
  readonly requestAlias?: string
  readonly resourceAliases?: string[]
  /** 'allow', or the tail of the AccessDenied reason. */
  readonly expect: 'allow' | 'no-resource' | 'no-identity' | 'deny-resource' | 'deny-identity'
}

const key = (extra: Partial<KeyRecord> = {}): KeyRecord => ({
  accountId: A,
  region: 'us-east-1',
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  keySpec: 'HMAC_256',
  keyUsage: 'GENERATE_VERIFY_MAC',
  origin: 'AWS_KMS',
  state: 'Enabled',
  description: '',
  creationDate: 0,
  multiRegion: false,
  policy: '',
  tags: [{ key: 'Env', value: 'prod' }],
  version: 1,
  ...extra,
})

const CASES: Case[] = [
  // --- Default policy and delegation to IAM ---
  { name: 'default policy: root of the key account', policy: DEFAULT, who: 'rootA', expect: 'allow' },
  { name: 'default policy: user without identity policy', policy: DEFAULT, who: 'alice', expect: 'no-identity' },
  { name: 'default policy: user whose identity policy allows kms:*', policy: DEFAULT, identity: allowAll, who: 'alice', expect: 'allow' },
  { name: 'default policy: identity allows another action only', policy: DEFAULT, identity: stmt({ Effect: 'Allow', Action: 'kms:VerifyMac', Resource: '*' }), who: 'alice', expect: 'no-identity' },
  { name: 'default policy: identity allows this key ARN', policy: DEFAULT, identity: stmt({ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: KEY_ARN }), who: 'alice', expect: 'allow' },
  { name: 'default policy: identity allows another key ARN', policy: DEFAULT, identity: stmt({ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: KEY_ARN.replace('1234abcd', 'ffffffff') }), who: 'alice', expect: 'no-identity' },
  { name: 'identity Resource wildcard over key ARNs', policy: DEFAULT, identity: stmt({ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: `arn:aws:kms:*:${A}:key/*` }), who: 'alice', expect: 'allow' },
  { name: 'identity NotResource excludes this key', policy: DEFAULT, identity: stmt({ Effect: 'Allow', Action: 'kms:*', NotResource: KEY_ARN }), who: 'alice', expect: 'no-identity' },
  { name: 'key policy without the account: root is locked out', policy: stmt({ Effect: 'Allow', Principal: { AWS: bob }, Action: 'kms:*', Resource: '*' }), who: 'rootA', expect: 'no-resource' },
  { name: 'key policy names the account by id', policy: stmt({ Effect: 'Allow', Principal: { AWS: A }, Action: 'kms:*', Resource: '*' }), who: 'rootA', expect: 'allow' },
  { name: 'key policy names the user directly: no IAM policy needed', policy: stmt({ Effect: 'Allow', Principal: { AWS: alice }, Action: 'kms:GenerateMac', Resource: '*' }), who: 'alice', expect: 'allow' },
  { name: 'key policy names another user', policy: stmt({ Effect: 'Allow', Principal: { AWS: [bob] }, Action: 'kms:GenerateMac', Resource: '*' }), who: 'alice', expect: 'no-resource' },
  { name: 'Principal "*" allows any caller of the account', policy: stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:GenerateMac', Resource: '*' }), who: 'alice', expect: 'allow' },
  { name: 'Principal {"AWS":"*"}', policy: stmt({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:GenerateMac', Resource: '*' }), who: 'bob', expect: 'allow' },
  { name: 'statement without Resource has no effect', policy: stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:*' }), who: 'rootA', expect: 'no-resource' },
  { name: 'statement without Action has no effect', policy: stmt({ Effect: 'Allow', Principal: '*', Resource: '*' }), who: 'rootA', expect: 'no-resource' },
  // --- Actions ---
  { name: 'Action wildcard kms:Generate*', policy: stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:Generate*', Resource: '*' }), who: 'alice', expect: 'allow' },
  { name: 'Action wildcard kms:Verify* does not cover GenerateMac', policy: stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:Verify*', Resource: '*' }), who: 'alice', expect: 'no-resource' },
  { name: 'Action ? wildcard', policy: stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:GenerateMa?', Resource: '*' }), who: 'alice', expect: 'allow' },
  { name: 'Action is case-insensitive', policy: stmt({ Effect: 'Allow', Principal: '*', Action: 'KMS:generatemac', Resource: '*' }), who: 'alice', expect: 'allow' },
  { name: 'Action list', policy: stmt({ Effect: 'Allow', Principal: '*', Action: ['kms:VerifyMac', 'kms:GenerateMac'], Resource: '*' }), who: 'alice', expect: 'allow' },
  { name: 'Action "*"', policy: stmt({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }), who: 'alice', expect: 'allow' },
  { name: 'NotAction excludes the action', policy: stmt({ Effect: 'Allow', Principal: '*', NotAction: 'kms:GenerateMac', Resource: '*' }), who: 'alice', expect: 'no-resource' },
  { name: 'NotAction allows other actions', policy: stmt({ Effect: 'Allow', Principal: '*', NotAction: 'kms:ScheduleKeyDeletion', Resource: '*' }), who: 'alice', expect: 'allow' },
  // --- Explicit deny ---
  { name: 'explicit deny in the key policy beats the root delegation', policy: withDefault({ Effect: 'Deny', Principal: '*', Action: 'kms:GenerateMac', Resource: '*' }), who: 'rootA', expect: 'deny-resource' },
  { name: 'explicit deny for one user only', policy: withDefault({ Effect: 'Deny', Principal: { AWS: alice }, Action: 'kms:*', Resource: '*' }), identity: allowAll, who: 'bob', expect: 'allow' },
  { name: 'explicit deny for the user it names', policy: withDefault({ Effect: 'Deny', Principal: { AWS: alice }, Action: 'kms:*', Resource: '*' }), identity: allowAll, who: 'alice', expect: 'deny-resource' },
  { name: 'deny naming the account applies to its users', policy: withDefault({ Effect: 'Deny', Principal: { AWS: rootA }, Action: 'kms:GenerateMac', Resource: '*' }), identity: allowAll, who: 'alice', expect: 'deny-resource' },
  { name: 'explicit deny in the identity policy', policy: DEFAULT, identity: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:GenerateMac', Resource: '*' }] }, who: 'alice', expect: 'deny-identity' },
  { name: 'explicit deny beats a direct allow', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: alice }, Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Principal: '*', Action: 'kms:GenerateMac', Resource: '*' }] }, who: 'alice', expect: 'deny-resource' },
  { name: 'explicit deny beats a grant', policy: withDefault({ Effect: 'Deny', Principal: '*', Action: 'kms:GenerateMac', Resource: '*' }), who: 'alice', grants: [{ granteePrincipal: alice, operations: ['GenerateMac'] }], expect: 'deny-resource' },
  { name: 'NotPrincipal deny spares the named principal', policy: withDefault({ Effect: 'Deny', NotPrincipal: { AWS: [rootA, alice] }, Action: 'kms:*', Resource: '*' }), identity: allowAll, who: 'alice', expect: 'allow' },
  { name: 'NotPrincipal deny hits everyone else', policy: withDefault({ Effect: 'Deny', NotPrincipal: { AWS: [rootA, alice] }, Action: 'kms:*', Resource: '*' }), identity: allowAll, who: 'bob', expect: 'deny-resource' },
  // --- Grants ---
  { name: 'grant to the caller allows its operation', policy: DEFAULT, who: 'alice', grants: [{ granteePrincipal: alice, operations: ['GenerateMac'] }], expect: 'allow' },
  { name: 'grant for another operation does not', policy: DEFAULT, who: 'alice', grants: [{ granteePrincipal: alice, operations: ['VerifyMac'] }], expect: 'no-identity' },
  { name: 'grant to another principal does not', policy: DEFAULT, who: 'alice', grants: [{ granteePrincipal: bob, operations: ['GenerateMac'] }], expect: 'no-identity' },
  { name: 'grant does not cover non-grant actions', policy: DEFAULT, who: 'alice', action: 'kms:DisableKey', grants: [{ granteePrincipal: alice, operations: ['GenerateMac'] }], expect: 'no-identity' },
  { name: 'grant to another account used by its root', policy: DEFAULT, who: 'rootB', crossAccount: true, grants: [{ granteePrincipal: rootB, operations: ['GenerateMac'] }], expect: 'allow' },
  { name: 'grant to another account used by a user with IAM permission', policy: DEFAULT, who: 'carol', identity: allowAll, crossAccount: true, grants: [{ granteePrincipal: rootB, operations: ['GenerateMac'] }], expect: 'allow' },
  { name: 'grant to another account: user without IAM permission', policy: DEFAULT, who: 'carol', crossAccount: true, grants: [{ granteePrincipal: rootB, operations: ['GenerateMac'] }], expect: 'no-resource' },
  // --- Cross-account ---
  { name: 'cross-account: key policy silent', policy: DEFAULT, who: 'rootB', crossAccount: true, expect: 'no-resource' },
  { name: 'cross-account: key policy allows the account, caller is its root', policy: withDefault({ Effect: 'Allow', Principal: { AWS: rootB }, Action: 'kms:GenerateMac', Resource: '*' }), who: 'rootB', crossAccount: true, expect: 'allow' },
  { name: 'cross-account: user needs its own identity policy', policy: withDefault({ Effect: 'Allow', Principal: { AWS: B }, Action: 'kms:GenerateMac', Resource: '*' }), who: 'carol', crossAccount: true, expect: 'no-identity' },
  { name: 'cross-account: user with identity policy', policy: withDefault({ Effect: 'Allow', Principal: { AWS: B }, Action: 'kms:GenerateMac', Resource: '*' }), identity: allowAll, who: 'carol', crossAccount: true, expect: 'allow' },
  { name: 'cross-account: user named directly still needs identity policy', policy: withDefault({ Effect: 'Allow', Principal: { AWS: carol }, Action: 'kms:GenerateMac', Resource: '*' }), who: 'carol', crossAccount: true, expect: 'no-identity' },
  { name: 'cross-account: operation that is not cross-account', policy: withDefault({ Effect: 'Allow', Principal: { AWS: rootB }, Action: 'kms:*', Resource: '*' }), who: 'rootB', action: 'kms:DisableKey', crossAccount: false, expect: 'no-resource' },
  // --- Condition operators ---
  { name: 'StringEquals kms:MacAlgorithm matches', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'allow' },
  { name: 'StringEquals kms:MacAlgorithm differs', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_512' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'no-resource' },
  { name: 'StringEquals with a list of values (OR)', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:MacAlgorithm': ['HMAC_SHA_512', 'HMAC_SHA_256'] } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'allow' },
  { name: 'condition key names are case-insensitive', policy: cond('kms:GenerateMac', { StringEquals: { 'KMS:MACALGORITHM': 'HMAC_SHA_256' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'allow' },
  { name: 'StringEquals is case-sensitive in values', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:MacAlgorithm': 'hmac_sha_256' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'no-resource' },
  { name: 'StringEqualsIgnoreCase', policy: cond('kms:GenerateMac', { StringEqualsIgnoreCase: { 'kms:MacAlgorithm': 'hmac_sha_256' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'allow' },
  { name: 'StringNotEquals', policy: cond('kms:GenerateMac', { StringNotEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_512' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'allow' },
  { name: 'StringNotEquals on a missing key is true', policy: cond('kms:GenerateMac', { StringNotEquals: { 'kms:RequestAlias': 'alias/x' } }), who: 'alice', expect: 'allow' },
  { name: 'StringNotEqualsIgnoreCase', policy: cond('kms:GenerateMac', { StringNotEqualsIgnoreCase: { 'kms:MacAlgorithm': 'hmac_sha_256' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'no-resource' },
  { name: 'StringLike with * on kms:RequestAlias', policy: cond('kms:GenerateMac', { StringLike: { 'kms:RequestAlias': 'alias/app-*' } }), who: 'alice', requestAlias: 'alias/app-signing', expect: 'allow' },
  { name: 'StringLike with ?', policy: cond('kms:GenerateMac', { StringLike: { 'kms:RequestAlias': 'alias/app-?' } }), who: 'alice', requestAlias: 'alias/app-12', expect: 'no-resource' },
  { name: 'StringLike on a missing key is false', policy: cond('kms:GenerateMac', { StringLike: { 'kms:RequestAlias': 'alias/*' } }), who: 'alice', expect: 'no-resource' },
  { name: 'StringLikeIfExists on a missing key is true', policy: cond('kms:GenerateMac', { StringLikeIfExists: { 'kms:RequestAlias': 'alias/*' } }), who: 'alice', expect: 'allow' },
  { name: 'StringNotLike', policy: cond('kms:GenerateMac', { StringNotLike: { 'aws:PrincipalArn': '*:user/b*' } }), who: 'alice', expect: 'allow' },
  { name: 'ArnLike on aws:PrincipalArn', policy: cond('kms:GenerateMac', { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/*` } }), who: 'alice', expect: 'allow' },
  { name: 'ArnLike does not match the root', policy: cond('kms:GenerateMac', { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/*` } }), who: 'rootA', expect: 'no-resource' },
  { name: 'ArnEquals', policy: cond('kms:GenerateMac', { ArnEquals: { 'aws:PrincipalArn': bob } }), who: 'bob', expect: 'allow' },
  { name: 'ArnNotEquals', policy: cond('kms:GenerateMac', { ArnNotEquals: { 'aws:PrincipalArn': bob } }), who: 'bob', expect: 'no-resource' },
  { name: 'ArnNotLike', policy: cond('kms:GenerateMac', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:root' } }), who: 'alice', expect: 'allow' },
  { name: 'NumericLessThanEquals on the pending window', policy: cond('kms:ScheduleKeyDeletion', { NumericLessThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '10' } }), who: 'alice', action: 'kms:ScheduleKeyDeletion', values: { 'kms:schedulekeydeletionpendingwindowindays': '7' }, expect: 'allow' },
  { name: 'NumericGreaterThanEquals refuses a short window', policy: cond('kms:ScheduleKeyDeletion', { NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 20 } }), who: 'alice', action: 'kms:ScheduleKeyDeletion', values: { 'kms:schedulekeydeletionpendingwindowindays': '7' }, expect: 'no-resource' },
  { name: 'NumericEquals', policy: cond('kms:ScheduleKeyDeletion', { NumericEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 7 } }), who: 'alice', action: 'kms:ScheduleKeyDeletion', values: { 'kms:schedulekeydeletionpendingwindowindays': '7' }, expect: 'allow' },
  { name: 'NumericNotEquals', policy: cond('kms:ScheduleKeyDeletion', { NumericNotEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 7 } }), who: 'alice', action: 'kms:ScheduleKeyDeletion', values: { 'kms:schedulekeydeletionpendingwindowindays': '7' }, expect: 'no-resource' },
  { name: 'NumericLessThan and NumericGreaterThan', policy: cond('kms:ScheduleKeyDeletion', { NumericLessThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 8 }, NumericGreaterThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 6 } }), who: 'alice', action: 'kms:ScheduleKeyDeletion', values: { 'kms:schedulekeydeletionpendingwindowindays': '7' }, expect: 'allow' },
  { name: 'DateLessThan aws:CurrentTime (before)', policy: cond('kms:GenerateMac', { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }), who: 'alice', now: Date.parse('2026-11-25T00:00:00Z'), expect: 'allow' },
  { name: 'DateLessThan aws:CurrentTime (after)', policy: cond('kms:GenerateMac', { DateLessThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }), who: 'alice', now: Date.parse('2026-11-25T00:00:00Z'), expect: 'no-resource' },
  { name: 'DateGreaterThan with epoch seconds', policy: cond('kms:GenerateMac', { DateGreaterThan: { 'aws:CurrentTime': '1700000000' } }), who: 'alice', now: Date.parse('2026-11-25T00:00:00Z'), expect: 'allow' },
  { name: 'DateGreaterThanEquals / DateLessThanEquals window', policy: cond('kms:GenerateMac', { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-11-25T00:00:00Z' }, DateLessThanEquals: { 'aws:CurrentTime': '2026-11-25T00:00:00Z' } }), who: 'alice', now: Date.parse('2026-11-25T00:00:00Z'), expect: 'allow' },
  { name: 'DateEquals and DateNotEquals', policy: cond('kms:GenerateMac', { DateNotEquals: { 'aws:CurrentTime': '2026-11-25T00:00:00Z' } }), who: 'alice', now: Date.parse('2026-11-25T00:00:00Z'), expect: 'no-resource' },
  { name: 'Bool aws:SecureTransport false', policy: cond('kms:GenerateMac', { Bool: { 'aws:SecureTransport': 'true' } }), who: 'alice', secure: false, expect: 'no-resource' },
  { name: 'Bool aws:SecureTransport true', policy: cond('kms:GenerateMac', { Bool: { 'aws:SecureTransport': true } }), who: 'alice', secure: true, expect: 'allow' },
  { name: 'Bool kms:MultiRegion', policy: cond('kms:GenerateMac', { Bool: { 'kms:MultiRegion': 'false' } }), who: 'alice', expect: 'allow' },
  { name: 'deny unless TLS (Bool in a Deny)', policy: withDefault({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), who: 'rootA', secure: false, expect: 'deny-resource' },
  { name: 'IpAddress in range', policy: cond('kms:GenerateMac', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }), who: 'alice', sourceIp: '10.1.2.3', expect: 'allow' },
  { name: 'IpAddress out of range', policy: cond('kms:GenerateMac', { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } }), who: 'alice', sourceIp: '127.0.0.1', expect: 'no-resource' },
  { name: 'IpAddress IPv6 and single address', policy: cond('kms:GenerateMac', { IpAddress: { 'aws:SourceIp': ['::1', '2001:db8::/32'] } }), who: 'alice', sourceIp: '2001:db8::5', expect: 'allow' },
  { name: 'NotIpAddress in a Deny', policy: withDefault({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } }), who: 'rootA', sourceIp: '203.0.113.9', expect: 'deny-resource' },
  { name: 'NotIpAddress in a Deny spares the allowed range', policy: withDefault({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } }), who: 'rootA', sourceIp: '127.0.0.1', expect: 'allow' },
  { name: 'Null true on an absent key', policy: cond('kms:GenerateMac', { Null: { 'kms:RequestAlias': 'true' } }), who: 'alice', expect: 'allow' },
  { name: 'Null false requires the key', policy: cond('kms:GenerateMac', { Null: { 'kms:RequestAlias': 'false' } }), who: 'alice', expect: 'no-resource' },
  { name: 'several keys in one operator are ANDed', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256', 'kms:CallerAccount': B } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'no-resource' },
  { name: 'unknown operator never allows', policy: cond('kms:GenerateMac', { StringSoundsLike: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_256' }, expect: 'no-resource' },
  { name: 'unknown operator in a Deny denies', policy: withDefault({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { Frobnicate: { 'aws:SourceIp': '1.2.3.4' } } }), who: 'rootA', expect: 'deny-resource' },
  // --- Condition keys ---
  { name: 'kms:CallerAccount', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:CallerAccount': A } }), who: 'alice', expect: 'allow' },
  { name: 'aws:PrincipalAccount', policy: cond('kms:GenerateMac', { StringEquals: { 'aws:PrincipalAccount': B } }), who: 'alice', expect: 'no-resource' },
  { name: 'kms:KeySpec', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:KeySpec': 'HMAC_256' } }), who: 'alice', expect: 'allow' },
  { name: 'kms:KeySpec of another spec', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:KeySpec': 'HMAC_512' } }), who: 'alice', expect: 'no-resource' },
  { name: 'kms:KeyUsage', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:KeyUsage': 'GENERATE_VERIFY_MAC' } }), who: 'alice', expect: 'allow' },
  { name: 'kms:KeyOrigin', policy: cond('kms:GenerateMac', { StringEquals: { 'kms:KeyOrigin': 'EXTERNAL' } }), who: 'alice', expect: 'no-resource' },
  { name: 'kms:MultiRegion true on an mrk key', policy: cond('kms:GenerateMac', { Bool: { 'kms:MultiRegion': 'true' } }), who: 'alice', key: { multiRegion: true }, expect: 'allow' },
  { name: 'kms:ResourceAliases with ForAnyValue', policy: cond('kms:GenerateMac', { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/finance-*' } }), who: 'alice', resourceAliases: ['alias/x', 'alias/finance-1'], expect: 'allow' },
  { name: 'kms:ResourceAliases with ForAnyValue, none match', policy: cond('kms:GenerateMac', { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/finance-*' } }), who: 'alice', resourceAliases: ['alias/x'], expect: 'no-resource' },
  { name: 'ForAnyValue on an empty set is false', policy: cond('kms:GenerateMac', { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': '*' } }), who: 'alice', resourceAliases: [], expect: 'no-resource' },
  { name: 'kms:GrantOperations with ForAllValues (subset)', policy: cond('kms:CreateGrant', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['GenerateMac', 'VerifyMac'] } }), who: 'alice', action: 'kms:CreateGrant', values: { 'kms:grantoperations': ['VerifyMac'] }, expect: 'allow' },
  { name: 'kms:GrantOperations with ForAllValues (not a subset)', policy: cond('kms:CreateGrant', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['GenerateMac', 'VerifyMac'] } }), who: 'alice', action: 'kms:CreateGrant', values: { 'kms:grantoperations': ['VerifyMac', 'CreateGrant'] }, expect: 'no-resource' },
  { name: 'ForAllValues on a missing key is true', policy: cond('kms:CreateGrant', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['GenerateMac'] } }), who: 'alice', action: 'kms:CreateGrant', expect: 'allow' },
  { name: 'kms:GranteePrincipal', policy: cond('kms:CreateGrant', { StringEquals: { 'kms:GranteePrincipal': bob } }), who: 'alice', action: 'kms:CreateGrant', values: { 'kms:granteeprincipal': bob }, expect: 'allow' },
  { name: 'kms:RetiringPrincipal missing with Null', policy: cond('kms:CreateGrant', { Null: { 'kms:RetiringPrincipal': 'false' } }), who: 'alice', action: 'kms:CreateGrant', expect: 'no-resource' },
  { name: 'aws:ResourceTag matches (tag key case-insensitive)', policy: cond('kms:GenerateMac', { StringEquals: { 'aws:ResourceTag/env': 'prod' } }), who: 'alice', expect: 'allow' },
  { name: 'aws:ResourceTag differs', policy: cond('kms:GenerateMac', { StringEquals: { 'aws:ResourceTag/Env': 'dev' } }), who: 'alice', expect: 'no-resource' },
  { name: 'aws:RequestTag on TagResource', policy: cond('kms:TagResource', { StringEquals: { 'aws:RequestTag/Owner': 'team-a' } }), who: 'alice', action: 'kms:TagResource', values: { 'aws:requesttag/owner': 'team-a', 'aws:tagkeys': ['Owner'] }, expect: 'allow' },
  { name: 'aws:TagKeys ForAllValues restricts tag keys', policy: cond('kms:TagResource', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['Owner', 'Env'] } }), who: 'alice', action: 'kms:TagResource', values: { 'aws:tagkeys': ['Owner', 'Secret'] }, expect: 'no-resource' },
  { name: 'aws:username', policy: cond('kms:GenerateMac', { StringEquals: { 'aws:username': 'alice' } }), who: 'alice', expect: 'allow' },
  { name: 'aws:PrincipalType', policy: cond('kms:GenerateMac', { StringEquals: { 'aws:PrincipalType': 'Account' } }), who: 'alice', expect: 'no-resource' },
  { name: 'kms:BypassPolicyLockoutSafetyCheck', policy: withDefault({ Effect: 'Deny', Principal: '*', Action: 'kms:PutKeyPolicy', Resource: '*', Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } } }), who: 'rootA', action: 'kms:PutKeyPolicy', values: { 'kms:bypasspolicylockoutsafetycheck': 'true' }, expect: 'deny-resource' },
  { name: 'condition in the identity policy', policy: DEFAULT, identity: stmt({ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: '*', Condition: { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } } }), who: 'alice', values: { 'kms:macalgorithm': 'HMAC_SHA_384' }, expect: 'no-identity' },
]

const REASONS: Record<Exclude<Case['expect'], 'allow'>, RegExp> = {
  'no-resource': /^because no resource-based policy allows the kms:\w+ action$/,
  'no-identity': /^because no identity-based policy allows the kms:\w+ action$/,
  'deny-resource': /^with an explicit deny in a resource-based policy$/,
  'deny-identity': /^with an explicit deny in an identity-based policy$/,
}

function grantsOf(partial: Partial<GrantRecord>[] | undefined): GrantIndex {
  return new GrantIndex(
    (partial ?? []).map((g, i) => ({
      grantId: `g${i}`,
      accountId: A,
      region: 'us-east-1',
      keyId: 'k',
      granteePrincipal: '',
      operations: [],
      issuingAccount: rootA,
      creationDate: 0,
      ...g,
    })),
  )
}

describe('policy evaluation table', () => {
  it('has at least 60 cases', () => assert.ok(CASES.length >= 60, `${CASES.length} cases`))
  for (const c of CASES) {
    it(c.name, () => {
      const who = WHO[c.who]
      const principal: Principal = { ...who, identity: c.identity ? compilePolicy(JSON.stringify(c.identity), 'identity') : undefined }
      const policy: CompiledPolicy = compilePolicy(JSON.stringify(c.policy), 'key')
      const values = new Map(Object.entries(c.values ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]))
      const lookup = conditionLookup(
        { principalArn: who.arn, accountId: who.accountId, isRoot: who.isRoot, principalType: who.isRoot ? 'Account' : 'User', userName: who.userName, sourceIp: c.sourceIp ?? '127.0.0.1', secure: c.secure ?? false, now: c.now ?? Date.now(), region: 'us-east-1' },
        { record: key(c.key), requestAlias: c.requestAlias, resourceAliases: c.resourceAliases },
        values,
      )
      const action = c.action ?? 'kms:GenerateMac'
      const decision = decideKeyAccess(principal, { accountId: A, arn: KEY_ARN, policy, grants: grantsOf(c.grants) }, {
        action,
        crossAccount: c.crossAccount ?? true,
        grantOperation: action.startsWith('kms:') && ['kms:GenerateMac', 'kms:VerifyMac', 'kms:CreateGrant'].includes(action) ? action.slice(4) : undefined,
        lookup,
      })
      if (c.expect === 'allow') assert.deepEqual(decision, { allowed: true })
      else {
        assert.equal(decision.allowed, false)
        assert.match(decision.allowed ? '' : decision.reason, REASONS[c.expect])
      }
    })
  }
})

describe('identity-only actions (CreateKey, ListKeys)', () => {
  const lookup = () => undefined
  it('allow the root user, and users whose policy allows them', () => {
    assert.equal(decideIdentityAccess({ ...WHO.rootA }, 'kms:CreateKey', '*', lookup).allowed, true)
    assert.equal(decideIdentityAccess({ ...WHO.alice }, 'kms:CreateKey', '*', lookup).allowed, false)
    const identity = compilePolicy(JSON.stringify(stmt({ Effect: 'Allow', Action: 'kms:Create*', Resource: '*' })), 'identity')
    assert.equal(decideIdentityAccess({ ...WHO.alice, identity }, 'kms:CreateKey', '*', lookup).allowed, true)
    assert.equal(decideIdentityAccess({ ...WHO.alice, identity }, 'kms:ListKeys', '*', lookup).allowed, false)
  })
})

describe('policy grammar', () => {
  const bad: [string, unknown][] = [
    ['not JSON', '{'],
    ['an array', []],
    ['no Statement', { Version: '2012-10-17' }],
    ['an unknown Version', { Version: '2013-01-01', Statement: [] }],
    ['an empty Statement list', { Version: '2012-10-17', Statement: [] }],
    ['an unknown Effect', stmt({ Effect: 'Maybe', Principal: '*', Action: 'kms:*', Resource: '*' })],
    ['no principal in a key policy', stmt({ Effect: 'Allow', Action: 'kms:*', Resource: '*' })],
    ['a principal of an unknown type', stmt({ Effect: 'Allow', Principal: { Federated: 'x' }, Action: 'kms:*', Resource: '*' })],
    ['a malformed principal', stmt({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::12:root' }, Action: 'kms:*', Resource: '*' })],
    ['an unknown statement element', stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Extra: 1 })],
    ['Action and NotAction together', stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:*', NotAction: 'kms:X', Resource: '*' })],
    ['an invalid action', stmt({ Effect: 'Allow', Principal: '*', Action: 'GenerateMac', Resource: '*' })],
    ['a bad numeric value', stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { NumericEquals: { 'kms:X': 'ten' } } })],
    ['a bad IP range', stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '300.0.0.1/8' } } })],
    ['duplicate Sids', { Version: '2012-10-17', Statement: [{ Sid: 'a', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }, { Sid: 'a', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' }] }],
  ]
  for (const [name, doc] of bad) {
    it(`refuses ${name}`, () => {
      const text = typeof doc === 'string' ? doc : JSON.stringify(doc)
      assert.throws(() => compilePolicy(text, 'key'), MalformedPolicyDocumentException)
    })
  }
  it('refuses a Principal in an identity policy', () => {
    assert.throws(() => compilePolicy(JSON.stringify(stmt({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' })), 'identity'), MalformedPolicyDocumentException)
  })
  it('lists the principals a policy names and the condition keys it uses', () => {
    const p = compilePolicy(JSON.stringify(cond('kms:GenerateMac', { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': '*' } })), 'key')
    assert.ok(p.conditionKeys.has('kms:resourcealiases'))
    const q = compilePolicy(JSON.stringify(stmt({ Effect: 'Allow', Principal: { AWS: [alice, rootB, A] }, Action: 'kms:*', Resource: '*' })), 'key')
    assert.deepEqual(q.principalArns, [alice, rootB])
  })
})
