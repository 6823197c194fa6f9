// The store contract: every driver (SQLite today, PostgreSQL next) must pass this suite. It uses
// only the Store interface.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { KeyQuotaError, StoreConflictError, type GrantRecord, type KeyRecord, type NewAuditRow, type Store, type StoreChange } from '../../src/store/store.js'

export type OpenStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>

const A = '111122223333'
const B = '444455556666'
const R = 'us-east-1'

export function keyRecord(keyId: string, extra: Partial<KeyRecord> = {}): Omit<KeyRecord, 'version'> {
  return {
    accountId: A,
    region: R,
    keyId,
    keySpec: 'HMAC_256',
    keyUsage: 'GENERATE_VERIFY_MAC',
    origin: 'AWS_KMS',
    state: 'Enabled',
    description: '',
    creationDate: 1_700_000_000_123,
    multiRegion: false,
    policy: '{}',
    tags: [],
    material: Buffer.from([1, 2, 3]),
    ...extra,
  }
}

/** The contract's tests; with `options.skip`, each is skipped (and counted as such). */
export function storeContract(name: string, open: OpenStore, options: { readonly skip?: string | false } = {}): void {
  async function fresh(t: TestContext): Promise<Store> {
    const { store, cleanup } = await open()
    t.after(async () => {
      await store.close()
      await cleanup()
    })
    return store
  }

  describe(`store contract: ${name}`, () => {
    it('round-trips a key with every field, and omits absent optional fields', options, async (t) => {
      const store = await fresh(t)
      const full = keyRecord('k1', { deletionDate: 1_800_000_000_000, state: 'PendingDeletion', tags: [{ key: 'a', value: '' }, { key: 'b', value: '2' }], description: 'd', multiRegion: true })
      const inserted = await store.insertKey(full)
      assert.equal(inserted.version, 1)
      assert.deepEqual(await store.getKey(A, R, 'k1'), { ...full, version: 1, grantCount: 0 })
      const { material: _m, ...bare } = keyRecord('k2')
      await store.insertKey(bare)
      const got = await store.getKey(A, R, 'k2')
      assert.ok(got && !('material' in got) && !('deletionDate' in got))
      assert.equal(await store.getKey(B, R, 'k1'), undefined)
    })

    it('refuses a duplicate key id, and updates with compare-and-swap on version', options, async (t) => {
      const store = await fresh(t)
      const v1 = await store.insertKey(keyRecord('k'))
      await assert.rejects(store.insertKey(keyRecord('k')), StoreConflictError)
      const v2 = await store.updateKey({ ...v1, state: 'Disabled' })
      assert.equal(v2.version, 2)
      await assert.rejects(store.updateKey({ ...v1, state: 'Enabled' }), StoreConflictError)
      assert.equal((await store.getKey(A, R, 'k'))?.state, 'Disabled')
      assert.equal(await store.deleteKey(A, R, 'k'), true)
      await assert.rejects(store.updateKey(v2), StoreConflictError)
      assert.equal(await store.deleteKey(A, R, 'k'), false)
    })

    it('counts the keys of each account and region, and refuses an insert past a quota', options, async (t) => {
      const store = await fresh(t)
      await store.insertKey(keyRecord('a1'), 2)
      await store.insertKey(keyRecord('a2'), 2)
      await assert.rejects(store.insertKey(keyRecord('a3'), 2), (err: unknown) => err instanceof KeyQuotaError && err.usage === 2)
      assert.equal(await store.getKey(A, R, 'a3'), undefined, 'a refused insert leaves nothing')
      await store.insertKey({ ...keyRecord('b1'), accountId: B })
      assert.equal(await store.countKeys({ accountId: A, region: R }), 2)
      assert.equal(await store.countKeys({ accountId: B, region: R }), 1)
      assert.equal(await store.countKeys({ accountId: A, region: 'eu-west-1' }), 0)
      assert.equal(await store.countKeys(), 3)
      await store.deleteKey(A, R, 'a1')
      await store.insertKey(keyRecord('a3'), 2)
      assert.equal(await store.countKeys({ accountId: A, region: R }), 2)
      // Concurrent inserts cannot overshoot the quota together.
      const raced = await Promise.allSettled(['c1', 'c2', 'c3', 'c4'].map((id) => store.insertKey({ ...keyRecord(id), accountId: B }, 3)))
      assert.deepEqual(raced.map((r) => r.status).sort(), ['fulfilled', 'fulfilled', 'rejected', 'rejected'])
      assert.equal(await store.countKeys({ accountId: B, region: R }), 3)
    })

    it('pages keys of one account and region only', options, async (t) => {
      const store = await fresh(t)
      for (const id of ['c', 'a', 'e', 'b', 'd']) await store.insertKey(keyRecord(id))
      await store.insertKey(keyRecord('x', { accountId: B }))
      await store.insertKey(keyRecord('y', { region: 'eu-west-1' }))
      const p1 = await store.listKeys(A, R, undefined, 2)
      assert.deepEqual(p1.items.map((k) => k.keyId), ['a', 'b'])
      const p2 = await store.listKeys(A, R, p1.next, 2)
      assert.deepEqual(p2.items.map((k) => k.keyId), ['c', 'd'])
      const p3 = await store.listKeys(A, R, p2.next, 2)
      assert.deepEqual(p3.items.map((k) => k.keyId), ['e'])
      assert.equal(p3.next, undefined)
      const exact = await store.listKeys(A, R, undefined, 5)
      assert.equal(exact.items.length, 5)
      assert.equal(exact.next, undefined)
      assert.equal(await store.countKeys(), 7)
    })

    it('finds keys due for deletion across accounts', options, async (t) => {
      const store = await fresh(t)
      await store.insertKey(keyRecord('due', { state: 'PendingDeletion', deletionDate: 100 }))
      await store.insertKey(keyRecord('due-b', { accountId: B, state: 'PendingDeletion', deletionDate: 200 }))
      await store.insertKey(keyRecord('later', { state: 'PendingDeletion', deletionDate: 10_000 }))
      await store.insertKey(keyRecord('live'))
      assert.deepEqual((await store.listKeysDueForDeletion(500, 10)).map((k) => k.keyId), ['due', 'due-b'])
    })

    it('keeps aliases unique, follows updates, and deletes them with their key', options, async (t) => {
      const store = await fresh(t)
      await store.insertKey(keyRecord('k1'))
      await store.insertKey(keyRecord('k2'))
      const alias = { accountId: A, region: R, aliasName: 'alias/a', keyId: 'k1', creationDate: 1, lastUpdatedDate: 1 }
      await store.insertAlias(alias)
      await assert.rejects(store.insertAlias({ ...alias, keyId: 'k2' }), StoreConflictError)
      await store.insertAlias({ ...alias, aliasName: 'alias/b' })
      assert.equal(await store.countAliasesForKey(A, R, 'k1'), 2)
      assert.equal(await store.updateAlias({ ...alias, keyId: 'k2', lastUpdatedDate: 2 }), true)
      assert.equal(await store.updateAlias({ ...alias, aliasName: 'alias/none' }), false)
      assert.deepEqual((await store.getAlias(A, R, 'alias/a'))?.keyId, 'k2')
      const byKey = await store.listAliases(A, R, { keyId: 'k1', limit: 10 })
      assert.deepEqual(byKey.items.map((a) => a.aliasName), ['alias/b'])
      const page = await store.listAliases(A, R, { limit: 1 })
      assert.deepEqual(page.items.map((a) => a.aliasName), ['alias/a'])
      assert.deepEqual((await store.listAliases(A, R, { limit: 1, ...(page.next ? { after: page.next } : {}) })).items.map((a) => a.aliasName), ['alias/b'])
      await store.deleteKey(A, R, 'k1')
      assert.equal(await store.getAlias(A, R, 'alias/b'), undefined)
      assert.equal(await store.deleteAlias(A, R, 'alias/a'), true)
      assert.equal(await store.deleteAlias(A, R, 'alias/a'), false)
    })

    it('stores access keys of root and users', options, async (t) => {
      const store = await fresh(t)
      await store.insertAccessKey({ accessKeyId: 'AKIA1', accountId: A, secret: Buffer.from('s1'), status: 'Active', createDate: 5 })
      await store.insertAccessKey({ accessKeyId: 'AKIA2', accountId: A, userName: 'alice', secret: Buffer.from('s2'), status: 'Active', createDate: 6 })
      await assert.rejects(store.insertAccessKey({ accessKeyId: 'AKIA1', accountId: B, secret: Buffer.from('x'), status: 'Active', createDate: 7 }), StoreConflictError)
      const root = await store.getAccessKey('AKIA1')
      assert.ok(root && !('userName' in root))
      assert.deepEqual(root.secret, Buffer.from('s1'))
      assert.equal((await store.getAccessKey('AKIA2'))?.userName, 'alice')
      assert.deepEqual((await store.listAccessKeys(A)).map((k) => k.accessKeyId), ['AKIA1', 'AKIA2'])
      assert.equal(await store.deleteAccessKey('AKIA2'), true)
      assert.equal(await store.getAccessKey('AKIA2'), undefined)
    })

    it('announces every write', options, async (t) => {
      const store = await fresh(t)
      const seen: StoreChange[] = []
      const off = store.onChange((c) => seen.push(c))
      const k = await store.insertKey(keyRecord('k'))
      await store.updateKey(k)
      await store.insertAlias({ accountId: A, region: R, aliasName: 'alias/x', keyId: 'k', creationDate: 1, lastUpdatedDate: 1 })
      await store.insertAccessKey({ accessKeyId: 'AKIA9', accountId: A, secret: Buffer.from('s'), status: 'Active', createDate: 1 })
      await store.deleteKey(A, R, 'k')
      await store.putSetting('root.current', 'abc')
      off()
      await store.insertKey(keyRecord('after'))
      assert.deepEqual(seen, [
        { kind: 'key', accountId: A, region: R, keyId: 'k' },
        { kind: 'key', accountId: A, region: R, keyId: 'k' },
        { kind: 'alias', accountId: A, region: R, aliasName: 'alias/x' },
        { kind: 'accessKey', accessKeyId: 'AKIA9' },
        { kind: 'key', accountId: A, region: R, keyId: 'k' },
        { kind: 'alias', accountId: A, region: R, aliasName: 'alias/x' },
        { kind: 'setting', name: 'root.current' },
      ])
    })

    it('keeps users with their policy, and deletes a user with its access keys', options, async (t) => {
      const store = await fresh(t)
      const seen: StoreChange[] = []
      store.onChange((c) => seen.push(c))
      await store.insertUser({ accountId: A, userName: 'alice', createDate: 5 })
      await assert.rejects(store.insertUser({ accountId: A, userName: 'alice', createDate: 6 }), StoreConflictError)
      await store.insertUser({ accountId: B, userName: 'alice', policy: '{"p":1}', createDate: 7 })
      assert.deepEqual(await store.getUser(A, 'alice'), { accountId: A, userName: 'alice', createDate: 5 })
      assert.equal(await store.putUserPolicy(A, 'alice', '{"p":2}'), true)
      assert.equal((await store.getUser(A, 'alice'))?.policy, '{"p":2}')
      assert.equal(await store.putUserPolicy(A, 'nobody', '{}'), false)
      assert.deepEqual((await store.listUsers(undefined)).map((u) => `${u.accountId}/${u.userName}`), [`${A}/alice`, `${B}/alice`])
      assert.deepEqual((await store.listUsers(B)).map((u) => u.policy), ['{"p":1}'])
      await store.insertAccessKey({ accessKeyId: 'AKIAU1', accountId: A, userName: 'alice', secret: Buffer.from('s'), status: 'Active', createDate: 1 })
      await store.insertAccessKey({ accessKeyId: 'AKIAU2', accountId: B, userName: 'alice', secret: Buffer.from('s'), status: 'Active', createDate: 1 })
      seen.length = 0
      assert.equal(await store.deleteUser(A, 'alice'), true)
      assert.equal(await store.deleteUser(A, 'alice'), false)
      assert.equal(await store.getAccessKey('AKIAU1'), undefined)
      assert.ok(await store.getAccessKey('AKIAU2'))
      assert.deepEqual(seen, [
        { kind: 'accessKey', accessKeyId: 'AKIAU1' },
        { kind: 'user', accountId: A, userName: 'alice' },
      ])
    })

    it('keeps roles with their policies and revocation time, and announces each change', options, async (t) => {
      const store = await fresh(t)
      const seen: StoreChange[] = []
      store.onChange((c) => seen.push(c))
      const role = { accountId: A, roleName: 'app', roleId: 'AROAAAAAAAAAAAAAAAAAA', trustPolicy: '{"t":1}', maxSessionSeconds: 3600, createDate: 5 }
      await store.insertRole(role)
      await assert.rejects(store.insertRole({ ...role, roleId: 'AROABBBBBBBBBBBBBBBBB' }), StoreConflictError)
      await store.insertRole({ ...role, accountId: B, policy: '{"p":1}' })
      assert.deepEqual(await store.getRole(A, 'app'), role)
      const updated = { ...role, policy: '{"p":2}', trustPolicy: '{"t":2}', maxSessionSeconds: 7200, sessionsValidAfter: 1_700_000_000_456 }
      assert.equal(await store.updateRole(updated), true)
      assert.deepEqual(await store.getRole(A, 'app'), updated)
      assert.equal(await store.updateRole({ ...role, roleName: 'nobody' }), false)
      assert.deepEqual((await store.listRoles(undefined)).map((r) => `${r.accountId}/${r.roleName}`), [`${A}/app`, `${B}/app`])
      assert.deepEqual((await store.listRoles(B)).map((r) => r.policy), ['{"p":1}'])
      assert.equal(await store.deleteRole(A, 'app'), true)
      assert.equal(await store.deleteRole(A, 'app'), false)
      assert.equal(await store.getRole(A, 'app'), undefined)
      assert.deepEqual(seen, [
        { kind: 'role', accountId: A, roleName: 'app' },
        { kind: 'role', accountId: B, roleName: 'app' },
        { kind: 'role', accountId: A, roleName: 'app' },
        { kind: 'role', accountId: A, roleName: 'app' },
      ])
    })

    it('makes a setting once: the first value stored stays', options, async (t) => {
      const store = await fresh(t)
      const made = await Promise.all(['a', 'b', 'c'].map((v) => store.initSetting('once', v)))
      assert.equal(new Set(made).size, 1)
      assert.equal(await store.getSetting('once'), made[0])
      assert.equal(await store.initSetting('once', 'd'), made[0])
    })

    it('creates, lists, pages and deletes grants, bumping the key version', options, async (t) => {
      const store = await fresh(t)
      const k = await store.insertKey(keyRecord('k'))
      const seen: StoreChange[] = []
      const off = store.onChange((c) => seen.push(c))
      t.after(off)
      const grant = (id: string, extra: Partial<GrantRecord> = {}): GrantRecord => ({
        grantId: id,
        accountId: A,
        region: R,
        keyId: 'k',
        granteePrincipal: `arn:aws:iam::${B}:root`,
        operations: ['GenerateMac'],
        issuingAccount: `arn:aws:iam::${A}:root`,
        creationDate: 9,
        ...extra,
      })
      assert.deepEqual(await store.createGrant(grant('g1'), 10), { status: 'created', grant: grant('g1') })
      assert.equal((await store.getKey(A, R, 'k'))?.version, k.version + 1)
      const named = grant('g2', { name: 'n', retiringPrincipal: `arn:aws:iam::${A}:user/bob`, operations: ['VerifyMac', 'GenerateMac'] })
      assert.equal((await store.createGrant(named, 10)).status, 'created')
      // Same name and same parameters (operations in another order): the existing grant.
      const again = await store.createGrant(grant('g3', { name: 'n', retiringPrincipal: `arn:aws:iam::${A}:user/bob`, operations: ['GenerateMac', 'VerifyMac'] }), 10)
      assert.deepEqual(again, { status: 'existing', grant: named })
      // Same name, other parameters: a new grant.
      assert.equal((await store.createGrant(grant('g4', { name: 'n' }), 10)).status, 'created')
      assert.deepEqual(await store.createGrant(grant('g5'), 3), { status: 'limit' })
      assert.deepEqual((await store.grantsOfKey(A, R, 'k')).map((g) => g.grantId), ['g1', 'g2', 'g4'])
      const first = await store.listGrants(A, R, 'k', { limit: 2 })
      assert.deepEqual(first.items.map((g) => g.grantId), ['g1', 'g2'])
      assert.ok(first.next !== undefined)
      const second = await store.listGrants(A, R, 'k', { limit: 2, after: first.next })
      assert.deepEqual(second.items.map((g) => g.grantId), ['g4'])
      assert.equal(second.next, undefined)
      assert.deepEqual((await store.listGrants(A, R, 'k', { limit: 9, grantId: 'g2' })).items, [named])
      assert.equal((await store.listGrants(A, R, 'k', { limit: 9, granteePrincipal: 'x' })).items.length, 0)
      assert.deepEqual((await store.listRetirableGrants(`arn:aws:iam::${A}:user/bob`, undefined, 9)).items, [named])
      assert.deepEqual(await store.deleteGrant('g1'), grant('g1'))
      assert.equal(await store.deleteGrant('g1'), undefined)
      // The key counts its grants: three made, one deleted (the existing one and the refused one count nothing).
      assert.equal((await store.getKey(A, R, 'k'))?.grantCount, 2)
      // Each grant change says which grant and the key version it made, and nothing else.
      const v = k.version
      assert.deepEqual(seen, [
        { kind: 'grant', accountId: A, region: R, keyId: 'k', grantId: 'g1', version: v + 1 },
        { kind: 'grant', accountId: A, region: R, keyId: 'k', grantId: 'g2', version: v + 2 },
        { kind: 'grant', accountId: A, region: R, keyId: 'k', grantId: 'g4', version: v + 3 },
        { kind: 'grant', accountId: A, region: R, keyId: 'k', grantId: 'g1', version: v + 4 },
      ])
      await assert.rejects(store.createGrant(grant('g6', { keyId: 'nokey' }), 10), StoreConflictError)
      await store.deleteKey(A, R, 'k')
      assert.equal(await store.getGrant('g2'), undefined)
    })

    it('appends audit records as one hash chain, filters them, and prunes with an anchor', options, async (t) => {
      const store = await fresh(t)
      // Which records seal their batch (the last of each; audit/chain.ts): asked of the chain.
      const sealed: number[] = []
      const chain = (prev: string, seq: number, row: NewAuditRow, seal?: boolean) => {
        if (seal === true) sealed.push(seq)
        return `${prev}>${seq}:${row.eventId}`
      }
      const row = (n: number, extra: Partial<NewAuditRow> = {}): NewAuditRow => ({
        time: 1000 * n,
        eventId: `e${n}`,
        eventName: n % 2 === 0 ? 'GenerateMac' : 'CreateKey',
        accountId: A,
        principal: `arn:aws:iam::${A}:root`,
        outcome: 'success',
        event: JSON.stringify({ n }),
        ...extra,
      })
      await store.appendAudit([row(1), row(2, { keyArn: 'arn:k', outcome: 'failure' })], chain)
      await store.appendAudit([], chain)
      await store.appendAudit([row(3), row(4, { keyArn: 'arn:k' })], chain)
      const all = await store.queryAudit({ limit: 100 })
      assert.deepEqual(all.map((r) => [r.seq, r.prevHash, r.hash]), [
        [1, '', '>1:e1'],
        [2, '>1:e1', '>1:e1>2:e2'],
        [3, '>1:e1>2:e2', '>1:e1>2:e2>3:e3'],
        [4, '>1:e1>2:e2>3:e3', '>1:e1>2:e2>3:e3>4:e4'],
      ])
      assert.deepEqual(sealed, [2, 4])
      assert.equal(all[1]?.keyArn, 'arn:k')
      assert.ok(!('keyArn' in (all[0] ?? {})))
      assert.deepEqual((await store.queryAudit({ keyArn: 'arn:k', limit: 9 })).map((r) => r.seq), [2, 4])
      assert.deepEqual((await store.queryAudit({ outcome: 'failure', limit: 9 })).map((r) => r.seq), [2])
      assert.deepEqual((await store.queryAudit({ eventName: 'CreateKey', from: 2000, limit: 9 })).map((r) => r.seq), [3])
      assert.deepEqual((await store.queryAudit({ afterSeq: 2, limit: 1 })).map((r) => r.seq), [3])
      assert.deepEqual(await store.auditAnchor(), { seq: 0, hash: '' })
      assert.equal(await store.pruneAudit(2500), 2)
      assert.deepEqual(await store.auditAnchor(), { seq: 2, hash: '>1:e1>2:e2' })
      assert.deepEqual((await store.queryAudit({ limit: 9 })).map((r) => r.seq), [3, 4])
      await store.appendAudit([row(5)], chain)
      assert.equal((await store.queryAudit({ afterSeq: 4, limit: 9 }))[0]?.prevHash, '>1:e1>2:e2>3:e3>4:e4')
      // A large batch (drivers may insert it in chunks) continues the same chain.
      const short = (prev: string, seq: number, _row: NewAuditRow, seal?: boolean) => {
        if (seal === true) sealed.push(seq)
        return `${prev.slice(-40)}>${seq}`
      }
      await store.appendAudit(Array.from({ length: 123 }, (_, i) => row(10 + i)), short)
      assert.deepEqual(sealed, [2, 4, 5, 128], 'one seal per batch, on its last record, whatever its chunks')
      const big = await store.queryAudit({ afterSeq: 5, limit: 500 })
      assert.equal(big.length, 123)
      big.forEach((r, i) => {
        assert.equal(r.seq, 6 + i)
        assert.equal(r.prevHash, i === 0 ? '>1:e1>2:e2>3:e3>4:e4>5:e5' : big[i - 1]?.hash)
        assert.equal(r.eventId, `e${10 + i}`)
      })
    })

    it('scans the trail newest first by time, then seq, from a position and within a time range', options, async (t) => {
      const store = await fresh(t)
      const chain = (prev: string, seq: number) => `${prev}>${seq}`
      // Records of two writers interleave: seq order is not time order.
      const times = [5000, 3000, 4000, 3000, 1000, 2000]
      await store.appendAudit(
        times.map((time, i) => ({ time, eventId: `e${i + 1}`, eventName: 'GenerateMac', accountId: A, principal: 'p', outcome: 'success', event: '{}' })),
        chain,
      )
      const order = async (scan: Parameters<typeof store.scanAudit>[0]) => (await store.scanAudit(scan)).map((r) => r.seq)
      assert.deepEqual(await order({ limit: 10 }), [1, 3, 4, 2, 6, 5])
      assert.deepEqual(await order({ limit: 3 }), [1, 3, 4])
      assert.deepEqual(await order({ before: { time: 3000, seq: 4 }, limit: 10 }), [2, 6, 5], 'the same time: below the seq')
      assert.deepEqual(await order({ from: 2000, to: 4000, limit: 10 }), [3, 4, 2, 6])
      assert.deepEqual(await order({ before: { time: 4000, seq: 3 }, from: 2500, limit: 10 }), [4, 2])
    })

    it('scans every key across accounts, keeps settings, and swaps access key secrets with compare-and-set', options, async (t) => {
      const store = await fresh(t)
      await store.insertKey(keyRecord('k2'))
      await store.insertKey(keyRecord('k1'))
      await store.insertKey({ ...keyRecord('k0'), accountId: B })
      await store.insertKey({ ...keyRecord('k3'), region: 'eu-west-1' })
      const seen: string[] = []
      let after: string | undefined
      do {
        const page = await store.scanKeys(after, 2)
        seen.push(...page.items.map((k) => `${k.accountId}/${k.region}/${k.keyId}`))
        after = page.next
      } while (after !== undefined)
      assert.deepEqual(seen, [`${A}/eu-west-1/k3`, `${A}/${R}/k1`, `${A}/${R}/k2`, `${B}/${R}/k0`])
      assert.equal(await store.getSetting('root.current'), undefined)
      await store.putSetting('root.current', 'file:/a')
      await store.putSetting('root.current', 'file:/b')
      assert.equal(await store.getSetting('root.current'), 'file:/b')
      await store.insertAccessKey({ accessKeyId: 'AKIAX1', accountId: A, secret: Buffer.from('old'), status: 'Active', createDate: 1 })
      await store.insertAccessKey({ accessKeyId: 'AKIAX2', accountId: B, secret: Buffer.from('b'), status: 'Active', createDate: 1 })
      assert.deepEqual((await store.listAllAccessKeys()).map((k) => k.accessKeyId), ['AKIAX1', 'AKIAX2'])
      assert.equal(await store.replaceAccessKeySecret('AKIAX1', Buffer.from('stale'), Buffer.from('new')), false)
      assert.equal(await store.replaceAccessKeySecret('AKIAX1', Buffer.from('old'), Buffer.from('new')), true)
      assert.deepEqual((await store.getAccessKey('AKIAX1'))?.secret, Buffer.from('new'))
    })

    it('stores many keys’ last uses in one go, keeping the later of two', options, async (t) => {
      const store = await fresh(t)
      await store.storeKeyUses([{ arn: 'arn:k1', time: 2000, use: 'k1 at 2000' }])
      const many = Array.from({ length: 300 }, (_, i) => ({ arn: `arn:m${i}`, time: 1000 + i, use: `m${i}` }))
      await store.storeKeyUses([{ arn: 'arn:k1', time: 1500, use: 'k1 at 1500 (older)' }, ...many, { arn: 'arn:k2', time: 10, use: 'k2' }])
      assert.deepEqual(await store.getKeyUse('arn:k1'), { arn: 'arn:k1', time: 2000, use: 'k1 at 2000' })
      assert.deepEqual(await store.getKeyUse('arn:m299'), { arn: 'arn:m299', time: 1299, use: 'm299' })
      assert.deepEqual(await store.getKeyUse('arn:k2'), { arn: 'arn:k2', time: 10, use: 'k2' })
      await store.storeKeyUses([{ arn: 'arn:k1', time: 2001, use: 'k1 at 2001' }])
      assert.equal((await store.getKeyUse('arn:k1'))?.use, 'k1 at 2001')
      assert.equal(await store.getKeyUse('arn:none'), undefined)
      await store.storeKeyUses([])
    })

    it('grants a lease to one owner at a time until it expires', options, async (t) => {
      const store = await fresh(t)
      assert.equal(await store.acquireLease('sweeper', 'a', 1000, 500), true)
      assert.equal(await store.acquireLease('sweeper', 'b', 1200, 500), false)
      assert.equal(await store.acquireLease('sweeper', 'a', 1400, 500), true)
      assert.equal(await store.acquireLease('other', 'b', 1400, 500), true)
      assert.equal(await store.acquireLease('sweeper', 'b', 1800, 500), false)
      assert.equal(await store.acquireLease('sweeper', 'b', 1900, 500), true)
      assert.equal(await store.acquireLease('sweeper', 'a', 2000, 500), false)
    })
  })
}
