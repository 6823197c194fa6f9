// The Store, once for every SQL engine: each method's statements and transaction, written with `?`
// placeholders against the engine contract (engine.ts). Over 400 lines because it is the whole
// Store contract in one place: one method per contract method, each a few lines of SQL.
import {
  KeyQuotaError,
  StoreConflictError,
  type AccessKeyRecord,
  type AliasRecord,
  type AuditFilter,
  type AuditRow,
  type AuditScan,
  type ChainFn,
  type CreateGrantResult,
  type GrantRecord,
  type KeyRecord,
  type KeyUseRow,
  type NewAuditRow,
  type Page,
  type Store,
  type StoreChange,
  type OidcProviderRecord,
  type RoleRecord,
  type UserRecord,
} from '../store.js'
import {
  docOf,
  grantPage,
  keyPosition,
  keyPositionParts,
  materialExpiry,
  page,
  sameGrant,
  seqAfter,
  toAccessKey,
  toAlias,
  toAudit,
  toGrant,
  toKey,
  toOidcProvider,
  toRole,
  toUser,
  type AccessKeyRow,
  type AliasRow,
  type AuditDbRow,
  type GrantRow,
  type KeyRow,
  type OidcProviderRow,
  type RoleRow,
  type UserRow,
} from '../rows.js'
import type { SqlEngine, Tx } from './engine.js'

type Head = { seq: number; hash: string }

const PUT_SETTING = 'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'
/** storeKeyUses: one upsert per chunk of these sizes, largest first (as AUDIT_CHUNKS). */
const KEY_USE_CHUNKS = [256, 16, 1] as const
const KEY_USE_UPSERTS = new Map<number, string>(
  KEY_USE_CHUNKS.map((n) => [
    n,
    `INSERT INTO key_usage (arn, time, detail) VALUES ${Array.from({ length: n }, () => '(?, ?, ?)').join(', ')} ` +
      'ON CONFLICT (arn) DO UPDATE SET time = excluded.time, detail = excluded.detail WHERE excluded.time > key_usage.time',
  ]),
)

const KEY = 'account_id = ? AND region = ? AND key_id = ?'
const AUDIT_COLUMNS = '(seq, time, event_id, event_name, account_id, key_arn, principal, outcome, event, prev_hash, hash)'
const AUDIT_TUPLE = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
/**
 * Audit rows go in one INSERT per chunk of these sizes, largest first: few statements per batch
 * (one per row costs a third more), and a handful of distinct statement texts for the engines'
 * statement caches.
 */
const AUDIT_CHUNKS = [256, 64, 16, 4, 1] as const
const AUDIT_INSERTS = new Map<number, string>(AUDIT_CHUNKS.map((n) => [n, `INSERT INTO audit ${AUDIT_COLUMNS} VALUES ${Array.from({ length: n }, () => AUDIT_TUPLE).join(', ')}`]))

/**
 * `items` in runs of the given sizes, largest first, as many runs of each size as fit: with sizes
 * ending in 1, every item is in one run, and each run's length is one of the sizes (one statement
 * text per size).
 */
function* runsOf<T>(items: readonly T[], sizes: readonly number[]): Generator<readonly T[]> {
  let start = 0
  for (const size of sizes) {
    for (; items.length - start >= size; start += size) yield items.slice(start, start + size)
  }
}

/** The optional AuditFilter conditions: column test and the filter's value. */
const AUDIT_CONDITIONS: readonly { readonly sql: string; readonly value: (f: AuditFilter) => unknown }[] = [
  { sql: 'time >= ?', value: (f) => f.from },
  { sql: 'time <= ?', value: (f) => f.to },
  { sql: 'key_arn = ?', value: (f) => f.keyArn },
  { sql: 'principal = ?', value: (f) => f.principal },
  { sql: 'event_name = ?', value: (f) => f.eventName },
  { sql: 'outcome = ?', value: (f) => f.outcome },
]

export class SqlStore<E extends SqlEngine = SqlEngine> implements Store {
  protected readonly engine: E

  constructor(engine: E) {
    this.engine = engine
  }

  /** Runs `fn` in a write transaction, turning the engine's constraint errors into conflicts. */
  private async write<T>(fn: (tx: Tx) => Promise<T>, conflicts: { unique?: string; foreignKey?: string } = {}): Promise<T> {
    try {
      return await this.engine.transaction(fn)
    } catch (err) {
      if (conflicts.unique !== undefined && this.engine.isUniqueViolation(err)) throw new StoreConflictError(conflicts.unique)
      if (conflicts.foreignKey !== undefined && this.engine.isForeignKeyViolation(err)) throw new StoreConflictError(conflicts.foreignKey)
      throw err
    }
  }

  private async one<R extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.engine.rows<R>(sql, params))[0]
  }

  private async count(sql: string, params: readonly unknown[] = []): Promise<number> {
    return Number((await this.one<{ n: number }>(sql, params))?.n ?? 0)
  }

  // Keys

  async getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined> {
    const row = await this.one<KeyRow>(`SELECT * FROM keys WHERE ${KEY}`, [accountId, region, keyId])
    return row && toKey(row)
  }

  async listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const rows = await this.engine.rows<KeyRow>('SELECT * FROM keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?', [
      accountId,
      region,
      after ?? '',
      limit + 1,
    ])
    return page(rows.map(toKey), limit, (k) => k.keyId)
  }

  countKeys(scope?: { readonly accountId: string; readonly region: string }): Promise<number> {
    return scope === undefined
      ? this.count('SELECT coalesce(sum(n), 0) AS n FROM key_counts')
      : this.count('SELECT n FROM key_counts WHERE account_id = ? AND region = ?', [scope.accountId, scope.region])
  }

  async insertKey(key: Omit<KeyRecord, 'version'>, quota?: number): Promise<KeyRecord> {
    await this.write(
      async (tx) => {
        // The account's counter row, made if missing and locked: inserts into one account and
        // region queue here, so the quota check and the count stay exact.
        await tx.run('INSERT INTO key_counts (account_id, region, n) VALUES (?, ?, 0) ON CONFLICT (account_id, region) DO NOTHING', [key.accountId, key.region])
        const [counted] = await tx.lock<{ n: number }>('SELECT n FROM key_counts WHERE account_id = ? AND region = ?', [key.accountId, key.region])
        const usage = Number(counted?.n ?? 0)
        if (quota !== undefined && usage >= quota) throw new KeyQuotaError(usage)
        await tx.run('UPDATE key_counts SET n = n + 1 WHERE account_id = ? AND region = ?', [key.accountId, key.region])
        await tx.run(
          'INSERT INTO keys (account_id, region, key_id, state, deletion_date, creation_date, version, doc, material, valid_to) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)',
          [key.accountId, key.region, key.keyId, key.state, key.deletionDate ?? null, key.creationDate, docOf(key), key.material ?? null, materialExpiry(key)],
        )
        tx.log({ kind: 'key', accountId: key.accountId, region: key.region, keyId: key.keyId })
      },
      { unique: `key ${key.keyId} exists` },
    )
    return { ...key, version: 1, grantCount: 0 }
  }

  async updateKey(key: KeyRecord): Promise<KeyRecord> {
    await this.write(async (tx) => {
      // PostgreSQL (READ COMMITTED): a concurrent writer's UPDATE waits for ours, then re-checks
      // the version against the committed row and matches nothing: exactly one of them wins.
      const n = await tx.run(
        `UPDATE keys SET state = ?, deletion_date = ?, creation_date = ?, version = version + 1, doc = ?, material = ?, valid_to = ? WHERE ${KEY} AND version = ?`,
        [key.state, key.deletionDate ?? null, key.creationDate, docOf(key), key.material ?? null, materialExpiry(key), key.accountId, key.region, key.keyId, key.version],
      )
      if (n !== 1) throw new StoreConflictError(`key ${key.keyId} changed or is gone`)
      tx.log({ kind: 'key', accountId: key.accountId, region: key.region, keyId: key.keyId })
    })
    return { ...key, version: key.version + 1 }
  }

  deleteKey(accountId: string, region: string, keyId: string): Promise<boolean> {
    return this.write(async (tx) => {
      // The key first: no alias or grant can be attached to it until we commit.
      const locked = await tx.lock(`SELECT 1 AS one FROM keys WHERE ${KEY}`, [accountId, region, keyId])
      if (locked.length === 0) return false
      // Aliases would go with the key anyway (ON DELETE CASCADE); deleting them here names them for the caches.
      const aliases = await tx.rows<{ alias_name: string }>(`DELETE FROM aliases WHERE ${KEY} RETURNING alias_name`, [accountId, region, keyId])
      await tx.run(`DELETE FROM keys WHERE ${KEY}`, [accountId, region, keyId])
      await tx.run('UPDATE key_counts SET n = n - 1 WHERE account_id = ? AND region = ?', [accountId, region])
      tx.log({ kind: 'key', accountId, region, keyId })
      for (const name of aliases.map((a) => a.alias_name).sort()) tx.log({ kind: 'alias', accountId, region, aliasName: name })
      return true
    })
  }

  async listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = await this.engine.rows<KeyRow>(
      "SELECT * FROM keys WHERE state = 'PendingDeletion' AND deletion_date IS NOT NULL AND deletion_date <= ? ORDER BY deletion_date LIMIT ?",
      [now, limit],
    )
    return rows.map(toKey)
  }

  async listKeysWithExpiredMaterial(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = await this.engine.rows<KeyRow>('SELECT * FROM keys WHERE valid_to IS NOT NULL AND valid_to <= ? ORDER BY valid_to LIMIT ?', [now, limit])
    return rows.map(toKey)
  }

  async listRelatedKeys(accountId: string, keyId: string): Promise<KeyRecord[]> {
    return (await this.engine.rows<KeyRow>('SELECT * FROM keys WHERE account_id = ? AND key_id = ? ORDER BY region', [accountId, keyId])).map(toKey)
  }

  async scanKeys(after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const rows = await this.engine.rows<KeyRow>(
      'SELECT * FROM keys WHERE (account_id, region, key_id) > (?, ?, ?) ORDER BY account_id, region, key_id LIMIT ?',
      [...keyPositionParts(after), limit + 1],
    )
    return page(rows.map(toKey), limit, keyPosition)
  }

  // Aliases

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const row = await this.one<AliasRow>('SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?', [accountId, region, aliasName])
    return row && toAlias(row)
  }

  async listAliases(accountId: string, region: string, filter: { keyId?: string; after?: string; limit: number }): Promise<Page<AliasRecord>> {
    const after = filter.after ?? ''
    const rows =
      filter.keyId === undefined
        ? await this.engine.rows<AliasRow>('SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?', [
            accountId,
            region,
            after,
            filter.limit + 1,
          ])
        : await this.engine.rows<AliasRow>(`SELECT * FROM aliases WHERE ${KEY} AND alias_name > ? ORDER BY alias_name LIMIT ?`, [
            accountId,
            region,
            filter.keyId,
            after,
            filter.limit + 1,
          ])
    return page(rows.map(toAlias), filter.limit, (a) => a.aliasName)
  }

  countAliasesForKey(accountId: string, region: string, keyId: string): Promise<number> {
    return this.count(`SELECT count(*) AS n FROM aliases WHERE ${KEY}`, [accountId, region, keyId])
  }

  insertAlias(alias: AliasRecord): Promise<void> {
    return this.write(
      async (tx) => {
        await tx.run('INSERT INTO aliases (account_id, region, alias_name, key_id, creation_date, last_updated_date) VALUES (?, ?, ?, ?, ?, ?)', [
          alias.accountId,
          alias.region,
          alias.aliasName,
          alias.keyId,
          alias.creationDate,
          alias.lastUpdatedDate,
        ])
        tx.log({ kind: 'alias', accountId: alias.accountId, region: alias.region, aliasName: alias.aliasName })
      },
      { unique: `alias ${alias.aliasName} exists`, foreignKey: `key ${alias.keyId} is gone` },
    )
  }

  updateAlias(alias: AliasRecord): Promise<boolean> {
    return this.write(async (tx) => {
      const n = await tx.run('UPDATE aliases SET key_id = ?, last_updated_date = ? WHERE account_id = ? AND region = ? AND alias_name = ?', [
        alias.keyId,
        alias.lastUpdatedDate,
        alias.accountId,
        alias.region,
        alias.aliasName,
      ])
      if (n === 1) tx.log({ kind: 'alias', accountId: alias.accountId, region: alias.region, aliasName: alias.aliasName })
      return n === 1
    })
  }

  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return this.write(async (tx) => {
      const n = await tx.run('DELETE FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?', [accountId, region, aliasName])
      if (n === 1) tx.log({ kind: 'alias', accountId, region, aliasName })
      return n === 1
    })
  }

  // Identities

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const row = await this.one<AccessKeyRow>('SELECT * FROM access_keys WHERE access_key_id = ?', [accessKeyId])
    return row && toAccessKey(row)
  }

  async listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    return (await this.engine.rows<AccessKeyRow>('SELECT * FROM access_keys WHERE account_id = ? ORDER BY access_key_id', [accountId])).map(toAccessKey)
  }

  async listAllAccessKeys(): Promise<AccessKeyRecord[]> {
    return (await this.engine.rows<AccessKeyRow>('SELECT * FROM access_keys ORDER BY access_key_id')).map(toAccessKey)
  }

  insertAccessKey(record: AccessKeyRecord): Promise<void> {
    return this.write(
      async (tx) => {
        await tx.run('INSERT INTO access_keys (access_key_id, account_id, user_name, secret, status, create_date) VALUES (?, ?, ?, ?, ?, ?)', [
          record.accessKeyId,
          record.accountId,
          record.userName ?? null,
          record.secret,
          record.status,
          record.createDate,
        ])
        tx.log({ kind: 'accessKey', accessKeyId: record.accessKeyId })
      },
      { unique: `access key ${record.accessKeyId} exists` },
    )
  }

  deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.changeAccessKey(accessKeyId, 'DELETE FROM access_keys WHERE access_key_id = ?', [accessKeyId])
  }

  replaceAccessKeySecret(accessKeyId: string, expected: Buffer, secret: Buffer): Promise<boolean> {
    return this.changeAccessKey(accessKeyId, 'UPDATE access_keys SET secret = ? WHERE access_key_id = ? AND secret = ?', [secret, accessKeyId, expected])
  }

  private changeAccessKey(accessKeyId: string, sql: string, params: readonly unknown[]): Promise<boolean> {
    return this.write(async (tx) => {
      const n = await tx.run(sql, params)
      if (n === 1) tx.log({ kind: 'accessKey', accessKeyId })
      return n === 1
    })
  }

  async getUser(accountId: string, userName: string): Promise<UserRecord | undefined> {
    const row = await this.one<UserRow>('SELECT * FROM users WHERE account_id = ? AND user_name = ?', [accountId, userName])
    return row && toUser(row)
  }

  async listUsers(accountId: string | undefined): Promise<UserRecord[]> {
    const rows =
      accountId === undefined
        ? await this.engine.rows<UserRow>('SELECT * FROM users ORDER BY account_id, user_name')
        : await this.engine.rows<UserRow>('SELECT * FROM users WHERE account_id = ? ORDER BY user_name', [accountId])
    return rows.map(toUser)
  }

  insertUser(user: UserRecord): Promise<void> {
    return this.write(
      async (tx) => {
        await tx.run('INSERT INTO users (account_id, user_name, policy, create_date) VALUES (?, ?, ?, ?)', [
          user.accountId,
          user.userName,
          user.policy ?? null,
          user.createDate,
        ])
        tx.log({ kind: 'user', accountId: user.accountId, userName: user.userName })
      },
      { unique: `user ${user.userName} exists` },
    )
  }

  putUserPolicy(accountId: string, userName: string, policy: string | undefined): Promise<boolean> {
    return this.write(async (tx) => {
      const n = await tx.run('UPDATE users SET policy = ? WHERE account_id = ? AND user_name = ?', [policy ?? null, accountId, userName])
      if (n === 1) tx.log({ kind: 'user', accountId, userName })
      return n === 1
    })
  }

  deleteUser(accountId: string, userName: string): Promise<boolean> {
    return this.write(async (tx) => {
      const keys = await tx.rows<{ access_key_id: string }>('DELETE FROM access_keys WHERE account_id = ? AND user_name = ? RETURNING access_key_id', [
        accountId,
        userName,
      ])
      for (const id of keys.map((k) => k.access_key_id).sort()) tx.log({ kind: 'accessKey', accessKeyId: id })
      const n = await tx.run('DELETE FROM users WHERE account_id = ? AND user_name = ?', [accountId, userName])
      if (n === 1) tx.log({ kind: 'user', accountId, userName })
      return n === 1
    })
  }

  // Roles

  async getRole(accountId: string, roleName: string): Promise<RoleRecord | undefined> {
    const row = await this.one<RoleRow>('SELECT * FROM roles WHERE account_id = ? AND role_name = ?', [accountId, roleName])
    return row && toRole(row)
  }

  async listRoles(accountId: string | undefined): Promise<RoleRecord[]> {
    const rows =
      accountId === undefined
        ? await this.engine.rows<RoleRow>('SELECT * FROM roles ORDER BY account_id, role_name')
        : await this.engine.rows<RoleRow>('SELECT * FROM roles WHERE account_id = ? ORDER BY role_name', [accountId])
    return rows.map(toRole)
  }

  insertRole(role: RoleRecord): Promise<void> {
    return this.write(
      async (tx) => {
        await tx.run(
          'INSERT INTO roles (account_id, role_name, role_id, trust_policy, policy, max_session_seconds, create_date, sessions_valid_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [role.accountId, role.roleName, role.roleId, role.trustPolicy, role.policy ?? null, role.maxSessionSeconds, role.createDate, role.sessionsValidAfter ?? null],
        )
        tx.log({ kind: 'role', accountId: role.accountId, roleName: role.roleName })
      },
      { unique: `role ${role.roleName} exists` },
    )
  }

  updateRole(role: RoleRecord): Promise<boolean> {
    return this.write(async (tx) => {
      const n = await tx.run(
        'UPDATE roles SET trust_policy = ?, policy = ?, max_session_seconds = ?, sessions_valid_after = ? WHERE account_id = ? AND role_name = ?',
        [role.trustPolicy, role.policy ?? null, role.maxSessionSeconds, role.sessionsValidAfter ?? null, role.accountId, role.roleName],
      )
      if (n === 1) tx.log({ kind: 'role', accountId: role.accountId, roleName: role.roleName })
      return n === 1
    })
  }

  deleteRole(accountId: string, roleName: string): Promise<boolean> {
    return this.write(async (tx) => {
      const n = await tx.run('DELETE FROM roles WHERE account_id = ? AND role_name = ?', [accountId, roleName])
      if (n === 1) tx.log({ kind: 'role', accountId, roleName })
      return n === 1
    })
  }

  // OpenID Connect providers (read by AssumeRoleWithWebIdentity itself, so no change is announced)

  async getOidcProvider(accountId: string, url: string): Promise<OidcProviderRecord | undefined> {
    const row = await this.one<OidcProviderRow>('SELECT * FROM oidc_providers WHERE account_id = ? AND url = ?', [accountId, url])
    return row && toOidcProvider(row)
  }

  async listOidcProviders(accountId: string | undefined): Promise<OidcProviderRecord[]> {
    const rows =
      accountId === undefined
        ? await this.engine.rows<OidcProviderRow>('SELECT * FROM oidc_providers ORDER BY account_id, url')
        : await this.engine.rows<OidcProviderRow>('SELECT * FROM oidc_providers WHERE account_id = ? ORDER BY url', [accountId])
    return rows.map(toOidcProvider)
  }

  insertOidcProvider(p: OidcProviderRecord): Promise<void> {
    return this.write(
      async (tx) => {
        await tx.run('INSERT INTO oidc_providers (account_id, url, client_ids, jwks, create_date) VALUES (?, ?, ?, ?, ?)', [
          p.accountId,
          p.url,
          JSON.stringify(p.clientIds),
          p.jwks ?? null,
          p.createDate,
        ])
      },
      { unique: `provider ${p.url} exists` },
    )
  }

  deleteOidcProvider(accountId: string, url: string): Promise<boolean> {
    return this.write(async (tx) => (await tx.run('DELETE FROM oidc_providers WHERE account_id = ? AND url = ?', [accountId, url])) === 1)
  }

  // Grants

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const row = await this.one<GrantRow>('SELECT * FROM grants WHERE grant_id = ?', [grantId])
    return row && toGrant(row)
  }

  async grantsOfKey(accountId: string, region: string, keyId: string): Promise<GrantRecord[]> {
    return (await this.engine.rows<GrantRow>(`SELECT * FROM grants WHERE ${KEY} ORDER BY seq`, [accountId, region, keyId])).map(toGrant)
  }

  async listGrants(
    accountId: string,
    region: string,
    keyId: string,
    filter: { grantId?: string; granteePrincipal?: string; after?: string; limit: number },
  ): Promise<Page<GrantRecord>> {
    let sql = `SELECT * FROM grants WHERE ${KEY} AND seq > ?`
    const params: unknown[] = [accountId, region, keyId, seqAfter(filter.after)]
    if (filter.grantId !== undefined) {
      sql += ' AND grant_id = ?'
      params.push(filter.grantId)
    }
    if (filter.granteePrincipal !== undefined) {
      sql += ' AND grantee = ?'
      params.push(filter.granteePrincipal)
    }
    return grantPage(await this.engine.rows<GrantRow>(`${sql} ORDER BY seq LIMIT ?`, [...params, filter.limit + 1]), filter.limit)
  }

  async listRetirableGrants(retiringPrincipal: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const rows = await this.engine.rows<GrantRow>('SELECT * FROM grants WHERE retiring_principal = ? AND seq > ? ORDER BY seq LIMIT ?', [
      retiringPrincipal,
      seqAfter(after),
      limit + 1,
    ])
    return grantPage(rows, limit)
  }

  createGrant(grant: GrantRecord, limit: number): Promise<CreateGrantResult> {
    const { accountId, region, keyId } = grant
    return this.write(
      async (tx): Promise<CreateGrantResult> => {
        // Serializes grant creation per key, so that the name check and the limit count below see
        // every committed grant. A missing key locks nothing: the insert then fails on the foreign key.
        await tx.lock(`SELECT 1 AS one FROM keys WHERE ${KEY}`, [accountId, region, keyId])
        if (grant.name !== undefined) {
          const named = await tx.rows<GrantRow>(`SELECT * FROM grants WHERE ${KEY} AND name = ? ORDER BY seq`, [accountId, region, keyId, grant.name])
          const same = named.map(toGrant).find((g) => sameGrant(g, grant))
          if (same) return { status: 'existing', grant: same }
        }
        const [count] = await tx.rows<{ n: number }>(`SELECT count(*) AS n FROM grants WHERE ${KEY}`, [accountId, region, keyId])
        if (Number(count?.n ?? 0) >= limit) return { status: 'limit' }
        await tx.run(
          'INSERT INTO grants (grant_id, account_id, region, key_id, name, grantee, retiring_principal, operations, issuing_account, creation_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            grant.grantId,
            accountId,
            region,
            keyId,
            grant.name ?? null,
            grant.granteePrincipal,
            grant.retiringPrincipal ?? null,
            JSON.stringify(grant.operations),
            grant.issuingAccount,
            grant.creationDate,
          ],
        )
        const version = await bumpKeyVersion(tx, accountId, region, keyId, 1)
        tx.log({ kind: 'grant', accountId, region, keyId, grantId: grant.grantId, version })
        return { status: 'created', grant }
      },
      { foreignKey: `key ${keyId} is gone`, unique: `grant ${grant.grantId} exists` },
    )
  }

  deleteGrant(grantId: string): Promise<GrantRecord | undefined> {
    return this.write(async (tx) => {
      const [found] = await tx.rows<{ account_id: string; region: string; key_id: string }>('SELECT account_id, region, key_id FROM grants WHERE grant_id = ?', [
        grantId,
      ])
      if (!found) return undefined
      // Key row first, then the grant: the lock order of every other write.
      await tx.lock(`SELECT 1 AS one FROM keys WHERE ${KEY}`, [found.account_id, found.region, found.key_id])
      const [row] = await tx.rows<GrantRow>('DELETE FROM grants WHERE grant_id = ? RETURNING *', [grantId])
      if (!row) return undefined
      const version = await bumpKeyVersion(tx, row.account_id, row.region, row.key_id, -1)
      tx.log({ kind: 'grant', accountId: row.account_id, region: row.region, keyId: row.key_id, grantId, version })
      return toGrant(row)
    })
  }

  // Audit

  appendAudit(rows: readonly NewAuditRow[], chain: ChainFn): Promise<void> {
    if (rows.length === 0) return Promise.resolve()
    return this.write(async (tx) => {
      // The anchor row is the chain's lock: every process appending (or pruning) queues here, so
      // each one continues from the head the previous one committed.
      const [anchor] = await tx.lock<Head>('SELECT seq, hash FROM audit_anchor WHERE id = 1')
      const [last] = await tx.rows<Head>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1')
      let head: Head = last ?? anchor ?? { seq: 0, hash: '' }
      // The batch's last record seals it (audit/chain.ts).
      const sealSeq = head.seq + rows.length
      for (const run of runsOf(rows, AUDIT_CHUNKS)) {
        const params: unknown[] = []
        for (const row of run) {
          const seq = head.seq + 1
          // seq apart from the row: a copy of each row with it cost about 6,000 instructions.
          const hash = chain(head.hash, seq, row, seq === sealSeq)
          params.push(seq, row.time, row.eventId, row.eventName, row.accountId, row.keyArn ?? null, row.principal, row.outcome, row.event, head.hash, hash)
          head = { seq, hash }
        }
        await tx.run(AUDIT_INSERTS.get(run.length) ?? '', params)
      }
    })
  }

  async queryAudit(filter: AuditFilter): Promise<AuditRow[]> {
    let sql = 'SELECT * FROM audit WHERE seq > ?'
    const params: unknown[] = [filter.afterSeq ?? 0]
    for (const condition of AUDIT_CONDITIONS) {
      const value = condition.value(filter)
      if (value === undefined) continue
      sql += ` AND ${condition.sql}`
      params.push(value)
    }
    return (await this.engine.rows<AuditDbRow>(`${sql} ORDER BY seq LIMIT ?`, [...params, filter.limit])).map(toAudit)
  }

  async scanAudit(scan: AuditScan): Promise<AuditRow[]> {
    let sql = 'SELECT * FROM audit WHERE time <= ?'
    const params: unknown[] = [scan.to ?? Number.MAX_SAFE_INTEGER]
    if (scan.before !== undefined) {
      sql += ' AND (time < ? OR (time = ? AND seq < ?))'
      params.push(scan.before.time, scan.before.time, scan.before.seq)
    }
    if (scan.from !== undefined) {
      sql += ' AND time >= ?'
      params.push(scan.from)
    }
    return (await this.engine.rows<AuditDbRow>(`${sql} ORDER BY time DESC, seq DESC LIMIT ?`, [...params, scan.limit])).map(toAudit)
  }

  pruneAudit(before: number): Promise<number> {
    return this.write(async (tx) => {
      await tx.lock('SELECT seq FROM audit_anchor WHERE id = 1')
      const [last] = await tx.rows<Head>('SELECT seq, hash FROM audit WHERE time < ? ORDER BY seq DESC LIMIT 1', [before])
      if (!last) return 0
      const n = await tx.run('DELETE FROM audit WHERE seq <= ?', [last.seq])
      await tx.run('UPDATE audit_anchor SET seq = ?, hash = ? WHERE id = 1', [last.seq, last.hash])
      return n
    })
  }

  async auditAnchor(): Promise<{ seq: number; hash: string }> {
    const row = await this.one<Head>('SELECT seq, hash FROM audit_anchor WHERE id = 1')
    return row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: '' }
  }

  // Settings and leases

  async getSetting(name: string): Promise<string | undefined> {
    return (await this.one<{ value: string }>('SELECT value FROM settings WHERE name = ?', [name]))?.value
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.write(async (tx) => {
      await tx.run(PUT_SETTING, [name, value])
      tx.log({ kind: 'setting', name })
    })
  }

  async initSetting(name: string, value: string): Promise<string> {
    return this.write(async (tx) => {
      await tx.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, value])
      const [row] = await tx.rows<{ value: string }>('SELECT value FROM settings WHERE name = ?', [name])
      if (row === undefined) throw new Error(`the setting ${name} was not stored`)
      return row.value
    })
  }

  async storeKeyUses(uses: readonly KeyUseRow[]): Promise<void> {
    if (uses.length === 0) return
    await this.write(async (tx) => {
      for (const run of runsOf(uses, KEY_USE_CHUNKS)) {
        const params: unknown[] = []
        for (const u of run) params.push(u.arn, u.time, u.use)
        await tx.run(KEY_USE_UPSERTS.get(run.length) ?? '', params)
      }
    })
  }

  async getKeyUse(arn: string): Promise<KeyUseRow | undefined> {
    const row = await this.one<{ arn: string; time: number | string; detail: string }>('SELECT arn, time, detail FROM key_usage WHERE arn = ?', [arn])
    return row === undefined ? undefined : { arn: row.arn, time: Number(row.time), use: row.detail }
  }

  async acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const taken = await this.write((tx) =>
      tx.rows(
        'INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE leases.owner = excluded.owner OR leases.expires_at <= ? RETURNING owner',
        [name, owner, now + ttlMs, now],
      ),
    )
    return taken.length === 1
  }

  // The change feed

  catchUp(): void {
    this.engine.catchUp()
  }

  deliveryEpoch(): number | undefined {
    return this.engine.deliveryEpoch()
  }

  notify(change: StoreChange): void {
    this.engine.listeners.emit(change)
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.engine.listeners.add(listener)
  }

  close(): Promise<void> {
    return this.engine.close()
  }
}

/** Bumps a key's version and grant count for a grant made (+1) or removed (-1); returns the new version. */
async function bumpKeyVersion(tx: Tx, accountId: string, region: string, keyId: string, grants: 1 | -1): Promise<number> {
  const [row] = await tx.rows<{ version: number }>(`UPDATE keys SET version = version + 1, grant_count = grant_count + ? WHERE ${KEY} RETURNING version`, [
    grants,
    accountId,
    region,
    keyId,
  ])
  return Number(row?.version ?? 0)
}
