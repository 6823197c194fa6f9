// Backup and restore: an online snapshot taken while the server serves, restored into an empty
// data directory with the same root key, gives the same MACs.
import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CreateAliasCommand, GenerateMacCommand } from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE } from '../helpers/keys.js'
import { macaw, spawnServer, removeDataDir } from '../helpers/process.js'

describe('admin commands where there is no deployment', { concurrency: true }, () => {
  it('exit 2 and create nothing in an empty directory', async (t) => {
    const empty = await mkdtemp(join(tmpdir(), 'macaw-empty-'))
    t.after(() => removeDataDir(empty))
    const commands = [
      ['keys', 'list'],
      ['keys', 'create'],
      ['keys', 'describe', 'alias/x'],
      ['users', 'create', '--name', 'app'],
      ['users', 'list'],
      ['access-keys', 'create', '--user-name', 'app'],
      ['audit', 'verify'],
      ['audit', 'query'],
      ['backup', join(empty, 'b.db')],
      ['root', 'rotate', '--to', `file:${join(empty, 'new.key')}`],
    ]
    for (const args of commands) {
      await assert.rejects(macaw(join(empty, '.macaw'), args), (err: Error & { code?: number }) => {
        assert.equal(err.code, 2, `${args.join(' ')}: ${err.message}`)
        assert.match(err.message, /no store at/)
        return true
      })
    }
    assert.deepEqual(await readdir(empty), [])
  })

  it('exit 2 on a store whose root key is missing, and write no new root', { skip: process.env['MACAW_TEST_STORE'] === 'postgres' ? 'copies the SQLite store' : false }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-noroot-'))
    t.after(() => removeDataDir(dir))
    const source = await startKms(t, { keepDataDir: true })
    await hmacKey(source.kms)
    // Closed first, so that the copy holds everything (no WAL left beside it).
    await source.server.close()
    await copyFile(join(source.dataDir, 'macaw.db'), join(dir, 'macaw.db'))
    await assert.rejects(macaw(dir, ['keys', 'list']), (err: Error & { code?: number }) => err.code === 2 && /root of trust/.test(err.message))
    assert.deepEqual(await readdir(dir), ['macaw.db'])
    // Another root in its place: serve refuses to start (exit 1), naming the root the store needs,
    // although the source directory's key still exists on this machine: roots are found among the
    // configured ones only, never by a path the store remembers.
    await macaw(dir, ['root', 'init'])
    const needed = (await macaw(source.dataDir, ['root', 'init'])).match(/\(id ([0-9a-f]+)\)/)?.[1] ?? ''
    assert.ok(needed)
    await assert.rejects(spawnServer(dir), (err: Error) => /server exited with 1/.test(err.message) && err.message.includes(`sealed under root ${needed}, which is not among the configured roots`))
    await removeDataDir(source.dataDir)
  })
})

describe('backup and restore', { concurrency: true }, () => {
  it('restores keys that give the same MACs, and refuses to overwrite', { skip: process.env['MACAW_TEST_STORE'] === 'postgres' ? 'macaw backup copies the SQLite store' : false }, async (t) => {
    const work = await mkdtemp(join(tmpdir(), 'macaw-backup-'))
    t.after(() => removeDataDir(work))
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
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    const secret = (await readFile(file)).toString('latin1')
    assert.ok(!secret.includes(Buffer.from(MESSAGE).toString('latin1')))

    // Following the old hint (make a new root) must not give a server that answers 500: refused,
    // naming the root the backup needs, and nothing is left behind.
    const wrong = join(work, 'wrong-root')
    await macaw(wrong, ['root', 'init'])
    const sourceRoot = (await macaw(source.dataDir, ['root', 'init'])).match(/\(id ([0-9a-f]+)\)/)?.[1]
    assert.ok(sourceRoot)
    await assert.rejects(macaw(wrong, ['restore', file]), (err: Error) => {
      assert.match(err.message, /cannot open \d+ sampled secret\(s\)/)
      assert.ok(err.message.includes(`sealed under root ${sourceRoot}`), err.message)
      assert.ok(!/root init/.test(err.message), 'never suggests making a new root')
      return true
    })
    assert.deepEqual((await readdir(wrong)).sort(), ['root.key'])
    // No root at all: exit 2, with the id it needs.
    const bare = join(work, 'no-root')
    await assert.rejects(macaw(bare, ['restore', file]), (err: Error & { code?: number }) => err.code === 2 && err.message.includes(sourceRoot))

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
  it('opens a restored store with configured roots only, never a root path the store remembers', { skip: process.env['MACAW_TEST_STORE'] === 'postgres' ? 'macaw backup copies the SQLite store' : false }, async (t) => {
    const work = await mkdtemp(join(tmpdir(), 'macaw-restore-roots-'))
    t.after(() => removeDataDir(work))
    const source = await startKms(t)
    const key = await hmacKey(source.kms)
    const mac = async (kms: typeof source.kms) => (await kms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))).Mac
    const before = await mac(source.kms)
    // Rotated to a root outside the data directory, which stays on this machine.
    const outside = `file:${join(work, 'rotated.key')}`
    const rotatedId = (await macaw(source.dataDir, ['root', 'rotate', '--to', outside])).match(/\(id ([0-9a-f]+)\)/)?.[1]
    assert.ok(rotatedId)
    const file = join(work, 'after-rotation.backup')
    await macaw(source.dataDir, ['backup', file])

    // A new directory with only the pre-rotation root key: refused, naming the rotated root.
    const target = join(work, 'restored')
    await mkdir(target, { mode: 0o700 })
    await copyFile(join(source.dataDir, 'root.key'), join(target, 'root.key'))
    await assert.rejects(macaw(target, ['restore', file]), (err: Error) => err.message.includes(`sealed under root ${rotatedId}`))
    assert.deepEqual(await readdir(target), ['root.key'])
    // With the rotated root configured, it restores and serves the same MACs.
    assert.match(await macaw(target, ['restore', file, '--extra-roots', outside]), /restored 1 key\(s\)/)
    const restored = await startKms(t, { dataDir: target, keepDataDir: true, settings: { extraRoots: outside } })
    assert.deepEqual(await mac(restored.kms), before)
    await restored.server.close()
    // Started without it, the server does not go looking for the path: it refuses to start.
    await assert.rejects(startKms(t, { dataDir: target, keepDataDir: true }), (err: Error) => err.message.includes(`sealed under root ${rotatedId}, which is not among the configured roots`))
  })
})
