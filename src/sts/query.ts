// The AWS Query protocol as STS speaks it: a form-encoded POST (`Action=...&Version=2011-06-15`),
// answered with `<ActionResponse><ActionResult>` XML, errors as `<ErrorResponse>` with a Sender or
// Receiver fault. Parameters are read with the model's constraints (botocore's sts 2011-06-15
// model) and violations worded as AWS words them; no operation logic here.
import { headerValue, type KmsRequest } from '../protocol/wire.js'

export const STS_VERSION = '2011-06-15'
const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/'
export const FORM_TYPE = 'application/x-www-form-urlencoded'
export const XML_TYPE = 'text/xml'

/** An STS error: its Query-protocol code, HTTP status and fault side. */
export class StsError extends Error {
  readonly code: string
  readonly status: number
  readonly fault: 'Sender' | 'Receiver'

  constructor(code: string, status: number, message: string, fault: 'Sender' | 'Receiver' = 'Sender') {
    super(message)
    this.name = 'StsError'
    this.code = code
    this.status = status
    this.fault = fault
  }
}

export const validationError = (message: string): StsError => new StsError('ValidationError', 400, message)

/**
 * Is this a Query-protocol request (STS) rather than a JSON one (KMS)? A form body and no
 * X-Amz-Target; the body's Action then names the operation.
 */
export function isQueryRequest(req: Pick<KmsRequest, 'method' | 'headers'>): boolean {
  if (req.method !== 'POST' || req.headers['x-amz-target'] !== undefined) return false
  const type = headerValue(req.headers['content-type'])?.split(';')[0]?.trim().toLowerCase()
  return type === FORM_TYPE
}

/** The form's parameters; a name given twice is ambiguous and refused. */
export function parseForm(body: Buffer): Map<string, string> {
  const params = new Map<string, string>()
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (params.has(name)) throw validationError(`The parameter ${name.slice(0, 64)} is given more than once.`)
    params.set(name, value)
  }
  return params
}

/** lowerCamelCase member path, as AWS's validation messages name members. */
function memberPath(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

interface StringRule {
  readonly min: number
  readonly max: number
  /** A constant pattern over the whole value, and the model's text for it. */
  readonly pattern?: { readonly test: RegExp; readonly text: string }
  readonly sensitive?: boolean
}

/** Reads the request's parameters, collecting every violation into one ValidationError. */
export class Params {
  private readonly params: Map<string, string>
  private readonly violations: string[] = []

  constructor(params: Map<string, string>) {
    this.params = params
  }

  /** Throws the ValidationError for everything seen so far, if anything. */
  check(): void {
    const n = this.violations.length
    if (n === 0) return
    throw validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.violations.join('; ')}`)
  }

  string(name: string, rule: StringRule, path = memberPath(name)): string | undefined {
    const value = this.params.get(name)
    if (value === undefined) return undefined
    const shown = rule.sensitive === true ? 'Value' : `Value '${value.slice(0, 256)}'`
    if (value.length < rule.min) this.violations.push(`${shown} at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${rule.min}`)
    else if (value.length > rule.max) this.violations.push(`${shown} at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${rule.max}`)
    else if (rule.pattern !== undefined && !rule.pattern.test.test(value)) {
      this.violations.push(`${shown} at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${rule.pattern.text}`)
    }
    return value
  }

  required(name: string, rule: StringRule): string {
    const value = this.string(name, rule)
    if (value === undefined) this.violations.push(`Value null at '${memberPath(name)}' failed to satisfy constraint: Member must not be null`)
    return value ?? ''
  }

  integer(name: string, min: number, max: number): number | undefined {
    const text = this.params.get(name)
    if (text === undefined) return undefined
    const value = /^-?\d{1,12}$/.test(text) ? Number(text) : Number.NaN
    if (Number.isNaN(value)) {
      this.violations.push(`Value '${text.slice(0, 64)}' at '${memberPath(name)}' failed to satisfy constraint: Member must be an integer`)
    } else if (value < min) {
      this.violations.push(`Value '${value}' at '${memberPath(name)}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`)
    } else if (value > max) {
      this.violations.push(`Value '${value}' at '${memberPath(name)}' failed to satisfy constraint: Member must have value less than or equal to ${max}`)
    }
    return value
  }

  /** `Name.member.1`, `Name.member.2`, ...: the members' indexes, in order, up to `max` + 1. */
  members(name: string, max: number, field?: string): number[] {
    const out: number[] = []
    const suffix = field === undefined ? '' : `.${field}`
    for (let i = 1; i <= max + 1 && this.params.has(`${name}.member.${i}${suffix}`); i++) out.push(i)
    if (out.length > max) {
      this.violations.push(`Value at '${memberPath(name)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`)
      out.length = max
    }
    return out
  }

  has(name: string): boolean {
    return this.params.has(name)
  }

  /** The named parameters that were given, for the audit record (lowerCamelCase, each capped). */
  audited(names: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const name of names) {
      const value = this.params.get(name)
      if (value !== undefined) out[memberPath(name)] = value.length > 256 ? `${value.slice(0, 256)}...[truncated]` : value
    }
    return out
  }
}

/** XML text with &, <, > and quotes escaped. */
export function xmlText(value: string): string {
  let out = ''
  for (const c of value) {
    if (c === '&') out += '&amp;'
    else if (c === '<') out += '&lt;'
    else if (c === '>') out += '&gt;'
    else if (c === '"') out += '&quot;'
    else if (c === "'") out += '&apos;'
    else out += c
  }
  return out
}

/** A result's members, in order, as XML elements; nested objects become nested elements. */
export interface XmlMembers {
  readonly [name: string]: string | number | XmlMembers | undefined
}

export function xmlElements(members: XmlMembers): string {
  let out = ''
  for (const [name, value] of Object.entries(members)) {
    if (value === undefined) continue
    out += `<${name}>${typeof value === 'object' ? xmlElements(value) : xmlText(String(value))}</${name}>`
  }
  return out
}

export function xmlResponse(action: string, result: XmlMembers, requestId: string): string {
  return (
    `<${action}Response xmlns="${NAMESPACE}">` +
    `<${action}Result>${xmlElements(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  )
}

export function xmlError(error: StsError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${NAMESPACE}">` +
    `<Error><Type>${error.fault}</Type><Code>${xmlText(error.code)}</Code><Message>${xmlText(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`
  )
}

/** STS's timestamps: ISO 8601 in UTC, without milliseconds. */
export function stsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
