// Grants at scale: a grant change updates the cached grant set of its key instead of making the
// next request read every grant again (which cost 49 ms a request at 10,000 grants, and made
// creating them take 282 s). Counted, not timed: how many grants the cache reads from the store.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { GrantIndex } from '../../../src/auth/grants.js'
import { compilePolicy } from '../../../src/auth/policy.js'
import { KeyCache, MAX_GRANT_CHANGES } from '../../../src/keys/cache.js'
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/index.js'
import type { GrantRecord, KeyRecord } from '../../../src/store/store.js'
import { keyRecord } from '../../store/contract.js'
import { rounds } from '../../helpers/scale.js'

const POLICY = compilePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }] }), 'key')
const A = '111122223333'
const R = 'us-east-1'

interface Counted {
  readonly store: SqliteStore
  readonly cache: KeyCache
  /** Grant rows the cache has read: whole loads count every grant, single reads one. */
  readonly grantRowsRead: () => number
  readonly wholeLoads: () => number
}

async function setUp(t: TestContext): Promise<Counted> {
  // In memory where Linux offers it: the test counts reads, and 10,000 fsyncs would only add time.
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'macaw-cache-grants-'))
  const store = openSqliteStore({ path: join(dir, 'macaw.db'), pollIntervalMs: 0 })
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  let rows = 0
  let loads = 0
  const getGrant = store.getGrant.bind(store)
  store.getGrant = async (id) => {
    rows++
    return getGrant(id)
  }
  const cache = new KeyCache(store, {
    ttlMs: 60_000,
    maxBytes: 256 * 1024 * 1024,
    now: Date.now,
    arnOf: (_account, _region, keyId) => keyId,
    load: async (record: KeyRecord) => {
      loads++
      const grants = await store.grantsOfKey(record.accountId, record.region, record.keyId)
      rows += grants.length
      return { material: undefined, policy: POLICY, grants: new GrantIndex(grants) }
    },
  })
  t.after(() => cache.close())
  return { store, cache, grantRowsRead: () => rows, wholeLoads: () => loads }
}

const grant = (n: number, grantee = `arn:aws:iam::${A}:user/u${n}`): GrantRecord => ({
  grantId: `g${String(n).padStart(6, '0')}`,
  accountId: A,
  region: R,
  keyId: 'k',
  granteePrincipal: grantee,
  operations: ['GenerateMac'],
  issuingAccount: `arn:aws:iam::${A}:root`,
  creationDate: n,
})

describe('key cache with many grants', () => {
  // 2,000 in `npm test`, 10,000 with MACAW_TEST_FULL=1 (CI).
  const N = rounds('MACAW_TEST_GRANTS', 2000, 10_000)
  it(`creates ${N.toLocaleString('en-US')} grants on one key, each request reading only the grant that changed`, async (t) => {
    const { store, cache, grantRowsRead, wholeLoads } = await setUp(t)
    await store.insertKey(keyRecord('k'))
    for (let n = 0; n < N; n++) {
      // As CreateGrant does: resolve the key (with its grants), then create.
      await cache.getKey(A, R, 'k')
      assert.equal((await store.createGrant(grant(n), 50_000)).status, 'created')
    }
    const key = await cache.getKey(A, R, 'k')
    assert.equal(key?.grants.size, N)
    assert.equal(key?.record.version, (await store.getKey(A, R, 'k'))?.version)
    assert.ok(key?.grants.allows(`arn:aws:iam::${A}:user/u${N - 1}`, 'GenerateMac'))
    // One whole load (the first, with no grants), then one row per grant created.
    assert.equal(wholeLoads(), 1)
    assert.equal(grantRowsRead(), N)

    // A revoked grant stops working on the very next use, again for one row read.
    const before = grantRowsRead()
    assert.ok(await store.deleteGrant(grant(42).grantId))
    const after = await cache.getKey(A, R, 'k')
    assert.equal(after?.grants.allows(`arn:aws:iam::${A}:user/u42`, 'GenerateMac'), false)
    assert.equal(after?.grants.size, N - 1)
    assert.equal(grantRowsRead(), before + 1)
    assert.equal(wholeLoads(), 1)
  })

  it('applies a burst of changes in one re-check, and reloads whole past MAX_GRANT_CHANGES', async (t) => {
    const { store, cache, wholeLoads } = await setUp(t)
    await store.insertKey(keyRecord('k'))
    await cache.getKey(A, R, 'k')
    for (let n = 0; n < 10; n++) await store.createGrant(grant(n, `arn:aws:iam::${A}:user/same`), 50_000)
    await store.deleteGrant(grant(3).grantId)
    assert.equal((await cache.getKey(A, R, 'k'))?.grants.size, 9)
    assert.equal(wholeLoads(), 1)
    for (let n = 10; n < 10 + MAX_GRANT_CHANGES + 1; n++) await store.createGrant(grant(n), 50_000)
    assert.equal((await cache.getKey(A, R, 'k'))?.grants.size, 9 + MAX_GRANT_CHANGES + 1)
    assert.equal(wholeLoads(), 2)
  })

  it('loads the key whole when anything else of it changed too', async (t) => {
    const { store, cache, wholeLoads } = await setUp(t)
    const k = await store.insertKey(keyRecord('k'))
    await cache.getKey(A, R, 'k')
    await store.createGrant(grant(1), 50_000)
    // A change made behind the cache's back (no notice): the version moved by more than noted.
    const current = await store.getKey(A, R, 'k')
    assert.ok(current)
    await store.updateKey({ ...current, description: 'changed' })
    const got = await cache.getKey(A, R, 'k')
    assert.equal(got?.record.description, 'changed')
    assert.equal(got?.grants.size, 1)
    assert.equal(wholeLoads(), 2)
    assert.equal(k.version + 2, got?.record.version)
  })
})
