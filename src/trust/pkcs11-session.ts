// The PKCS#11 module and token sessions of this process: loaded, initialized and logged in once,
// shared by every root that uses them, and released when the last one closes.
import { createHash, timingSafeEqual } from 'node:crypto'
import { realpathSync } from 'node:fs'
import type * as Pkcs11 from 'pkcs11js'
import { RootOfTrustError } from './file.js'
import type { Pkcs11Uri } from './pkcs11-uri.js'

export type Binding = typeof Pkcs11
export type Handle = Pkcs11.Handle

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
export function loadBinding(): Promise<Binding> {
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

export function ckr(err: unknown): string | undefined {
  return err instanceof Error && err.name === 'Pkcs11Error' ? err.message : undefined
}

export function hsmError(what: string, err: unknown): RootOfTrustError {
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
export interface TokenSession {
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
export const registry = new Mutex()

function moduleKey(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

export function acquireModule(p11: Binding, path: string): Module {
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

export function releaseModule(mod: Module): void {
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

export function acquireSession(p11: Binding, mod: Module, uri: Pkcs11Uri, pin: string): TokenSession {
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

export function releaseSession(s: TokenSession): Promise<void> {
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
