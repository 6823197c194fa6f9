// IAM condition blocks (`"Condition": {"StringEquals": {"kms:CallerAccount": "..."}}`), compiled
// once into closures over the request context: operators, ForAnyValue/ForAllValues qualifiers,
// ...IfExists, Null, and IAM's rules for missing keys. Unknown operators fail closed.
import { BlockList, isIP } from 'node:net'
import { MalformedPolicyDocumentException } from '../protocol/errors.js'
import { compileGlob, compileGlobs, type Matcher } from './glob.js'

/** Request values for condition keys, by lower-cased key name; undefined when absent. */
export type ConditionLookup = (keyLower: string) => readonly string[] | undefined

/** A compiled condition test over the request context. */
export type ConditionTest = (lookup: ConditionLookup) => boolean

export function malformed(message: string): MalformedPolicyDocumentException {
  return new MalformedPolicyDocumentException(message)
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

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

export function compileConditions(value: unknown, out: { readonly conditionKeys: Set<string>; readonly unknownOperators: string[] }): ConditionTest[] {
  if (!isObject(value)) throw malformed('The statement Condition must be a JSON object.')
  const tests: ConditionTest[] = []
  for (const [operatorName, block] of Object.entries(value)) {
    if (!isObject(block) || Object.keys(block).length === 0) {
      throw malformed(`Condition ${operatorName} must map condition keys to values.`)
    }
    const parsed = parseOperator(operatorName)
    for (const [key, raw] of Object.entries(block)) {
      if (!/^[\w./-]+:[^\s]+$/.test(key)) throw malformed(`Policy contains an invalid condition key: ${key}.`)
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
