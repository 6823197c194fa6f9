// RFC 7512 URIs naming a PKCS#11 root key, such as
// `pkcs11:token=macaw;object=macaw-root?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/macaw/pin`,
// and the PIN they point at.
import { readFileSync, statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RootOfTrustError } from './file.js'

/** Where Debian's softhsm2 package installs its module; used when the URI names none. */
export const DEFAULT_MODULE_PATH = '/usr/lib/softhsm/libsofthsm2.so'

export interface Pkcs11Uri {
  /** Token label (CKA token info `label`, without its blank padding). */
  readonly token: string
  /** CKA_LABEL of the root key object. */
  readonly object: string
  /** CKA_ID of the root key object, if the URI pins it. */
  readonly id?: Buffer
  /** Token serial number, to tell apart tokens that share a label. */
  readonly serial?: string
  readonly modulePath: string
  readonly pin: { readonly source: string } | { readonly value: string }
  /** The URI with any pin-value removed: safe for logs. */
  readonly description: string
}

const PATH_ATTRIBUTES = new Set(['token', 'object', 'id', 'type', 'serial'])
const QUERY_ATTRIBUTES = new Set(['pin-source', 'pin-value', 'module-path', 'module-name'])
const PERCENT_ESCAPE = /^[0-9a-f]{2}$/i

/** RFC 7512 §2.3: every value is percent-encoded bytes; `id` is binary, the others UTF-8 text. */
function percentDecode(uri: string, name: string, raw: string): Buffer {
  const bytes: number[] = []
  for (let i = 0; i < raw.length;) {
    if (raw[i] === '%') {
      const hex = raw.slice(i + 1, i + 3)
      if (!PERCENT_ESCAPE.test(hex))
        throw new RootOfTrustError(`${redact(uri)}: bad percent-encoding in '${name}'`)
      bytes.push(parseInt(hex, 16))
      i += 3
    } else {
      const cp = raw.codePointAt(i) ?? 0
      const char = String.fromCodePoint(cp)
      bytes.push(...Buffer.from(char, 'utf8'))
      i += char.length
    }
  }
  return Buffer.from(bytes)
}

function decodeText(uri: string, name: string, raw: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(percentDecode(uri, name, raw))
  } catch (err) {
    if (err instanceof RootOfTrustError) throw err
    throw new RootOfTrustError(`${redact(uri)}: '${name}' is not UTF-8 text`)
  }
}

/** Splits `a=1;b=2` (or `&`) into raw name/value pairs, refusing repeats. */
function attributes(
  uri: string,
  part: string,
  separator: string,
  known: ReadonlySet<string>,
  where: string,
): Map<string, string> {
  const out = new Map<string, string>()
  if (part === '') return out
  for (const item of part.split(separator)) {
    const eq = item.indexOf('=')
    const name = eq < 0 ? item : item.slice(0, eq)
    if (eq < 0 || name === '')
      throw new RootOfTrustError(`${redact(uri)}: '${item}' is not a name=value ${where} attribute`)
    // Fail closed (STYLE): an attribute we would ignore could be one the operator relies on.
    if (!known.has(name)) {
      throw new RootOfTrustError(
        `${redact(uri)}: unsupported ${where} attribute '${name}' (supported: ${[...known].join(', ')})`,
      )
    }
    if (out.has(name)) throw new RootOfTrustError(`${redact(uri)}: '${name}' appears twice`)
    out.set(name, item.slice(eq + 1))
  }
  return out
}

/**
 * The URI without any pin-value attribute (the PIN itself); everything else is no secret. Applied
 * before parsing, so that error messages about a malformed URI cannot echo the PIN either.
 */
function redact(uri: string): string {
  const isPin = (item: string): boolean => {
    const name = item.split('=', 1)[0] ?? ''
    try {
      return decodeURIComponent(name).toLowerCase() === 'pin-value'
    } catch {
      return name.toLowerCase().includes('pin')
    }
  }
  const q = uri.indexOf('?')
  // A PIN written with a raw ';' in it spills into what follow as items without '=': drop those too.
  let inPin = false
  const path = (q < 0 ? uri : uri.slice(0, q))
    .split(';')
    .filter((item) => {
      if (isPin(item)) inPin = true
      else if (item.includes('=')) inPin = false
      return !inPin
    })
    .join(';')
  const query =
    q < 0
      ? []
      : uri
          .slice(q + 1)
          .split('&')
          .filter((item) => !isPin(item))
  return query.length > 0 ? `${path}?${query.join('&')}` : path
}

/** Secret-free text for a `pkcs11:` root URI (for `--print-config` and logs). */
export function describePkcs11Uri(uri: string): string {
  return redact(uri)
}

export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!/^pkcs11:/i.test(uri)) throw new RootOfTrustError(`'${redact(uri)}' is not a pkcs11: URI`)
  if (uri.includes('#')) throw new RootOfTrustError(`${redact(uri)}: a pkcs11: URI has no fragment`)
  const rest = uri.slice('pkcs11:'.length)
  const q = rest.indexOf('?')
  const path = attributes(uri, q < 0 ? rest : rest.slice(0, q), ';', PATH_ATTRIBUTES, 'path')
  const query = attributes(uri, q < 0 ? '' : rest.slice(q + 1), '&', QUERY_ATTRIBUTES, 'query')
  const text = (attrs: Map<string, string>, name: string): string | undefined => {
    const raw = attrs.get(name)
    return raw === undefined ? undefined : decodeText(uri, name, raw)
  }

  const token = text(path, 'token')
  const object = text(path, 'object')
  if (!token || !object) {
    throw new RootOfTrustError(
      `${redact(uri)}: a root of trust needs both 'token=' (token label) and 'object=' (key label)`,
    )
  }
  const type = text(path, 'type')
  if (type !== undefined && type !== 'secret-key') {
    throw new RootOfTrustError(`${redact(uri)}: the root key is a secret key, not type=${type}`)
  }
  const rawId = path.get('id')
  const id = rawId === undefined ? undefined : percentDecode(uri, 'id', rawId)
  const serial = text(path, 'serial')

  const pinSource = text(query, 'pin-source')
  const pinValue = text(query, 'pin-value')
  // RFC 7512 §2.4: pin-source and pin-value MUST NOT both be present.
  if (pinSource !== undefined && pinValue !== undefined) {
    throw new RootOfTrustError(`${redact(uri)}: give either pin-source or pin-value, not both`)
  }
  if (pinSource === undefined && pinValue === undefined) {
    throw new RootOfTrustError(
      `${redact(uri)}: no PIN: add ?pin-source=file:/path/to/pin (or pin-value=...)`,
    )
  }
  const modulePathAttr = text(query, 'module-path')
  const moduleName = text(query, 'module-name')
  if (modulePathAttr !== undefined && moduleName !== undefined) {
    throw new RootOfTrustError(`${redact(uri)}: give either module-path or module-name, not both`)
  }
  if (moduleName !== undefined && !/^[A-Za-z0-9._-]+$/.test(moduleName)) {
    throw new RootOfTrustError(
      `${redact(uri)}: module-name must be a bare library name (use module-path for a path)`,
    )
  }
  // RFC 7512 §2.3: module-name is the library name without prefix and suffix; dlopen searches the
  // system library path for it.
  const modulePath =
    modulePathAttr ?? (moduleName !== undefined ? `lib${moduleName}.so` : DEFAULT_MODULE_PATH)

  return {
    token,
    object,
    ...(id !== undefined ? { id } : {}),
    ...(serial !== undefined ? { serial } : {}),
    modulePath,
    pin: pinValue !== undefined ? { value: pinValue } : { source: pinSource ?? '' },
    description: redact(uri),
  }
}

/** Reads the PIN from `file:/abs`, `file:///abs` or an absolute path; one trailing newline is dropped. */
export function readPin(source: string): string {
  const path = source.startsWith('file://')
    ? fileURLToPath(source)
    : source.startsWith('file:')
      ? source.slice(5)
      : source
  if (!isAbsolute(path)) {
    throw new RootOfTrustError(`pin-source '${source}' must be an absolute file path or file: URI`)
  }
  let text: string
  try {
    // Same rule as a root key file (trust/file.ts): a secret others can read is refused.
    const mode = statSync(path).mode & 0o777
    if ((mode & 0o077) !== 0) {
      throw new RootOfTrustError(
        `PIN file ${path} has mode ${mode.toString(8).padStart(4, '0')}; it must be private to its owner (chmod 600 ${path})`,
      )
    }
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (err instanceof RootOfTrustError) throw err
    throw new RootOfTrustError(
      `cannot read the PIN file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: err },
    )
  }
  const pin = text.replace(/\r?\n$/, '')
  if (pin === '') throw new RootOfTrustError(`PIN file ${path} is empty`)
  return pin
}
