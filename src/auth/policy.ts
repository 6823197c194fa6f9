// IAM policy documents (key policies and identity policies): parsed and compiled once when they
// are written or loaded, then evaluated per request with a few set lookups. Conditions are
// compiled into closures; request values are looked up lazily, so a policy without conditions
// (the default key policy) never builds a condition context at all.
//
// Semantics follow the IAM policy evaluation logic: statements match on principal, action,
// resource and every condition (AND across operators and keys, OR across a key's values); the
// caller of this module (authorize.ts) combines explicit denies, key policy, identity policy and
// grants. Anything we cannot interpret fails closed.
import { compileConditions, isObject, malformed, UNKNOWN_OPERATOR, type ConditionLookup, type ConditionTest } from './conditions.js'
import { compileGlobs, type Matcher } from './glob.js'

export { UNKNOWN_OPERATOR, type ConditionLookup } from './conditions.js'

export type Effect = 'Allow' | 'Deny'


/** Who is asking, as far as principal matching needs to know. */
export interface Subject {
  readonly accountId: string
  readonly arn: string
  readonly isRoot: boolean
  /** A role session's role: a policy naming the role names each of its sessions. */
  readonly roleArn?: string | undefined
}

/** How a key-policy statement's principal covers a subject. */
export type PrincipalMatch = 'direct' | 'account' | undefined

interface Principals {
  readonly anyone: boolean
  readonly accounts: ReadonlySet<string>
  readonly arns: ReadonlySet<string>
}

interface Statement {
  readonly sid: string | undefined
  readonly effect: Effect
  readonly principals: Principals | undefined
  readonly notPrincipal: boolean
  readonly action: Matcher
  readonly resource: Matcher
  readonly conditions: readonly ConditionTest[]
}

export interface CompiledPolicy {
  readonly text: string
  readonly allow: readonly Statement[]
  readonly deny: readonly Statement[]
  /** Every principal ARN the policy names (users, roles, roots), for the existence check. */
  readonly principalArns: readonly string[]
  /** Condition keys used, lower-cased (to prefetch costly ones such as kms:ResourceAliases). */
  readonly conditionKeys: ReadonlySet<string>
  /** Condition operators we do not know; such statements fail closed. */
  readonly unknownOperators: readonly string[]
}

/** Key policies and role trust policies name principals; identity policies do not. */
export type PolicyKind = 'key' | 'identity' | 'trust'

const VERSIONS = new Set(['2012-10-17', '2008-10-17'])
const POLICY_FIELDS = new Set(['Version', 'Id', 'Statement'])
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
])


const never: Matcher = () => false
const always: Matcher = () => true

/**
 * Parses and compiles a policy document. Throws MalformedPolicyDocumentException for anything
 * that is not a valid policy of this kind. Unknown condition operators do not throw here (so a
 * stored policy can still be loaded) but are listed in `unknownOperators` and never allow.
 */
export function compilePolicy(text: string, kind: PolicyKind): CompiledPolicy {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw malformed('The policy is not valid JSON.')
  }
  if (!isObject(doc)) throw malformed('The policy must be a JSON object.')
  for (const field of Object.keys(doc)) {
    if (!POLICY_FIELDS.has(field)) throw malformed(`Policy has an unknown element: ${field}.`)
  }
  const version = doc['Version']
  if (version !== undefined && (typeof version !== 'string' || !VERSIONS.has(version))) {
    throw malformed('The policy Version must be 2012-10-17 or 2008-10-17.')
  }
  if (doc['Id'] !== undefined && typeof doc['Id'] !== 'string') throw malformed('The policy Id must be a string.')
  const raw = doc['Statement']
  if (raw === undefined) throw malformed('The policy must contain a Statement.')
  const list = Array.isArray(raw) ? raw : [raw]
  if (list.length === 0) throw malformed('The policy must contain at least one statement.')

  const allow: Statement[] = []
  const deny: Statement[] = []
  const principalArns: string[] = []
  const conditionKeys = new Set<string>()
  const unknownOperators: string[] = []
  const sids = new Set<string>()
  for (const item of list) {
    if (!isObject(item)) throw malformed('Each policy statement must be a JSON object.')
    const statement = compileStatement(item, kind, { principalArns, conditionKeys, unknownOperators })
    if (statement.sid !== undefined && statement.sid !== '') {
      if (sids.has(statement.sid)) throw malformed(`Statement IDs (SID) in a single policy must be unique: ${statement.sid}.`)
      sids.add(statement.sid)
    }
    ;(statement.effect === 'Allow' ? allow : deny).push(statement)
  }
  return { text, allow, deny, principalArns, conditionKeys, unknownOperators }
}

interface Collected {
  principalArns: string[]
  conditionKeys: Set<string>
  unknownOperators: string[]
}

function compileStatement(s: Record<string, unknown>, kind: PolicyKind, out: Collected): Statement {
  for (const field of Object.keys(s)) {
    if (!STATEMENT_FIELDS.has(field)) throw malformed(`Policy statement has an unknown element: ${field}.`)
  }
  const sid = s['Sid']
  if (sid !== undefined && (typeof sid !== 'string' || !/^[A-Za-z0-9 _.:/=+\-@,]*$/.test(sid))) {
    throw malformed('The statement Sid must be a string of letters, digits and spaces.')
  }
  const effect = s['Effect']
  if (effect !== 'Allow' && effect !== 'Deny') throw malformed('The statement Effect must be Allow or Deny.')

  const hasPrincipal = s['Principal'] !== undefined
  const hasNotPrincipal = s['NotPrincipal'] !== undefined
  let principals: Principals | undefined
  if (kind === 'identity') {
    if (hasPrincipal || hasNotPrincipal) throw malformed('Identity policies must not name a Principal.')
  } else {
    if (hasPrincipal === hasNotPrincipal) {
      throw malformed('Policy contains a statement with no principal or with both Principal and NotPrincipal.')
    }
    principals = compilePrincipals(hasPrincipal ? s['Principal'] : s['NotPrincipal'], out, kind)
  }
  // A trust policy is about its role alone (IAM: "Has prohibited field Resource").
  if (kind === 'trust' && (s['Resource'] !== undefined || s['NotResource'] !== undefined)) throw malformed('Has prohibited field Resource')

  const action = compileEither(s, 'Action', 'NotAction', compileActions)
  const resource = compileEither(s, 'Resource', 'NotResource', compileResources)
  const conditions = s['Condition'] === undefined ? [] : compileConditions(s['Condition'], out)
  return {
    sid: sid,
    effect,
    principals,
    notPrincipal: hasNotPrincipal,
    // A statement without Action or Resource is accepted but has no effect (IAM User Guide, Policy evaluation logic).
    action: action ?? never,
    resource: resource ?? (kind === 'trust' ? always : never),
    conditions,
  }
}

function compileEither(
  s: Record<string, unknown>,
  name: string,
  notName: string,
  compile: (patterns: readonly string[]) => Matcher,
): Matcher | undefined {
  const value = s[name]
  const notValue = s[notName]
  if (value !== undefined && notValue !== undefined) throw malformed(`A statement cannot have both ${name} and ${notName}.`)
  if (value === undefined && notValue === undefined) return undefined
  const patterns = stringList(value ?? notValue, value !== undefined ? name : notName)
  const m = compile(patterns)
  return value !== undefined ? m : (v) => !m(v)
}

function stringList(value: unknown, name: string): string[] {
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) throw malformed(`${name} must not be empty.`)
  for (const v of list) {
    if (typeof v !== 'string' || v.length === 0) throw malformed(`${name} must be a string or a list of strings.`)
  }
  return list as string[]
}

/** Actions: `service:name` with `*` and `?` wildcards, compared case-insensitively. */
function compileActions(patterns: readonly string[]): Matcher {
  for (const p of patterns) {
    if (p !== '*' && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(p)) throw malformed(`Policy contains an invalid action: ${p}.`)
  }
  return compileGlobs(patterns, { ignoreCase: true })
}

/** Resources: `*` or ARNs with `*` and `?` wildcards, case-sensitive. */
function compileResources(patterns: readonly string[]): Matcher {
  for (const p of patterns) {
    if (p !== '*' && !p.startsWith('arn:')) throw malformed(`Policy contains an invalid resource: ${p}.`)
  }
  return compileGlobs(patterns)
}

const ACCOUNT_ID = /^\d{12}$/
const IAM_ARN = /^arn:([a-z-]+):iam::(\d{12}):(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+|assumed-role\/[\w+=,.@/-]+)$/
const STS_ARN = /^arn:([a-z-]+):sts::(\d{12}):(assumed-role|federated-user)\/[\w+=,.@/-]+$/

/** An AWS principal ARN: account root, IAM user or role, assumed role, federated user. */
export function isPrincipalArn(value: string): boolean {
  return IAM_ARN.test(value) || STS_ARN.test(value)
}

/** A web-identity provider as a trust policy's Federated principal names it. */
const OIDC_PROVIDER_ARN = /^arn:[a-z-]+:iam::\d{12}:oidc-provider\/[\w.:/-]{1,255}$/

function compilePrincipals(value: unknown, out: Collected, kind: PolicyKind): Principals {
  if (value === '*') return { anyone: true, accounts: new Set(), arns: new Set() }
  if (!isObject(value)) throw malformed('Policy contains a statement with one or more invalid principals.')
  let anyone = false
  const accounts = new Set<string>()
  const arns = new Set<string>()
  for (const [type, raw] of Object.entries(value)) {
    const list = Array.isArray(raw) ? raw : [raw]
    if (list.length === 0 || list.some((v) => typeof v !== 'string')) {
      throw malformed('Policy contains a statement with one or more invalid principals.')
    }
    for (const p of list as string[]) {
      if (type === 'AWS') {
        if (p === '*') anyone = true
        else if (ACCOUNT_ID.test(p)) accounts.add(p)
        else if (IAM_ARN.test(p) || STS_ARN.test(p)) {
          const m = /^arn:[a-z-]+:(?:iam|sts)::(\d{12}):(.*)$/.exec(p)
          if (m?.[2] === 'root') accounts.add(m[1] ?? '')
          else arns.add(p)
          out.principalArns.push(p)
        } else throw malformed('Policy contains a statement with one or more invalid principals.')
      } else if (type === 'Federated' && kind === 'trust') {
        if (!OIDC_PROVIDER_ARN.test(p)) throw malformed('Policy contains a statement with one or more invalid principals.')
        arns.add(p)
        out.principalArns.push(p)
      } else if (type === 'Service') {
        // Service principals are valid but no service calls macaw on anyone's behalf.
        if (!/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(p)) {
          throw malformed('Policy contains a statement with one or more invalid principals.')
        }
      } else {
        throw malformed('Policy contains a statement with one or more invalid principals.')
      }
    }
  }
  return { anyone, accounts, arns }
}

// ---- Evaluation ----

function principalMatch(p: Principals | undefined, notPrincipal: boolean, subject: Subject): PrincipalMatch {
  if (p === undefined) return 'direct'
  if (notPrincipal) {
    // NotPrincipal spares only the principals it names exactly: naming an account spares its root
    // user, not the account's users (IAM's rule, which is why both are usually listed).
    const spared = p.anyone || p.arns.has(subject.arn) || (subject.isRoot && p.accounts.has(subject.accountId))
    return spared ? undefined : 'direct'
  }
  let m: PrincipalMatch
  if (p.anyone || p.arns.has(subject.arn) || (subject.roleArn !== undefined && p.arns.has(subject.roleArn))) m = 'direct'
  else if (p.accounts.has(subject.accountId)) m = subject.isRoot ? 'direct' : 'account'
  return m
}

function conditionsHold(s: Statement, lookup: ConditionLookup): boolean {
  for (const c of s.conditions) if (!c(lookup)) return false
  return true
}

function appliesTo(s: Statement, action: string, resource: string, lookup: ConditionLookup): boolean {
  return s.action(action) && s.resource(resource) && conditionsHold(s, lookup)
}

/**
 * Does an Allow statement cover the request? For key policies, `direct` when it names the subject
 * itself (or everyone, or the subject is its account's root), `account` when it names only the
 * subject's account (which delegates to the account's identity policies).
 */
export function allowMatch(
  policy: CompiledPolicy,
  subject: Subject,
  action: string,
  resource: string,
  lookup: ConditionLookup,
): PrincipalMatch {
  let best: PrincipalMatch
  for (const s of policy.allow) {
    const m = principalMatch(s.principals, s.notPrincipal, subject)
    if (m === undefined || (best === 'account' && m === 'account')) continue
    if (!appliesTo(s, action, resource, lookup)) continue
    if (m === 'direct') return 'direct'
    best = m
  }
  return best
}

/** Does a Deny statement cover the request? A statement we cannot evaluate counts as a deny. */
export function denies(
  policy: CompiledPolicy,
  subject: Subject,
  action: string,
  resource: string,
  lookup: ConditionLookup,
): boolean {
  for (const s of policy.deny) {
    if (principalMatch(s.principals, s.notPrincipal, subject) === undefined) continue
    if (!s.action(action) || !s.resource(resource)) continue
    if (s.conditions.includes(UNKNOWN_OPERATOR) || conditionsHold(s, lookup)) return true
  }
  return false
}


/**
 * What a compiled policy is taken to weigh in memory, for the cache budgets: measured at up to
 * about 20 bytes per character of policy text (many small statements with conditions), plus a base.
 */
export function policyBytes(policy: CompiledPolicy): number {
  return 4096 + 24 * policy.text.length
}

/**
 * Compiled policies by text: keys sharing a policy (most use the default) share one object.
 * Bounded in bytes (policyBytes); the oldest compiled policy is forgotten first, and compiled
 * again when it is next needed.
 */
export class PolicyCache {
  private readonly compiled = new Map<string, CompiledPolicy>()
  private readonly maxBytes: number
  private bytes = 0

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.maxBytes = maxBytes
  }

  /** The compiled policy; throws MalformedPolicyDocumentException as compilePolicy does. */
  get(text: string, kind: PolicyKind): CompiledPolicy {
    const id = kind + '\u0000' + text
    const hit = this.compiled.get(id)
    if (hit !== undefined) return hit
    const policy = compilePolicy(text, kind)
    const cost = policyBytes(policy)
    while (this.bytes + cost > this.maxBytes && this.compiled.size > 0) {
      const [oldestId, oldest] = this.compiled.entries().next().value as [string, CompiledPolicy]
      this.compiled.delete(oldestId)
      this.bytes -= policyBytes(oldest)
    }
    if (cost <= this.maxBytes) {
      this.compiled.set(id, policy)
      this.bytes += cost
    }
    return policy
  }

  /** Bytes held (estimated). */
  get size(): number {
    return this.bytes
  }
}

/** Denies every action: what an identity whose policy cannot be read gets. */
export const DENY_ALL: CompiledPolicy = compilePolicy(
  '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}',
  'identity',
)
