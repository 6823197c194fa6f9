// IAM policy documents (key policies and identity policies): parsed and compiled once when they
// are written or loaded, then evaluated per request with a few set lookups. Conditions are
// compiled into closures; request values are looked up lazily, so a policy without conditions
// (the default key policy) never builds a condition context at all.
//
// Semantics follow the IAM policy evaluation logic: statements match on principal, action,
// resource and every condition (AND across operators and keys, OR across a key's values); the
// caller of this module (authorize.ts) combines explicit denies, key policy, identity policy and
// grants. Anything we cannot interpret fails closed.
import { BlockList, isIP } from 'node:net'
import { MalformedPolicyDocumentException } from '../protocol/errors.js'
import { compileGlob, compileGlobs, type Matcher } from './glob.js'

export type Effect = 'Allow' | 'Deny'

/** Request values for condition keys, by lower-cased key name; undefined when absent. */
export type ConditionLookup = (keyLower: string) => readonly string[] | undefined

/** Who is asking, as far as principal matching needs to know. */
export interface Subject {
  readonly accountId: string
  readonly arn: string
  readonly isRoot: boolean
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

/** A compiled condition test over the request context. */
type ConditionTest = (lookup: ConditionLookup) => boolean

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

export type PolicyKind = 'key' | 'identity'

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

function malformed(message: string): MalformedPolicyDocumentException {
  return new MalformedPolicyDocumentException(message)
}

const never: Matcher = () => false

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
    principals = compilePrincipals(hasPrincipal ? s['Principal'] : s['NotPrincipal'], out)
  }

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
    resource: resource ?? never,
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

function compilePrincipals(value: unknown, out: Collected): Principals {
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

// ---- Conditions ----

type Qualifier = 'any' | 'all' | undefined

interface OperatorSpec {
  /** Compiles the policy values into a test of one request value (the positive form). */
  readonly compile: (values: readonly string[]) => Matcher
  readonly negated: boolean
}

function stringEquals(values: readonly string[]): Matcher {
  const set = new Set(values)
  return (v) => set.has(v)
}
function stringEqualsIgnoreCase(values: readonly string[]): Matcher {
  const set = new Set(values.map((v) => v.toLowerCase()))
  return (v) => set.has(v.toLowerCase())
}
function stringLike(values: readonly string[]): Matcher {
  return compileGlobs(values)
}
/** ArnLike/ArnEquals: each of the six colon-separated parts is matched on its own. */
function arnLike(values: readonly string[]): Matcher {
  const patterns = values.map((v) => arnParts(v)?.map(compileGlob))
  return (v) => {
    const parts = arnParts(v)
    if (!parts) return false
    return patterns.some((p) => p !== undefined && p.every((match, i) => match(parts[i] ?? '')))
  }
}
function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':')
  if (parts.length < 6 || parts[0] !== 'arn') return undefined
  return [...parts.slice(0, 5), parts.slice(5).join(':')]
}
function parseNumber(v: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v.trim())) return undefined
  return Number(v)
}
/** Numeric* and Date* operators: both sides parsed to numbers, then compared with `test`. */
function ordered(parse: (v: string) => number | undefined, kind: string) {
  return (test: (a: number, b: number) => boolean) =>
    (values: readonly string[]): Matcher => {
      const bounds = values.map((v) => {
        const n = parse(v)
        if (n === undefined) throw malformed(`Policy contains an invalid ${kind} condition value: ${v}.`)
        return n
      })
      return (v) => {
        const n = parse(v)
        return n !== undefined && bounds.some((p) => test(n, p))
      }
    }
}
const numeric = ordered(parseNumber, 'numeric')
function parseDate(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v) * 1000
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}
const date = ordered(parseDate, 'date')
function boolMatch(values: readonly string[]): Matcher {
  const set = new Set(values.map((v) => v.toLowerCase()))
  return (v) => set.has(v.toLowerCase())
}
function ipAddress(values: readonly string[]): Matcher {
  const list = new BlockList()
  for (const v of values) {
    const [addr = '', bits] = v.split('/')
    const type = isIP(addr)
    const prefix = bits === undefined ? (type === 6 ? 128 : 32) : Number(bits)
    if (type === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 6 ? 128 : 32)) {
      throw malformed(`Policy contains an invalid IP address condition value: ${v}.`)
    }
    list.addSubnet(addr, prefix, type === 6 ? 'ipv6' : 'ipv4')
  }
  return (v) => {
    const addr = v.startsWith('::ffff:') && isIP(v.slice(7)) === 4 ? v.slice(7) : v
    const type = isIP(addr)
    return type !== 0 && list.check(addr, type === 6 ? 'ipv6' : 'ipv4')
  }
}

const OPERATORS: Record<string, OperatorSpec> = {
  stringequals: { compile: stringEquals, negated: false },
  stringnotequals: { compile: stringEquals, negated: true },
  stringequalsignorecase: { compile: stringEqualsIgnoreCase, negated: false },
  stringnotequalsignorecase: { compile: stringEqualsIgnoreCase, negated: true },
  stringlike: { compile: stringLike, negated: false },
  stringnotlike: { compile: stringLike, negated: true },
  arnequals: { compile: arnLike, negated: false },
  arnnotequals: { compile: arnLike, negated: true },
  arnlike: { compile: arnLike, negated: false },
  arnnotlike: { compile: arnLike, negated: true },
  numericequals: { compile: numeric((a, b) => a === b), negated: false },
  numericnotequals: { compile: numeric((a, b) => a === b), negated: true },
  numericlessthan: { compile: numeric((a, b) => a < b), negated: false },
  numericlessthanequals: { compile: numeric((a, b) => a <= b), negated: false },
  numericgreaterthan: { compile: numeric((a, b) => a > b), negated: false },
  numericgreaterthanequals: { compile: numeric((a, b) => a >= b), negated: false },
  dateequals: { compile: date((a, b) => a === b), negated: false },
  datenotequals: { compile: date((a, b) => a === b), negated: true },
  datelessthan: { compile: date((a, b) => a < b), negated: false },
  datelessthanequals: { compile: date((a, b) => a <= b), negated: false },
  dategreaterthan: { compile: date((a, b) => a > b), negated: false },
  dategreaterthanequals: { compile: date((a, b) => a >= b), negated: false },
  bool: { compile: boolMatch, negated: false },
  ipaddress: { compile: ipAddress, negated: false },
  notipaddress: { compile: ipAddress, negated: true },
}

function compileConditions(value: unknown, out: Collected): ConditionTest[] {
  if (!isObject(value)) throw malformed('The statement Condition must be a JSON object.')
  const tests: ConditionTest[] = []
  for (const [operatorName, block] of Object.entries(value)) {
    if (!isObject(block) || Object.keys(block).length === 0) {
      throw malformed(`Condition ${operatorName} must map condition keys to values.`)
    }
    const parsed = parseOperator(operatorName)
    for (const [key, raw] of Object.entries(block)) {
      if (!/^[A-Za-z0-9-]+:[^\s]+$/.test(key)) throw malformed(`Policy contains an invalid condition key: ${key}.`)
      const keyLower = key.toLowerCase()
      out.conditionKeys.add(keyLower)
      const values = conditionValues(raw, key)
      if (parsed === undefined) {
        out.unknownOperators.push(operatorName)
        tests.push(UNKNOWN_OPERATOR)
        continue
      }
      tests.push(compileCondition(parsed, keyLower, values))
    }
  }
  return tests
}

/** A condition we cannot evaluate: it never lets an Allow through, and always makes a Deny apply. */
export const UNKNOWN_OPERATOR: ConditionTest = () => false

interface ParsedOperator {
  readonly qualifier: Qualifier
  readonly ifExists: boolean
  readonly name: string
  readonly spec: OperatorSpec | 'null'
}

function parseOperator(raw: string): ParsedOperator | undefined {
  let name = raw
  let qualifier: Qualifier
  if (name.startsWith('ForAnyValue:')) {
    qualifier = 'any'
    name = name.slice('ForAnyValue:'.length)
  } else if (name.startsWith('ForAllValues:')) {
    qualifier = 'all'
    name = name.slice('ForAllValues:'.length)
  }
  let ifExists = false
  if (name.endsWith('IfExists')) {
    ifExists = true
    name = name.slice(0, -'IfExists'.length)
  }
  const lower = name.toLowerCase()
  if (lower === 'null') return ifExists || qualifier ? undefined : { qualifier, ifExists, name, spec: 'null' }
  if (!Object.hasOwn(OPERATORS, lower)) return undefined
  return { qualifier, ifExists, name, spec: OPERATORS[lower] as OperatorSpec }
}

function conditionValues(raw: unknown, key: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw]
  if (list.length === 0) throw malformed(`Condition key ${key} has no values.`)
  return list.map((v) => {
    if (typeof v === 'string') return v
    if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    throw malformed(`Condition key ${key} must have string, number or boolean values.`)
  })
}

function compileCondition(op: ParsedOperator, key: string, values: readonly string[]): ConditionTest {
  if (op.spec === 'null') {
    const wantsAbsent = new Set(values.map((v) => v.toLowerCase()))
    return (lookup) => {
      const v = lookup(key)
      const absent = v === undefined || v.length === 0
      return wantsAbsent.has(absent ? 'true' : 'false')
    }
  }
  const { negated } = op.spec
  const positive = op.spec.compile(values)
  const single: Matcher = negated ? (v) => !positive(v) : positive
  const { qualifier, ifExists } = op
  if (qualifier === 'all') {
    return (lookup) => {
      const v = lookup(key)
      return v === undefined || v.every(single)
    }
  }
  if (qualifier === 'any') {
    return (lookup) => {
      const v = lookup(key)
      return v !== undefined && v.some(single)
    }
  }
  return (lookup) => {
    const v = lookup(key)
    // Missing key: false, except for negated operators and ...IfExists (IAM's rules).
    if (v === undefined || v.length === 0) return ifExists || negated
    return negated ? !v.some(positive) : v.some(positive)
  }
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
  if (p.anyone || p.arns.has(subject.arn)) m = 'direct'
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
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
