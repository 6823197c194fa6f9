// Seed files: fixed keys for a test environment, idempotent, refused whole with the line of the
// first problem.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { DescribeKeyCommand, GenerateMacCommand, ListResourceTagsCommand, UpdateKeyDescriptionCommand } from '@aws-sdk/client-kms'
import { ACCOUNT, startKms } from '../helpers/server.js'
import { MESSAGE } from '../helpers/keys.js'
import { SeedError } from '../../src/seed.js'
import { removeDataDir } from '../helpers/process.js'

const MATERIAL = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'
const KEY = '11111111-2222-4333-8444-555555555555'
const MRK = 'mrk-0123456789abcdef0123456789abcdef'

const SEED = `# test keys
version: 1
keys:
  - id: ${KEY}
    spec: HMAC_256
    material: hex:${MATERIAL}
    description: signing key for tests
    aliases: [alias/test-signing, alias/other-name]
    tags:
      team: payments
      env: test
  - id: ${MRK}
    spec: HMAC_512
    enabled: false
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: { AWS: "arn:aws:iam::${ACCOUNT}:root" }
          Action: "kms:*"
          Resource: "*"
`

async function seedFile(t: TestContext, text: string, name = 'seed.yaml'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'macaw-seed-'))
  t.after(() => removeDataDir(dir))
  const file = join(dir, name)
  await writeFile(file, text)
  return file
}

describe('seed files', { concurrency: true }, () => {
  it('creates fixed keys with their material, aliases, tags and policy, once', async (t) => {
    const seed = await seedFile(t, SEED)
    const first = await startKms(t, { settings: { seed }, keepDataDir: true })
    const out = await first.kms.send(new GenerateMacCommand({ KeyId: 'alias/test-signing', Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.deepEqual(Buffer.from(out.Mac ?? new Uint8Array()), createHmac('sha256', Buffer.from(MATERIAL, 'hex')).update(MESSAGE).digest())
    assert.equal(out.KeyId, `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY}`)
    const tags = await first.kms.send(new ListResourceTagsCommand({ KeyId: KEY }))
    assert.deepEqual(tags.Tags, [{ TagKey: 'env', TagValue: 'test' }, { TagKey: 'team', TagValue: 'payments' }])
    const mrk = (await first.kms.send(new DescribeKeyCommand({ KeyId: MRK }))).KeyMetadata
    assert.equal(mrk?.KeyState, 'Disabled')
    assert.equal(mrk?.MultiRegion, true)
    await first.kms.send(new UpdateKeyDescriptionCommand({ KeyId: KEY, Description: 'changed through the API' }))
    await first.server.close()

    // Starting again with the same seed changes nothing that exists.
    const second = await startKms(t, { settings: { seed }, dataDir: first.dataDir })
    assert.equal((await second.kms.send(new DescribeKeyCommand({ KeyId: 'alias/other-name' }))).KeyMetadata?.Description, 'changed through the API')
    const again = await second.kms.send(new GenerateMacCommand({ KeyId: KEY, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.deepEqual(again.Mac, out.Mac)
  })

  it('accepts JSON', async (t) => {
    const seed = await seedFile(t, JSON.stringify({ keys: [{ id: KEY, material: `base64:${Buffer.from(MATERIAL, 'hex').toString('base64')}` }] }), 'seed.json')
    const { kms } = await startKms(t, { settings: { seed } })
    const out = await kms.send(new GenerateMacCommand({ KeyId: KEY, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.deepEqual(Buffer.from(out.Mac ?? new Uint8Array()), createHmac('sha256', Buffer.from(MATERIAL, 'hex')).update(MESSAGE).digest())
  })

  const BAD: [string, string, RegExp][] = [
    ['material of the wrong length', SEED.replace(`hex:${MATERIAL}`, 'hex:0011'), /seed\.yaml:6: material for HMAC_256 must be 32 to 64 bytes, got 2/],
    ['an unknown field', SEED.replace('    spec: HMAC_512', '    spec: HMAC_512\n    colour: blue'), /seed\.yaml:14: unknown field 'colour'/],
    ['a bad key id', SEED.replace(`id: ${MRK}`, 'id: not-a-key-id'), /seed\.yaml:12: id 'not-a-key-id' must be/],
    ['a bad alias', SEED.replace('alias/other-name', 'alias/aws/reserved'), /seed\.yaml:8: The alias\/aws\/ prefix is reserved/],
    ['a bad policy', SEED.replace('Effect: Allow', 'Effect: Perhaps'), /seed\.yaml:16: policy: /],
    ['YAML syntax', SEED.replace('tags:', 'tags: [unclosed'), /seed\.yaml:\d+: /],
    ['a reserved tag', SEED.replace('team: payments', 'aws:team: payments'), /seed\.yaml:10: Tags beginning with aws: are reserved/],
  ]
  for (const [name, text, message] of BAD) {
    it(`refuses ${name} with the line, and writes nothing`, async (t) => {
      const seed = await seedFile(t, text)
      const dataDir = join(seed, '..', 'data')
      await assert.rejects(startKms(t, { settings: { seed }, dataDir }), (err: Error) => {
        assert.ok(err instanceof SeedError, String(err))
        assert.match(err.message, message)
        return true
      })
      assert.equal(existsSync(join(dataDir, 'macaw.db')), false)
    })
  }
})
