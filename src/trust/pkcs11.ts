// Root of trust in a PKCS#11 token (HSM), named by an RFC 7512 URI such as
// `pkcs11:token=macaw;object=macaw-root?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/macaw/pin`.
// The root key is a non-extractable AES-256 secret key generated inside the token; data keys are
// wrapped there with CKM_AES_KEY_WRAP (RFC 3394), byte-compatible with the file provider's wrap.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as Pkcs11 from 'pkcs11js'
import { RootOfTrustError } from './file.js'
import type { RootOfTrust } from './root-of-trust.js'

type Binding = typeof Pkcs11
type Handle = Pkcs11.Handle

/** Where Debian's softhsm2 package installs its module; used when the URI names none. */
export const DEFAULT_MODULE_PATH = '/usr/lib/softhsm/libsofthsm2.so'

/** RFC 3394 over a 256-bit data key: 8 bytes of integrity check value plus the key. */
const WRAPPED_LENGTH = 40

// ---------------------------------------------------------------------------------------------
// RFC 7512 URIs

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
function readPin(source: string): string {
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

// ---------------------------------------------------------------------------------------------
// Shared library and session state

/** Serializes async work: a PKCS#11 session runs one operation at a time. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.catch(() => undefined)
    return result
  }
}

let binding: Promise<Binding> | undefined

/** pkcs11js is an optional native dependency: load it only when a pkcs11: root is opened. */
function loadBinding(): Promise<Binding> {
  binding ??= import('pkcs11js').then(
    (mod) => mod.default,
    (err: unknown) => {
      binding = undefined
      throw new RootOfTrustError(
        'the pkcs11: root of trust needs the optional package pkcs11js, which is not installed or did not build ' +
          '(install it with: npm install pkcs11js@2; it compiles a native addon)',
        { cause: err },
      )
    },
  )
  return binding
}

function ckr(err: unknown): string | undefined {
  return err instanceof Error && err.name === 'Pkcs11Error' ? err.message : undefined
}

function hsmError(what: string, err: unknown): RootOfTrustError {
  if (err instanceof RootOfTrustError) return err
  return new RootOfTrustError(
    `${what}: ${ckr(err) ?? (err instanceof Error ? err.message : String(err))}`,
    { cause: err },
  )
}

/** One loaded and initialized PKCS#11 module, shared by every root that uses it in this process. */
interface Module {
  readonly key: string
  readonly lib: Pkcs11.PKCS11
  /** False if something else in this process had initialized it: then it is theirs to finalize. */
  readonly initialized: boolean
  refs: number
}

/**
 * One logged-in session per token, shared by every root on that token: PKCS#11 login state is
 * per application and token, so a second session's C_Logout would log the first one out too.
 */
interface TokenSession {
  readonly key: string
  readonly module: Module
  readonly session: Handle
  readonly serial: string
  readonly pinDigest: Buffer
  readonly mutex: Mutex
  refs: number
}

const modules = new Map<string, Module>()
const sessions = new Map<string, TokenSession>()
/** Guards the two maps: opens and closes run one at a time (they are rare). */
const registry = new Mutex()

function moduleKey(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

function acquireModule(p11: Binding, path: string): Module {
  const key = moduleKey(path)
  const known = modules.get(key)
  if (known) {
    known.refs++
    return known
  }
  const lib = new p11.PKCS11()
  try {
    lib.load(path)
  } catch (err) {
    throw new RootOfTrustError(
      `cannot load the PKCS#11 module ${path}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    )
  }
  let initialized = true
  try {
    // OS locking: async calls run on libuv's thread pool, so the module must be thread-safe.
    lib.C_Initialize({ flags: p11.CKF_OS_LOCKING_OK })
  } catch (err) {
    if (ckr(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      lib.close()
      throw hsmError(`cannot initialize the PKCS#11 module ${path}`, err)
    }
    initialized = false
  }
  const mod = { key, lib, initialized, refs: 1 }
  modules.set(key, mod)
  return mod
}

function releaseModule(mod: Module): void {
  if (--mod.refs > 0) return
  modules.delete(mod.key)
  try {
    if (mod.initialized) mod.lib.C_Finalize()
  } finally {
    mod.lib.close()
  }
}

function trimmed(text: string): string {
  return text.replace(/[ \0]+$/, '')
}

function findSlot(lib: Pkcs11.PKCS11, uri: Pkcs11Uri): { slot: Handle; serial: string } {
  const labels: string[] = []
  const matches: { slot: Handle; serial: string }[] = []
  for (const slot of lib.C_GetSlotList(true)) {
    const info = lib.C_GetTokenInfo(slot)
    const label = trimmed(info.label)
    const serial = trimmed(info.serialNumber)
    labels.push(label)
    if (label === uri.token && (uri.serial === undefined || serial === uri.serial))
      matches.push({ slot, serial })
  }
  const [only, another] = matches
  if (!only) {
    const seen = labels.filter((l) => l !== '').map((l) => `'${l}'`)
    throw new RootOfTrustError(
      `no PKCS#11 token labelled '${uri.token}'${uri.serial !== undefined ? ` with serial ${uri.serial}` : ''} in ${uri.modulePath}` +
        ` (tokens present: ${seen.length > 0 ? seen.join(', ') : 'none'})`,
    )
  }
  if (another) {
    throw new RootOfTrustError(
      `several PKCS#11 tokens are labelled '${uri.token}': add serial=<token serial> to the URI`,
    )
  }
  return only
}

function pinDigestOf(pin: string): Buffer {
  return createHash('sha256').update('macaw pkcs11 pin\0').update(pin).digest()
}

function acquireSession(p11: Binding, mod: Module, uri: Pkcs11Uri, pin: string): TokenSession {
  const { lib } = mod
  const { slot, serial } = findSlot(lib, uri)
  const key = `${mod.key}\0${slot.toString('hex')}`
  const pinDigest = pinDigestOf(pin)
  const known = sessions.get(key)
  if (known) {
    // The token is already logged in, so C_Login would not check this PIN: compare it here.
    if (!timingSafeEqual(known.pinDigest, pinDigest)) {
      throw new RootOfTrustError(
        `wrong PIN for PKCS#11 token '${uri.token}' (it is logged in with another PIN in this process)`,
      )
    }
    known.refs++
    return known
  }
  let session: Handle
  try {
    // Read-write: creating the root key makes a token object.
    session = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION)
  } catch (err) {
    throw hsmError(`cannot open a session on PKCS#11 token '${uri.token}'`, err)
  }
  try {
    lib.C_Login(session, p11.CKU_USER, pin)
  } catch (err) {
    const code = ckr(err)
    if (code !== 'CKR_USER_ALREADY_LOGGED_IN') {
      lib.C_CloseSession(session)
      if (code === 'CKR_PIN_INCORRECT')
        throw new RootOfTrustError(`wrong PIN for PKCS#11 token '${uri.token}'`, { cause: err })
      if (code === 'CKR_PIN_LOCKED')
        throw new RootOfTrustError(`the user PIN of PKCS#11 token '${uri.token}' is locked`, {
          cause: err,
        })
      throw hsmError(`cannot log in to PKCS#11 token '${uri.token}'`, err)
    }
  }
  const opened = {
    key,
    module: mod,
    session,
    serial,
    pinDigest,
    mutex: new Mutex(),
    refs: 1,
  }
  sessions.set(key, opened)
  return opened
}

function releaseSession(s: TokenSession): Promise<void> {
  if (--s.refs > 0) return Promise.resolve()
  sessions.delete(s.key)
  // Through the session's mutex, so that an operation still in flight finishes first.
  return s.mutex.run(() => {
    try {
      s.module.lib.C_Logout(s.session)
    } catch {
      // Already logged out (token removed, or the module reset): closing is all that is left.
    }
    try {
      s.module.lib.C_CloseSession(s.session)
    } catch {
      // As above: a session that is gone needs no closing.
    }
  })
}

// ---------------------------------------------------------------------------------------------
// The root key

function keyTemplate(p11: Binding, uri: Pkcs11Uri): Pkcs11.Template {
  return [
    { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
    { type: p11.CKA_KEY_TYPE, value: p11.CKK_AES },
    { type: p11.CKA_TOKEN, value: true },
    { type: p11.CKA_LABEL, value: uri.object },
    ...(uri.id !== undefined ? [{ type: p11.CKA_ID, value: uri.id }] : []),
  ]
}

function findKeys(p11: Binding, s: TokenSession, uri: Pkcs11Uri): Handle[] {
  const { lib } = s.module
  lib.C_FindObjectsInit(s.session, keyTemplate(p11, uri))
  try {
    return lib.C_FindObjects(s.session, 16)
  } finally {
    lib.C_FindObjectsFinal(s.session)
  }
}

function ckaId(p11: Binding, s: TokenSession, key: Handle): Buffer {
  return (
    s.module.lib.C_GetAttributeValue(s.session, key, [{ type: p11.CKA_ID }])[0]?.value ??
    Buffer.alloc(0)
  )
}

async function generateKey(p11: Binding, s: TokenSession, uri: Pkcs11Uri): Promise<Handle> {
  // A random CKA_ID: a key deleted and generated again under the same label gets another root id,
  // so envelopes of the old key report "sealed under root X, not available" instead of failing
  // to unwrap.
  const id = uri.id ?? randomBytes(16)
  return s.module.lib.C_GenerateKeyAsync(s.session, { mechanism: p11.CKM_AES_KEY_GEN }, [
    ...keyTemplate(p11, { ...uri, id }),
    { type: p11.CKA_VALUE_LEN, value: 32 },
    { type: p11.CKA_PRIVATE, value: true },
    // Never leaves the token, not even wrapped.
    { type: p11.CKA_SENSITIVE, value: true },
    { type: p11.CKA_EXTRACTABLE, value: false },
    // Key wrap only: C_WrapKey/C_UnwrapKey are all macaw asks of it. SoftHSM has no
    // CKM_AES_KEY_WRAP for C_Encrypt, and without ENCRYPT/DECRYPT the key cannot serve as a raw
    // AES-ECB oracle to whoever else holds the PIN.
    { type: p11.CKA_WRAP, value: true },
    { type: p11.CKA_UNWRAP, value: true },
    { type: p11.CKA_ENCRYPT, value: false },
    { type: p11.CKA_DECRYPT, value: false },
    { type: p11.CKA_SIGN, value: false },
    { type: p11.CKA_VERIFY, value: false },
    { type: p11.CKA_DERIVE, value: false },
  ])
}

function checkKey(p11: Binding, s: TokenSession, uri: Pkcs11Uri, key: Handle): void {
  const attrs = s.module.lib.C_GetAttributeValue(s.session, key, [
    { type: p11.CKA_VALUE_LEN },
    { type: p11.CKA_SENSITIVE },
    { type: p11.CKA_EXTRACTABLE },
    { type: p11.CKA_WRAP },
    { type: p11.CKA_UNWRAP },
  ])
  const [len, sensitive, extractable, wrap, unwrap] = attrs.map((a) => a.value)
  const name = `root key '${uri.object}' on PKCS#11 token '${uri.token}'`
  if (!len || len.length === 0 || len.readUIntLE(0, Math.min(len.length, 6)) !== 32) {
    throw new RootOfTrustError(`${name} is not an AES-256 key`)
  }
  // The root key must stay in the HSM (fail closed on a key that could be read out).
  if (sensitive?.[0] !== 1 || extractable?.[0] !== 0) {
    throw new RootOfTrustError(`${name} must be CKA_SENSITIVE=true and CKA_EXTRACTABLE=false`)
  }
  if (wrap?.[0] !== 1 || unwrap?.[0] !== 1) {
    throw new RootOfTrustError(`${name} must allow CKA_WRAP and CKA_UNWRAP`)
  }
}

/** Finds the root key, or generates it; after a concurrent init elsewhere, one copy wins. */
async function findOrCreateKey(
  p11: Binding,
  s: TokenSession,
  uri: Pkcs11Uri,
  createIfMissing: boolean,
): Promise<{ key: Handle; created: boolean }> {
  const found = findKeys(p11, s, uri)
  const [only, another] = found
  if (another) {
    throw new RootOfTrustError(
      `several secret keys on PKCS#11 token '${uri.token}' are labelled '${uri.object}': add id=<CKA_ID> to the URI`,
    )
  }
  if (only) return { key: only, created: false }
  if (!createIfMissing) {
    throw new RootOfTrustError(
      `no root key '${uri.object}' on PKCS#11 token '${uri.token}' (create it with: macaw root init --root '${uri.description}')`,
    )
  }
  const mine = await generateKey(p11, s, uri)
  // Two nodes initializing at once both generate a key. Each keeps the one with the smallest
  // CKA_ID and destroys only its own if that is not it, so both end up with the same key.
  const all = findKeys(p11, s, uri).map((key) => ({ key, id: ckaId(p11, s, key) }))
  all.sort((a, b) => Buffer.compare(a.id, b.id))
  const winner = all[0]?.key ?? mine
  if (!winner.equals(mine)) {
    s.module.lib.C_DestroyObject(s.session, mine)
    return { key: winner, created: false }
  }
  return { key: mine, created: true }
}

class Pkcs11Root implements RootOfTrust {
  readonly id: string
  readonly description: string
  private readonly p11: Binding
  private readonly token: TokenSession
  private readonly key: Handle
  private closed = false

  constructor(p11: Binding, token: TokenSession, key: Handle, id: string, description: string) {
    this.p11 = p11
    this.token = token
    this.key = key
    this.id = id
    this.description = description
  }

  /** A data key as a session object that exists only for one wrap. */
  private dataKeyTemplate(value?: Buffer): Pkcs11.Template {
    const p11 = this.p11
    return [
      { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
      // AES: what envelope.ts uses it for (AES-256-GCM), and a type every HSM will wrap with AES.
      { type: p11.CKA_KEY_TYPE, value: p11.CKK_AES },
      { type: p11.CKA_TOKEN, value: false },
      // The data key's bytes belong to the host anyway (envelope.ts encrypts with them), so the
      // session copy must be readable and wrappable.
      { type: p11.CKA_SENSITIVE, value: false },
      { type: p11.CKA_EXTRACTABLE, value: true },
      ...(value !== undefined ? [{ type: p11.CKA_VALUE, value }] : []),
    ]
  }

  private run<T>(
    what: string,
    fn: (lib: Pkcs11.PKCS11, session: Handle) => Promise<T>,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new RootOfTrustError(`${this.description} is closed`))
    return this.token.mutex
      .run(() => fn(this.token.module.lib, this.token.session))
      .catch((err: unknown) => {
        throw hsmError(what, err)
      })
  }

  wrapKey(dataKey: Buffer): Promise<Buffer> {
    if (dataKey.length !== 32) return Promise.reject(new RootOfTrustError('a data key is 32 bytes'))
    // C_CreateObject and C_DestroyObject are synchronous (short, no crypto); C_WrapKey runs on the
    // thread pool through C_WrapKeyAsync.
    return this.run('PKCS#11 wrap failed', async (lib, session) => {
      const object = lib.C_CreateObject(session, this.dataKeyTemplate(dataKey))
      try {
        const out = await lib.C_WrapKeyAsync(
          session,
          { mechanism: this.p11.CKM_AES_KEY_WRAP },
          this.key,
          object,
          Buffer.alloc(64),
        )
        if (out.length !== WRAPPED_LENGTH)
          throw new RootOfTrustError(
            `PKCS#11 wrap returned ${out.length} bytes, not ${WRAPPED_LENGTH}`,
          )
        return Buffer.from(out)
      } finally {
        lib.C_DestroyObject(session, object)
      }
    })
  }

  unwrapKey(wrapped: Buffer): Promise<Buffer> {
    if (wrapped.length !== WRAPPED_LENGTH) {
      return Promise.reject(
        new RootOfTrustError('the data key was not wrapped by this root key (wrong length)'),
      )
    }
    return this.run('PKCS#11 unwrap failed', async (lib, session) => {
      let object: Handle
      try {
        object = await lib.C_UnwrapKeyAsync(
          session,
          { mechanism: this.p11.CKM_AES_KEY_WRAP },
          this.key,
          wrapped,
          this.dataKeyTemplate(),
        )
      } catch (err) {
        // RFC 3394's integrity check failed (SoftHSM says CKR_GENERAL_ERROR, others
        // CKR_WRAPPED_KEY_INVALID or CKR_ENCRYPTED_DATA_INVALID).
        throw new RootOfTrustError(
          `the data key was not wrapped by this root key (${ckr(err) ?? 'unwrap failed'})`,
          { cause: err },
        )
      }
      try {
        const value = lib.C_GetAttributeValue(session, object, [{ type: this.p11.CKA_VALUE }])[0]
          ?.value
        if (value?.length !== 32)
          throw new RootOfTrustError('PKCS#11 unwrap returned no 32-byte data key')
        const out = Buffer.from(value)
        value.fill(0)
        return out
      } finally {
        lib.C_DestroyObject(session, object)
      }
    })
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    return registry.run(async () => {
      const mod = this.token.module
      await releaseSession(this.token)
      releaseModule(mod)
    })
  }
}

/** Stable and secret-free: the same token, label and CKA_ID always give the same id. */
function rootId(serial: string, label: string, id: Buffer): string {
  return createHash('sha256')
    .update('macaw pkcs11 root\0')
    .update(`${serial}\0${label}\0`)
    .update(id)
    .digest('hex')
    .slice(0, 16)
}

/** Opens (with createIfMissing, first generates) the root key named by a pkcs11: URI. */
export async function openPkcs11Root(
  uri: string,
  options: { createIfMissing: boolean },
): Promise<{ root: RootOfTrust; created: boolean }> {
  const parsed = parsePkcs11Uri(uri)
  const pin = 'value' in parsed.pin ? parsed.pin.value : readPin(parsed.pin.source)
  const p11 = await loadBinding()
  return registry.run(async () => {
    const mod = acquireModule(p11, parsed.modulePath)
    let token: TokenSession
    try {
      token = acquireSession(p11, mod, parsed, pin)
    } catch (err) {
      releaseModule(mod)
      throw hsmError(`cannot use PKCS#11 token '${parsed.token}'`, err)
    }
    try {
      const { key, created, id } = await token.mutex.run(async () => {
        const found = await findOrCreateKey(p11, token, parsed, options.createIfMissing)
        checkKey(p11, token, parsed, found.key)
        return { ...found, id: rootId(token.serial, parsed.object, ckaId(p11, token, found.key)) }
      })
      return { root: new Pkcs11Root(p11, token, key, id, parsed.description), created }
    } catch (err) {
      await releaseSession(token)
      releaseModule(mod)
      throw hsmError(
        `cannot open root key '${parsed.object}' on PKCS#11 token '${parsed.token}'`,
        err,
      )
    }
  })
}
