// Root of trust in a PKCS#11 token (HSM), named by an RFC 7512 URI (pkcs11-uri.ts). The root key
// is a non-extractable AES-256 secret key generated inside the token; data keys are wrapped there
// with CKM_AES_KEY_WRAP (RFC 3394), byte-compatible with the file provider's wrap.
import { createHash, randomBytes } from 'node:crypto'
import type * as Pkcs11 from 'pkcs11js'
import { RootOfTrustError } from './file.js'
import type { RootOfTrust } from './root-of-trust.js'
import { parsePkcs11Uri, readPin, type Pkcs11Uri } from './pkcs11-uri.js'
import {
  acquireModule,
  acquireSession,
  ckr,
  hsmError,
  loadBinding,
  registry,
  releaseModule,
  releaseSession,
  type Binding,
  type Handle,
  type TokenSession,
} from './pkcs11-session.js'

export { DEFAULT_MODULE_PATH, describePkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js'

/** RFC 3394 over a 256-bit data key: 8 bytes of integrity check value plus the key. */
const WRAPPED_LENGTH = 40


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
