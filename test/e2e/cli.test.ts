// The admin CLI against a running server's data dir: changes made by `macaw keys` reach the server
// before its next request; bad input gives a clear error and a non-zero exit.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DescribeKeyCommand, GenerateMacCommand } from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { MESSAGE, refusedOnceChanged } from '../helpers/keys.js'
import { macaw } from '../helpers/process.js'

describe('macaw keys', { concurrency: true }, () => {
  it('creates, lists, describes, disables and enables keys that the running server uses', async (t) => {
    const { kms, dataDir } = await startKms(t)
    const created = await macaw(dataDir, ['keys', 'create', '--spec', 'HMAC_384', '--alias', 'alias/cli', '--description', 'made by the CLI'])
    const keyId = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(created)?.[1] ?? ''
    assert.ok(keyId)
    const described = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/cli' }))
    assert.equal(described.KeyMetadata?.KeyId, keyId)
    assert.equal(described.KeyMetadata?.KeySpec, 'HMAC_384')
    const mac = () => kms.send(new GenerateMacCommand({ KeyId: 'alias/cli', Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_384' }))
    await mac()

    const listed = await macaw(dataDir, ['keys', 'list'])
    assert.match(listed, /KEY ID\s+SPEC\s+STATE\s+CREATED\s+ALIASES\s+DESCRIPTION/)
    assert.match(listed, new RegExp(`${keyId}\\s+HMAC_384\\s+Enabled\\s+\\S+\\s+alias/cli\\s+made by the CLI`))
    const json = JSON.parse(await macaw(dataDir, ['keys', 'describe', keyId])) as { Aliases: string[]; KeyMetadata: { KeyState: string } }
    assert.deepEqual(json.Aliases, ['alias/cli'])

    await macaw(dataDir, ['keys', 'disable', keyId])
    await refusedOnceChanged(mac, 'DisabledException')
    await macaw(dataDir, ['keys', 'enable', keyId])
    await mac()

    // Every form DescribeKey takes: alias name, alias ARN, key ARN.
    const arn = described.KeyMetadata?.Arn ?? ''
    const aliasArn = arn.replace(/:key\/.*/, ':alias/cli')
    for (const form of ['alias/cli', aliasArn, arn]) {
      const byForm = JSON.parse(await macaw(dataDir, ['keys', 'describe', form])) as { KeyMetadata: { KeyId: string } }
      assert.equal(byForm.KeyMetadata.KeyId, keyId, form)
    }
    await macaw(dataDir, ['keys', 'disable', 'alias/cli'])
    await refusedOnceChanged(mac, 'DisabledException')
    await macaw(dataDir, ['keys', 'enable', aliasArn])
    await mac()
    await assert.rejects(macaw(dataDir, ['keys', 'describe', 'alias/none']), /Alias arn:aws:kms:us-east-1:\d{12}:alias\/none is not found/)

    // audit query --key finds the same records by key id, alias or ARN.
    const count = async (key: string) => (await macaw(dataDir, ['audit', 'query', '--key', key, '--event-name', 'GenerateMac'])).split('\n').filter(Boolean).length
    await new Promise((resolve) => setTimeout(resolve, 200))
    const byArn = await count(arn)
    assert.ok(byArn >= 3, `${byArn} records`)
    assert.equal(await count(keyId), byArn)
    assert.equal(await count('alias/cli'), byArn)
  })

  it('refuses bad input with a clear message and exit code', async (t) => {
    const { dataDir } = await startKms(t)
    await assert.rejects(macaw(dataDir, ['keys', 'create', '--spec', 'RSA_2048']), /--spec must be one of HMAC_224/)
    await assert.rejects(macaw(dataDir, ['keys', 'disable', '1234abcd-12ab-34cd-56ef-1234567890ab']), /no key 1234abcd/)
    await assert.rejects(macaw(dataDir, ['users', 'create', '--name', 'bad name!']), /user name 'bad name!'/)
    await assert.rejects(macaw(dataDir, ['keys', 'list', '--store', 'mysql://x']), /store \(MACAW_STORE\) must be/)
    await assert.rejects(macaw(dataDir, ['serve', '--no-such-flag']), /unknown option '--no-such-flag'/)
  })
})
