import assert from 'node:assert/strict'
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it, type TestContext } from 'node:test'
import { GenerateMacCommand } from '@aws-sdk/client-kms'
import type * as Pkcs11 from 'pkcs11js'
import { keyMaterialContext, open, seal } from '../../../src/crypto/envelope.js'
import { initRoot, openRootOfTrust, RootOfTrustError } from '../../../src/trust/index.js'
import { parsePkcs11Uri } from '../../../src/trust/pkcs11.js'
import type { RootOfTrust } from '../../../src/trust/root-of-trust.js'
import { hmacKey, MESSAGE } from '../../helpers/keys.js'
import { startKms } from '../../helpers/server.js'
import { setUpSoftHsm, TOKEN_LABEL, USER_PIN } from '../../helpers/softhsm.js'

// Before any root opens: SoftHSM reads SOFTHSM2_CONF when the module is initialized.
const hsm = await setUpSoftHsm()
const skip = typeof hsm === 'string' ? hsm : false
if (typeof hsm !== 'string') after(() => hsm.cleanup())

function softHsm(): Exclude<typeof hsm, string> {
  if (typeof hsm === 'string') throw new Error(hsm)
  return hsm
}

let objects = 0
/** A root key label of its own for each test, so that no test depends on another. */
function label(name: string): string {
  return `${name}-${++objects}`
}

/**
 * Runs fn in a logged-in session of the test token, straight through pkcs11js. Only while no
 * macaw root is open: C_Finalize at the end would pull the module out from under it.
 */
async function withToken(
  fn: (p11: typeof Pkcs11, lib: Pkcs11.PKCS11, session: Pkcs11.Handle) => void,
): Promise<void> {
  const p11 = (await import('pkcs11js')).default
  const lib = new p11.PKCS11()
  lib.load(softHsm().modulePath)
  lib.C_Initialize()
  try {
    const slot = lib
      .C_GetSlotList(true)
      .find((s) => lib.C_GetTokenInfo(s).label.trim() === TOKEN_LABEL)
    assert.ok(slot)
    const session = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION)
    try {
      lib.C_Login(session, p11.CKU_USER, USER_PIN)
      fn(p11, lib, session)
      lib.C_Logout(session)
    } finally {
      lib.C_CloseSession(session)
    }
  } finally {
    lib.C_Finalize()
    lib.close()
  }
}

async function openRoot(t: TestContext, uri: string, createIfMissing = true): Promise<RootOfTrust> {
  const root = await openRootOfTrust(uri, { createIfMissing })
  t.after(() => root.close())
  return root
}

describe('trust/pkcs11 URIs (RFC 7512)', () => {
  it('reads path attributes split by ; and query attributes split by &, percent-decoded', () => {
    const uri = parsePkcs11Uri(
      'pkcs11:token=my%20token;object=root%2Fkey;id=%01%ff?module-path=/opt/hsm/lib.so&pin-source=file:/etc/pin',
    )
    assert.equal(uri.token, 'my token')
    assert.equal(uri.object, 'root/key')
    assert.deepEqual(uri.id, Buffer.from([0x01, 0xff]))
    assert.equal(uri.modulePath, '/opt/hsm/lib.so')
    assert.deepEqual(uri.pin, { source: 'file:/etc/pin' })
  })

  it('defaults the module to the Debian softhsm2 path', () => {
    assert.equal(
      parsePkcs11Uri('pkcs11:token=t;object=o?pin-value=1').modulePath,
      '/usr/lib/softhsm/libsofthsm2.so',
    )
  })

  it('describes the URI without its pin-value', () => {
    const uri = parsePkcs11Uri('pkcs11:token=t;object=o?pin-value=s3cret&module-path=/x.so')
    assert.deepEqual(uri.pin, { value: 's3cret' })
    assert.equal(uri.description, 'pkcs11:token=t;object=o?module-path=/x.so')
  })

  const invalid = [
    {
      when: 'the object label is missing',
      uri: 'pkcs11:token=t?pin-value=1',
      error: /needs both 'token=' .* and 'object='/,
    },
    {
      when: 'an attribute is unknown',
      uri: 'pkcs11:token=t;object=o;slot-id=3?pin-value=1',
      error: /unsupported path attribute 'slot-id'/,
    },
    {
      when: 'an attribute repeats',
      uri: 'pkcs11:token=t;object=o;object=p?pin-value=1',
      error: /'object' appears twice/,
    },
    {
      when: 'both pin-source and pin-value are given',
      uri: 'pkcs11:token=t;object=o?pin-value=1&pin-source=/p',
      error: /either pin-source or pin-value/,
    },
    { when: 'no PIN is given', uri: 'pkcs11:token=t;object=o', error: /no PIN/ },
    {
      when: 'a percent escape is malformed',
      uri: 'pkcs11:token=t%zz;object=o?pin-value=1',
      error: /bad percent-encoding in 'token'/,
    },
    {
      when: 'the type is not a secret key',
      uri: 'pkcs11:token=t;object=o;type=private?pin-value=1',
      error: /not type=private/,
    },
  ]
  for (const c of invalid) {
    it(`refuses the URI when ${c.when}, without echoing a PIN`, () => {
      assert.throws(
        () => parsePkcs11Uri(c.uri),
        (err: unknown) =>
          err instanceof RootOfTrustError &&
          c.error.test(err.message) &&
          !/pin-value=1\b/.test(err.message),
      )
    })
  }
})

describe('trust/pkcs11 on SoftHSM2', { skip }, () => {
  it('init generates the key in the token once; opening it again gives the same id', async (t) => {
    const uri = softHsm().uri(label('init'))
    const first = await initRoot(uri)
    t.after(() => first.root.close())
    assert.equal(first.created, true)
    assert.match(first.root.id, /^[0-9a-f]{16}$/)
    const second = await initRoot(uri)
    t.after(() => second.root.close())
    assert.equal(second.created, false)
    assert.equal(second.root.id, first.root.id)
    await first.root.close()
    await second.root.close()
    const third = await openRoot(t, uri, false)
    assert.equal(third.id, first.root.id)
    const other = await openRoot(t, softHsm().uri(label('init')))
    assert.notEqual(other.id, first.root.id)
  })

  it('wraps a data key into 40 bytes inside the token and unwraps it again', async (t) => {
    const root = await openRoot(t, softHsm().uri(label('wrap')))
    const dataKey = Buffer.alloc(32, 7)
    const wrapped = await root.wrapKey(dataKey)
    assert.equal(wrapped.length, 40)
    assert.notDeepEqual(wrapped.subarray(8), dataKey)
    // RFC 3394 is deterministic: the same key under the same KEK wraps to the same bytes.
    assert.deepEqual(await root.wrapKey(dataKey), wrapped)
    assert.deepEqual(await root.unwrapKey(wrapped), dataKey)
    await assert.rejects(root.wrapKey(Buffer.alloc(16)), RootOfTrustError)
  })

  it('keeps concurrent wraps and unwraps on the one session apart', async (t) => {
    const root = await openRoot(t, softHsm().uri(label('concurrent')))
    const keys = Array.from({ length: 24 }, (_, i) => Buffer.alloc(32, i))
    const back = await Promise.all(keys.map(async (k) => root.unwrapKey(await root.wrapKey(k))))
    assert.deepEqual(back, keys)
  })

  it('refuses a tampered blob, a truncated one, and one wrapped by another root key', async (t) => {
    const root = await openRoot(t, softHsm().uri(label('tamper')))
    const other = await openRoot(t, softHsm().uri(label('tamper-other')))
    const dataKey = Buffer.alloc(32, 9)
    const wrapped = await root.wrapKey(dataKey)
    const tampered = Buffer.from(wrapped)
    tampered[5] = (tampered[5] ?? 0) ^ 1
    await assert.rejects(root.unwrapKey(tampered), {
      name: 'RootOfTrustError',
      message: /not wrapped by this root key/,
    })
    await assert.rejects(root.unwrapKey(wrapped.subarray(0, 32)), {
      name: 'RootOfTrustError',
      message: /not wrapped by this root key/,
    })
    await assert.rejects(other.unwrapKey(wrapped), {
      name: 'RootOfTrustError',
      message: /not wrapped by this root key/,
    })
    // The session is still usable after failed unwraps.
    assert.deepEqual(await root.unwrapKey(wrapped), dataKey)
  })

  it('keeps one root usable when another root on the same token is closed', async (t) => {
    const a = await openRoot(t, softHsm().uri(label('shared-a')))
    const b = await openRoot(t, softHsm().uri(label('shared-b')))
    await a.close()
    await assert.rejects(a.wrapKey(Buffer.alloc(32)), /closed/)
    const dataKey = Buffer.alloc(32, 3)
    assert.deepEqual(await b.unwrapKey(await b.wrapKey(dataKey)), dataKey)
  })

  it('generates a non-extractable, sensitive AES-256 token key that cannot be read or wrapped out', async () => {
    const object = label('attrs')
    const { root } = await initRoot(softHsm().uri(object))
    await root.close()
    await withToken((p11, lib, session) => {
      lib.C_FindObjectsInit(session, [{ type: p11.CKA_LABEL, value: object }])
      const found = lib.C_FindObjects(session, 10)
      lib.C_FindObjectsFinal(session)
      assert.equal(found.length, 1)
      const key = found[0] as Pkcs11.Handle
      const bool = (type: number): boolean =>
        lib.C_GetAttributeValue(session, key, [{ type }])[0]?.value[0] === 1
      assert.equal(bool(p11.CKA_TOKEN), true)
      assert.equal(bool(p11.CKA_PRIVATE), true)
      assert.equal(bool(p11.CKA_SENSITIVE), true)
      assert.equal(bool(p11.CKA_EXTRACTABLE), false)
      assert.equal(bool(p11.CKA_WRAP), true)
      assert.equal(bool(p11.CKA_UNWRAP), true)
      assert.equal(bool(p11.CKA_DECRYPT), false)
      assert.equal(
        lib
          .C_GetAttributeValue(session, key, [{ type: p11.CKA_VALUE_LEN }])[0]
          ?.value.readUInt32LE(0),
        32,
      )
      assert.throws(
        () => lib.C_GetAttributeValue(session, key, [{ type: p11.CKA_VALUE }]),
        /CKR_ATTRIBUTE_SENSITIVE/,
      )
      // Not even wrapped under a key the caller controls.
      const kek = lib.C_GenerateKey(session, { mechanism: p11.CKM_AES_KEY_GEN }, [
        { type: p11.CKA_TOKEN, value: false },
        { type: p11.CKA_VALUE_LEN, value: 32 },
        { type: p11.CKA_WRAP, value: true },
      ])
      assert.throws(
        () =>
          lib.C_WrapKey(session, { mechanism: p11.CKM_AES_KEY_WRAP }, kek, key, Buffer.alloc(64)),
        /CKR_KEY_UNEXTRACTABLE/,
      )
    })
  })

  it('wraps with RFC 3394 AES key wrap, byte for byte as the file root does (§4.6 known answer)', async (t) => {
    // A generated root key can never be read, so import the RFC's KEK as a non-extractable token
    // key under a label of its own, then let the provider open it like any other root key.
    const object = label('rfc3394')
    await withToken((p11, lib, session) => {
      lib.C_CreateObject(session, [
        { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
        { type: p11.CKA_KEY_TYPE, value: p11.CKK_AES },
        { type: p11.CKA_TOKEN, value: true },
        { type: p11.CKA_PRIVATE, value: true },
        { type: p11.CKA_LABEL, value: object },
        {
          type: p11.CKA_VALUE,
          value: Buffer.from(
            '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F',
            'hex',
          ),
        },
        { type: p11.CKA_SENSITIVE, value: true },
        { type: p11.CKA_EXTRACTABLE, value: false },
        { type: p11.CKA_WRAP, value: true },
        { type: p11.CKA_UNWRAP, value: true },
      ])
    })
    const root = await openRoot(t, softHsm().uri(object), false)
    const data = Buffer.from(
      '00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F',
      'hex',
    )
    const wrapped = await root.wrapKey(data)
    assert.equal(
      wrapped.toString('hex').toUpperCase(),
      '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21',
    )
    assert.deepEqual(await root.unwrapKey(wrapped), data)
  })

  it('takes the PIN from pin-source or pin-value, and keeps a pin-value out of the description', async (t) => {
    const object = label('pins')
    const fromFile = await openRoot(t, softHsm().uri(object))
    await fromFile.close()
    const fromValue = await openRoot(t, softHsm().uri(object, { 'pin-value': USER_PIN }), false)
    assert.equal(fromValue.id, fromFile.id)
    assert.ok(!fromValue.description.includes('pin-value'))
    assert.match(
      fromValue.description,
      new RegExp(`^pkcs11:token=macaw;object=${object}\\?module-path=`),
    )
    assert.ok(fromFile.description.includes(`pin-source=file:${softHsm().pinFile}`))
  })

  it('refuses a wrong PIN with a clear error, also while the token is logged in', async (t) => {
    const wrongPin = softHsm().uri(label('wrong-pin'), { 'pin-value': '0000' })
    await assert.rejects(openRootOfTrust(wrongPin, { createIfMissing: true }), {
      name: 'RootOfTrustError',
      message: `wrong PIN for PKCS#11 token '${TOKEN_LABEL}'`,
    })
    // A logged-in token would accept any session: the provider checks the PIN itself.
    await openRoot(t, softHsm().uri(label('logged-in')))
    await assert.rejects(openRootOfTrust(wrongPin, { createIfMissing: true }), {
      name: 'RootOfTrustError',
      message: /^wrong PIN for PKCS#11 token 'macaw'/,
    })
  })

  it('refuses a PIN file that others can read', async () => {
    const pinFile = join(softHsm().dir, 'pin-0644')
    await writeFile(pinFile, USER_PIN, { mode: 0o644 })
    await chmod(pinFile, 0o644)
    await assert.rejects(
      openRootOfTrust(softHsm().uri(label('pin-mode'), { 'pin-source': `file:${pinFile}` }), {
        createIfMissing: true,
      }),
      {
        name: 'RootOfTrustError',
        message: /PIN file .* has mode 0644; .*chmod 600/,
      },
    )
  })

  it('names the token label it cannot find, and the command that creates a missing key', async () => {
    const missingToken = softHsm().uri(label('x')).replace('token=macaw', 'token=no-such-token')
    await assert.rejects(openRootOfTrust(missingToken, { createIfMissing: true }), {
      name: 'RootOfTrustError',
      message: /no PKCS#11 token labelled 'no-such-token' .*tokens present: 'macaw'/,
    })
    const missingKey = softHsm().uri(label('absent'), { 'pin-value': USER_PIN })
    await assert.rejects(
      openRootOfTrust(missingKey, { createIfMissing: false }),
      (err: unknown) => {
        assert.ok(err instanceof RootOfTrustError)
        assert.match(
          err.message,
          /no root key 'absent-\d+' on PKCS#11 token 'macaw' \(create it with: macaw root init --root 'pkcs11:/,
        )
        assert.ok(!err.message.includes(USER_PIN), 'the PIN must not appear in the message')
        return true
      },
    )
    const badModule = softHsm().uri(label('x'), {
      'module-path': '/nonexistent/libpkcs11.so',
      'pin-value': USER_PIN,
    })
    await assert.rejects(
      openRootOfTrust(badModule, { createIfMissing: true }),
      /cannot load the PKCS#11 module \/nonexistent\/libpkcs11\.so/,
    )
  })

  it('opens an envelope sealed before the root was closed and opened again', async () => {
    const uri = softHsm().uri(label('envelope'))
    const context = keyMaterialContext('arn:aws:kms:us-east-1:111122223333:key/test')
    const secret = Buffer.from('hmac key material, 32 bytes long')
    const first = await openRootOfTrust(uri, { createIfMissing: true })
    const blob = await seal(first, secret, context)
    await first.close()
    const second = await openRootOfTrust(uri, { createIfMissing: false })
    try {
      assert.deepEqual(await open(second, blob, context), secret)
    } finally {
      await second.close()
    }
  })

  it('serves the same MAC after a server restart on the same HSM root and data dir', async (t) => {
    const root = softHsm().uri(label('server'))
    const Message = MESSAGE
    const first = await startKms(t, { settings: { root }, keepDataDir: true })
    const key = await hmacKey(first.kms)
    const before = await first.kms.send(
      new GenerateMacCommand({ KeyId: key.keyId, Message, MacAlgorithm: 'HMAC_SHA_256' }),
    )
    await first.server.close()

    const second = await startKms(t, { settings: { root }, dataDir: first.dataDir })
    const afterRestart = await second.kms.send(
      new GenerateMacCommand({ KeyId: key.arn, Message, MacAlgorithm: 'HMAC_SHA_256' }),
    )
    assert.ok(before.Mac)
    assert.deepEqual(afterRestart.Mac, before.Mac)
  })
})
