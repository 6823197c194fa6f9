// The key cache's byte budget: keys with distinct 32 KB policies never make it hold more than its
// budget (the old cache held 200,000 entries whatever they weighed), shared policies count once,
// and what was evicted is read again from the store.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GrantIndex } from '../../../src/auth/grants.js'
import { compilePolicy, policyBytes } from '../../../src/auth/policy.js'
import { KEY_ENTRY_BYTES, KeyCache, MATERIAL_HELD } from '../../../src/keys/cache.js'
import type { KeyRecord, Store } from '../../../src/store/store.js'
import { keyRecord } from '../../store/contract.js'

function bigPolicy(i: number): string {
  const statements = Array.from({ length: 150 }, (_, n) => ({
    Sid: `S${i}n${n}`,
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::111122223333:user/u${i}-${n}` },
    Action: 'kms:GenerateMac',
    Resource: '*',
  }))
  return JSON.stringify({ Version: '2012-10-17', Statement: statements })
}

/** A stored record (the store contract's) as a store answers it. */
function record(keyId: string, fields: Partial<KeyRecord> = {}): KeyRecord {
  return { ...keyRecord(keyId, fields), version: 1 }
}

function fakeStore(policyOf: (keyId: string) => string, delivery: () => number | undefined = () => undefined): { store: Store; reads: () => number } {
  let reads = 0
  const store = {
    onChange: () => () => {},
    deliveryEpoch: delivery,
    getKey: (accountId: string, region: string, keyId: string) => {
      reads++
      return Promise.resolve(record(keyId, { accountId, region, policy: policyOf(keyId) }))
    },
  } as unknown as Store
  return { store, reads: () => reads }
}

function cache(store: Store, maxBytes: number): KeyCache {
  return new KeyCache(store, {
    ttlMs: 60_000,
    maxBytes,
    now: Date.now,
    arnOf: (accountId, region, keyId) => `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
    load: (record) =>
      Promise.resolve({ material: undefined, policy: compilePolicy(record.policy, 'key'), grants: GrantIndex.EMPTY }),
  })
}

describe('key cache budget', () => {
  it('holds no more than its budget of keys with distinct large policies', async () => {
    const { store, reads } = fakeStore((id) => bigPolicy(Number(id)))
    const maxBytes = 8 * 1024 * 1024
    const c = cache(store, maxBytes)
    for (let i = 0; i < 100; i++) await c.getKey('111122223333', 'us-east-1', String(i))
    assert.ok(c.sizeBytes <= maxBytes, `${c.sizeBytes} bytes`)
    assert.ok(c.size < 100, `${c.size} keys kept`)
    assert.ok(c.size > 0)
    const before = reads()
    const key = await c.getKey('111122223333', 'us-east-1', '0')
    assert.equal(key?.record.keyId, '0', 'an evicted key is read again')
    assert.equal(reads(), before + 1)
  })

  it('counts a policy shared by many keys once', async () => {
    const text = bigPolicy(0)
    const { store } = fakeStore(() => text)
    const c = cache(store, 64 * 1024 * 1024)
    for (let i = 0; i < 50; i++) await c.getKey('111122223333', 'us-east-1', String(i))
    // Each load compiles its own object here, so each counts; sharing is by object identity.
    const shared = new KeyCache(store, {
      ttlMs: 60_000,
      maxBytes: 64 * 1024 * 1024,
      now: Date.now,
      arnOf: (_account, _region, keyId) => keyId,
      load: (() => {
        const policy = compilePolicy(text, 'key')
        return () => Promise.resolve({ material: undefined, policy, grants: GrantIndex.EMPTY })
      })(),
    })
    for (let i = 0; i < 50; i++) await shared.getKey('111122223333', 'us-east-1', String(i))
    assert.equal(shared.sizeBytes, 50 * KEY_ENTRY_BYTES + policyBytes(compilePolicy(text, 'key')))
    assert.equal(c.sizeBytes, 50 * (KEY_ENTRY_BYTES + policyBytes(compilePolicy(text, 'key'))))
  })
})

describe('key cache freshness', () => {
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }] })

  function clocked(ttlMs: number, delivery: () => number | undefined): { c: KeyCache; reads: () => number; tick: (ms: number) => void } {
    const { store, reads } = fakeStore(() => policy, delivery)
    let now = 1_000_000
    const c = new KeyCache(store, {
      ttlMs,
      maxBytes: 1024 * 1024,
      now: () => now,
      arnOf: (_account, _region, keyId) => keyId,
      load: (record) => Promise.resolve({ material: undefined, policy: compilePolicy(record.policy, 'key'), grants: GrantIndex.EMPTY }),
    })
    return { c, reads, tick: (ms) => (now += ms) }
  }

  it('trusts an entry past its TTL while the change feed stays sure, and re-reads once it is not', async () => {
    let epoch: number | undefined = 7
    const { c, reads, tick } = clocked(1000, () => epoch)
    await c.getKey('111122223333', 'us-east-1', 'k')
    tick(60_000)
    await c.getKey('111122223333', 'us-east-1', 'k')
    assert.equal(reads(), 1, 'no re-read while the feed delivers every change')
    epoch = undefined
    await c.getKey('111122223333', 'us-east-1', 'k')
    assert.equal(reads(), 2, 'a feed outage falls back to the TTL')
    await c.getKey('111122223333', 'us-east-1', 'k')
    assert.equal(reads(), 2, 'within the TTL after the re-read')
    tick(1001)
    await c.getKey('111122223333', 'us-east-1', 'k')
    assert.equal(reads(), 3, 'past the TTL during the outage')
    epoch = 8
    tick(60_000)
    await c.getKey('111122223333', 'us-east-1', 'k')
    assert.equal(reads(), 4, 'an entry read during the outage is not trusted after it: delivery resumed under a new epoch')
    tick(60_000)
    await c.getKey('111122223333', 'us-east-1', 'k')
    assert.equal(reads(), 4)
  })

  it('reads the store on every use with a TTL of 0, feed or not', async () => {
    const { c, reads } = clocked(0, () => 1)
    await c.getKey('111122223333', 'us-east-1', 'k')
    await c.getKey('111122223333', 'us-east-1', 'k')
    assert.equal(reads(), 2)
  })
})

describe('cached record', () => {
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }] })
  // Every field a record can have, so that a field the cache forgot to keep shows here.
  const full = (keyId: string): KeyRecord =>
    record(keyId, {
      // Strings of their own, as read from a database row.
      accountId: ['1111', '2222', '3333'].join(''),
      region: ['us', 'east', '1'].join('-'),
      state: ['Pending', 'Deletion'].join('') as KeyRecord['state'],
      policy: [policy].join(''),
      origin: 'EXTERNAL',
      deletionDate: 1_800_000_000_000,
      pendingWindowDays: 7,
      multiRegion: true,
      tags: [{ key: 'team', value: 'red' }],
      material: Buffer.from('sealed envelope'),
      expirationModel: 'KEY_MATERIAL_EXPIRES',
      validTo: 1_900_000_000_000,
      importCheck: 'digest',
      importParameters: { tokenDigest: 'd', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048', privateKey: Buffer.from('sealed'), validTo: 1 },
      primaryRegion: 'eu-west-1',
      grantCount: 0,
    })

  it('keeps every field but the sealed material, and shares what keys have in common', async () => {
    const records = new Map(['a', 'b'].map((id) => [id, full(id)]))
    const store = {
      onChange: () => () => {},
      deliveryEpoch: () => 1,
      getKey: (_accountId: string, _region: string, keyId: string) => Promise.resolve(records.get(keyId)),
    } as unknown as Store
    const compiled = compilePolicy(policy, 'key')
    const c = new KeyCache(store, {
      ttlMs: 60_000,
      maxBytes: 1024 * 1024,
      now: Date.now,
      arnOf: (accountId, region, keyId) => `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
      load: () => Promise.resolve({ material: undefined, policy: compiled, grants: GrantIndex.EMPTY }),
    })
    const a = await c.getKey('111122223333', 'us-east-1', 'a')
    const b = await c.getKey('111122223333', 'us-east-1', 'b')
    assert.ok(a !== undefined && b !== undefined)
    const { material, ...kept } = a.record
    const { material: sealed, ...original } = records.get('a') ?? full('a')
    assert.deepEqual(kept, original)
    assert.equal(material, MATERIAL_HELD, 'the record says the key has material, without a copy of the envelope')
    assert.ok(sealed !== undefined)
    assert.equal(a.arn, 'arn:aws:kms:us-east-1:111122223333:key/a')
    // The same string objects, not equal copies (what 100,000 cached keys save).
    for (const field of ['accountId', 'region', 'state', 'origin', 'keySpec', 'keyUsage'] as const) {
      assert.ok(Object.is(a.record[field], b.record[field]), field)
    }
    assert.ok(Object.is(a.record.policy, compiled.text), 'the compiled policy\'s copy of the text')
  })
})
