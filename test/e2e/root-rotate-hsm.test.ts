// Root rotation from a key file to an HSM key (SoftHSM2): afterwards the server runs on the HSM
// root alone and gives the same MACs.
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { GenerateMacCommand } from '@aws-sdk/client-kms'
import { envelopeRootId } from '../../src/crypto/envelope.js'
import { startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE } from '../helpers/keys.js'
import { macaw } from '../helpers/process.js'
import { setUpSoftHsm } from '../helpers/softhsm.js'

const hsm = await setUpSoftHsm()
const skip = typeof hsm === 'string' ? hsm : false
if (typeof hsm !== 'string') after(() => hsm.cleanup())

describe('root rotation to an HSM', { skip }, () => {
  it('moves every secret from a file root to a PKCS#11 root', async (t) => {
    if (typeof hsm === 'string') return
    const first = await startKms(t, { keepDataDir: true })
    const keys = await Promise.all(Array.from({ length: 5 }, () => hmacKey(first.kms)))
    const mac = async (kms: typeof first.kms, KeyId: string) =>
      Buffer.from((await kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))).Mac ?? []).toString('hex')
    const before = await Promise.all(keys.map((k) => mac(first.kms, k.keyId)))
    const uri = hsm.uri('macaw-rotated-root')
    assert.match(await macaw(first.dataDir, ['root', 'rotate', '--to', uri]), /root of trust rotated to pkcs11:/)
    await first.server.close()
    await rm(join(first.dataDir, 'root.key'))

    const second = await startKms(t, { dataDir: first.dataDir, settings: { root: uri } })
    assert.deepEqual(await Promise.all(keys.map((k) => mac(second.kms, k.keyId))), before)
    const page = await second.server.kms.store.scanKeys(undefined, 100)
    const ids = new Set(page.items.map((k) => (k.material ? envelopeRootId(k.material) : '')))
    assert.deepEqual([...ids], [second.server.kms.root.id])
  })
})
