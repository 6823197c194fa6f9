// `macaw serve --workers 2`: several processes on one port behave as one service; a change made
// through one worker holds on the very next request through any other.
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CreateAliasCommand, DisableKeyCommand, EnableKeyCommand, GenerateMacCommand } from '@aws-sdk/client-kms'
import { kmsClient } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'
import { spawnServer, removeDataDir } from '../helpers/process.js'

describe('serve --workers', () => {
  it('is one service across workers: changes hold on the next request, whichever worker answers', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'macaw-workers-'))
    const proc = await spawnServer(dataDir, { MACAW_WORKERS: '2' })
    // The server stops before its data directory goes (hooks run in the order they are added).
    t.after(async () => {
      await proc.stop()
      await removeDataDir(dataDir)
    })
    const kms = kmsClient(proc.url, { newConnections: true })
    t.after(() => kms.destroy())
    const mac = (KeyId: string) => kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    for (let i = 0; i < 10; i++) {
      const key = await hmacKey(kms)
      await kms.send(new CreateAliasCommand({ AliasName: `alias/w${i}`, TargetKeyId: key.keyId }))
      await mac(`alias/w${i}`)
      await kms.send(new DisableKeyCommand({ KeyId: key.keyId }))
      await rejectsWith(mac(key.keyId), 'DisabledException')
      await rejectsWith(mac(`alias/w${i}`), 'DisabledException')
      await kms.send(new EnableKeyCommand({ KeyId: key.keyId }))
      await mac(key.arn)
    }
    const pids = new Set<number>()
    assert.ok(proc.child.pid)
    pids.add(proc.child.pid)
    assert.equal(pids.size, 1)
  })
})
