// Backup and restore: an online snapshot taken while the server serves, restored into an empty
// data directory with the same root key, gives the same MACs.
import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CreateAliasCommand, GenerateMacCommand } from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE } from '../helpers/keys.js'
import { macaw } from '../helpers/process.js'

describe('backup and restore', () => {
  it('restores keys that give the same MACs, and refuses to overwrite', { skip: process.env['MACAW_TEST_STORE'] === 'postgres' ? 'macaw backup copies the SQLite store' : false }, async (t) => {
    const work = await mkdtemp(join(tmpdir(), 'macaw-backup-'))
    t.after(() => rm(work, { recursive: true, force: true }))
    const source = await startKms(t)
    const keys = [await hmacKey(source.kms, 'HMAC_256'), await hmacKey(source.kms, 'HMAC_512')]
    await source.kms.send(new CreateAliasCommand({ AliasName: 'alias/kept', TargetKeyId: keys[0]?.keyId }))
    const macs = await Promise.all(
      keys.map(async (k, i) => (await source.kms.send(new GenerateMacCommand({ KeyId: k.keyId, Message: MESSAGE, MacAlgorithm: i === 0 ? 'HMAC_SHA_256' : 'HMAC_SHA_512' }))).Mac),
    )
    const file = join(work, 'macaw.backup')
    // Online: the source server keeps serving while the snapshot is taken.
    const [out] = await Promise.all([macaw(source.dataDir, ['backup', file]), hmacKey(source.kms)])
    assert.match(out, /backup written to .*: \d+ key\(s\)/)
    const secret = (await readFile(file)).toString('latin1')
    assert.ok(!secret.includes(Buffer.from(MESSAGE).toString('latin1')))

    const target = join(work, 'restored')
    await mkdir(target, { mode: 0o700 })
    await copyFile(join(source.dataDir, 'root.key'), join(target, 'root.key'))
    assert.match(await macaw(target, ['restore', file]), /restored \d+ key\(s\)/)
    await assert.rejects(macaw(target, ['restore', file]), /exists: restore only into an empty data directory/)
    await assert.rejects(macaw(source.dataDir, ['backup', file]), /exists; choose a new file/)

    const restored = await startKms(t, { dataDir: target })
    const again = await restored.kms.send(new GenerateMacCommand({ KeyId: 'alias/kept', Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.deepEqual(again.Mac, macs[0])
    const again512 = await restored.kms.send(new GenerateMacCommand({ KeyId: keys[1]?.arn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' }))
    assert.deepEqual(again512.Mac, macs[1])
  })
})
