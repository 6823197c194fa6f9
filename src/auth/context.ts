// The condition-key values of one request (AWS KMS Developer Guide, Condition keys for AWS KMS), computed only when a policy statement
// with a Condition asks for them. Keys are looked up lower-cased: IAM condition keys are
// case-insensitive, and so are tag keys in aws:ResourceTag/ and aws:RequestTag/.
import type { KeyView } from '../store/store.js'
import type { ConditionLookup } from './policy.js'
import type { Caller } from './principals.js'

export interface RequestFacts {
  /** aws:PrincipalArn: the caller's ARN, or a role session's role ARN. */
  readonly principalArn: string
  readonly accountId: string
  readonly isRoot: boolean
  /** aws:PrincipalType: Account, User or AssumedRole. */
  readonly principalType: string
  readonly userName?: string | undefined
  /** aws:userid (AWS's forms: the account id for root, `<role id>:<session>` for a role session). */
  readonly userId?: string | undefined
  /** Temporary credentials: aws:TokenIssueTime (epoch ms) and aws:PrincipalTag/<key> (lower-cased keys). */
  readonly tokenIssuedAt?: number | undefined
  readonly principalTags?: ReadonlyMap<string, string> | undefined
  readonly sourceIp: string | undefined
  readonly secure: boolean
  /** Request time, epoch ms. */
  readonly now: number
  readonly region: string
}

const PRINCIPAL_TYPES = { Root: 'Account', IAMUser: 'User', AssumedRole: 'AssumedRole', WebIdentityUser: 'WebIdentityUser' } as const

/** The facts of a request by `caller`: who it is, as the aws: condition keys name it. */
export function requestFactsOf(caller: Caller, request: Pick<RequestFacts, 'sourceIp' | 'secure' | 'now' | 'region'>): RequestFacts {
  const session = caller.session
  const tags = session?.claims.tags
  return {
    principalArn: session?.roleArn ?? caller.arn,
    accountId: caller.accountId,
    isRoot: caller.isRoot,
    principalType: PRINCIPAL_TYPES[caller.type],
    userName: caller.userName,
    userId: session?.userId ?? (caller.isRoot ? caller.accountId : undefined),
    tokenIssuedAt: session?.claims.issuedAt,
    principalTags: tags === undefined || tags.length === 0 ? undefined : new Map(tags.map(([k, v]) => [k.toLowerCase(), v])),
    ...request,
  }
}

export interface KeyFacts {
  readonly record: KeyView
  /** The alias the request named the key by, without account or region. */
  readonly requestAlias?: string | undefined
  /** Aliases pointing at the key, fetched beforehand only if a policy uses kms:ResourceAliases. */
  readonly resourceAliases?: readonly string[] | undefined
}

/** Operation-specific values (kms:MacAlgorithm, kms:GrantOperations, aws:RequestTag/..., ...). */
export type RequestValues = ReadonlyMap<string, readonly string[]>

const one = (v: string | undefined): readonly string[] | undefined => (v === undefined ? undefined : [v])

export function conditionLookup(req: RequestFacts, key: KeyFacts | undefined, values: RequestValues | undefined): ConditionLookup {
  return (name) => {
    const fromRequest = values?.get(name)
    if (fromRequest !== undefined) return fromRequest
    switch (name) {
      case 'aws:principalarn':
        return [req.principalArn]
      case 'aws:principalaccount':
      case 'kms:calleraccount':
        return [req.accountId]
      case 'aws:principaltype':
        return [req.principalType]
      case 'aws:username':
        return one(req.userName)
      case 'aws:userid':
        return one(req.userId)
      case 'aws:tokenissuetime':
        return req.tokenIssuedAt === undefined ? undefined : [new Date(req.tokenIssuedAt).toISOString()]
      case 'aws:sourceip':
        return one(req.sourceIp)
      case 'aws:securetransport':
        return [String(req.secure)]
      case 'aws:currenttime':
        return [new Date(req.now).toISOString()]
      case 'aws:epochtime':
        return [String(Math.floor(req.now / 1000))]
      case 'aws:requestedregion':
        return [req.region]
    }
    if (name.startsWith('aws:principaltag/')) return one(req.principalTags?.get(name.slice('aws:principaltag/'.length)))
    if (key === undefined) return undefined
    const r = key.record
    switch (name) {
      case 'kms:keyspec':
        return [r.keySpec]
      case 'kms:keyusage':
        return [r.keyUsage]
      case 'kms:keyorigin':
        return [r.origin]
      case 'kms:multiregion':
        return [String(r.multiRegion)]
      case 'kms:multiregionkeytype':
        return r.multiRegion ? ['PRIMARY'] : undefined
      case 'kms:requestalias':
        return one(key.requestAlias)
      case 'kms:resourcealiases':
        return key.resourceAliases
    }
    if (name.startsWith('aws:resourcetag/')) {
      const tagKey = name.slice('aws:resourcetag/'.length)
      const tag = r.tags.find((t) => t.key.toLowerCase() === tagKey)
      return tag === undefined ? undefined : [tag.value]
    }
    return undefined
  }
}

/** aws:RequestTag/<key> and aws:TagKeys for requests that carry tags. */
export function requestTagValues(tags: readonly { TagKey: string; TagValue?: string }[], into: Map<string, readonly string[]>): void {
  into.set(
    'aws:tagkeys',
    tags.map((t) => t.TagKey),
  )
  for (const t of tags) into.set(`aws:requesttag/${t.TagKey.toLowerCase()}`, [t.TagValue ?? ''])
}
