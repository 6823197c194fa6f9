// The embedded SQLite store (better-sqlite3): WAL, synchronous=FULL, so a write that returned
// survives kill -9. Every write also appends to `changes` in the same transaction; other
// connections (admin commands, other workers) are noticed by polling PRAGMA data_version.
import { chmodSync, closeSync, existsSync, openSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import {
  StoreConflictError,
  type AccessKeyRecord,
  type AliasRecord,
  type AuditFilter,
  type AuditRow,
  type NewAuditRow,
  type CreateGrantResult,
  type GrantRecord,
  type KeyRecord,
  type Page,
  type Store,
  type StoreChange,
  type UserRecord,
} from '../store.js'
import { MIGRATIONS } from './migrations/index.js'
import { type KeyRow, type AliasRow, type AccessKeyRow, type UserRow, type GrantRow, type AuditDbRow, docOf, materialExpiry, sameGrant, toAccessKey, toAlias, toAudit, toGrant, toKey, toUser, grantPage, keyPosition, keyPositionParts, page, seqAfter } from '../rows.js'

export interface SqliteStoreOptions {
  readonly path: string
  /** How often to look for changes made by other connections; 0 disables. Default 50 ms. */
  readonly pollIntervalMs?: number
}

interface ChangeRow {
  seq: number
  kind: string
  account_id: string | null
  region: string | null
  id: string
}

const PRUNE_AFTER_MS = 10 * 60_000
const AUDIT_CHUNK = 50
const AUDIT_COLUMNS = 11

function toChange(row: ChangeRow): StoreChange {
  switch (row.kind) {
    case 'user':
      return { kind: 'user', accountId: row.account_id ?? '', userName: row.id }
    case 'key':
      return { kind: 'key', accountId: row.account_id ?? '', region: row.region ?? '', keyId: row.id }
    case 'alias':
      return { kind: 'alias', accountId: row.account_id ?? '', region: row.region ?? '', aliasName: row.id }
    case 'grant': {
      // id is "keyId/grantId/version" (none of them holds a slash).
      const [keyId = '', grantId = '', version = ''] = row.id.split('/')
      return { kind: 'grant', accountId: row.account_id ?? '', region: row.region ?? '', keyId, grantId, version: Number(version) }
    }
    default:
      return { kind: 'accessKey', accessKeyId: row.id }
  }
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options)
}

export class SqliteStore implements Store {
  private readonly db: Database.Database
  private readonly listeners = new Set<(change: StoreChange) => void>()
  private readonly timer: NodeJS.Timeout | undefined
  private lastSeq: number
  private dataVersion: number
  private closed = false
  private writes = 0
  private readonly s

  constructor(options: SqliteStoreOptions) {
    this.db = new Database(options.path)
    try {
      restrictToOwner(options.path)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = FULL')
      this.db.pragma('foreign_keys = ON')
      this.db.pragma('busy_timeout = 5000')
      migrate(this.db)
    } catch (err) {
      this.db.close()
      throw err
    }
    const db = this.db
    this.s = {
      getKey: db.prepare<[string, string, string], KeyRow>('SELECT * FROM keys WHERE account_id = ? AND region = ? AND key_id = ?'),
      listKeys: db.prepare<[string, string, string, number], KeyRow>(
        'SELECT * FROM keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?',
      ),
      countKeys: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM keys'),
      countKeysIn: db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM keys WHERE account_id = ? AND region = ?'),
      insertKey: db.prepare(
        'INSERT INTO keys (account_id, region, key_id, state, deletion_date, creation_date, version, doc, material, valid_to) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)',
      ),
      updateKey: db.prepare(
        'UPDATE keys SET state = ?, deletion_date = ?, creation_date = ?, version = version + 1, doc = ?, material = ?, valid_to = ? WHERE account_id = ? AND region = ? AND key_id = ? AND version = ?',
      ),
      deleteKey: db.prepare('DELETE FROM keys WHERE account_id = ? AND region = ? AND key_id = ?'),
      aliasesOfKey: db.prepare<[string, string, string], { alias_name: string }>(
        'SELECT alias_name FROM aliases WHERE account_id = ? AND region = ? AND key_id = ?',
      ),
      dueKeys: db.prepare<[number, number], KeyRow>(
        "SELECT * FROM keys WHERE state = 'PendingDeletion' AND deletion_date IS NOT NULL AND deletion_date <= ? ORDER BY deletion_date LIMIT ?",
      ),
      expiredMaterial: db.prepare<[number, number], KeyRow>(
        'SELECT * FROM keys WHERE valid_to IS NOT NULL AND valid_to <= ? ORDER BY valid_to LIMIT ?',
      ),
      relatedKeys: db.prepare<[string, string], KeyRow>('SELECT * FROM keys WHERE account_id = ? AND key_id = ? ORDER BY region'),
      getAlias: db.prepare<[string, string, string], AliasRow>('SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?'),
      listAliases: db.prepare<[string, string, string, number], AliasRow>(
        'SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
      ),
      listAliasesOfKey: db.prepare<[string, string, string, string, number], AliasRow>(
        'SELECT * FROM aliases WHERE account_id = ? AND region = ? AND key_id = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
      ),
      countAliases: db.prepare<[string, string, string], { n: number }>(
        'SELECT count(*) AS n FROM aliases WHERE account_id = ? AND region = ? AND key_id = ?',
      ),
      insertAlias: db.prepare(
        'INSERT INTO aliases (account_id, region, alias_name, key_id, creation_date, last_updated_date) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      updateAlias: db.prepare(
        'UPDATE aliases SET key_id = ?, last_updated_date = ? WHERE account_id = ? AND region = ? AND alias_name = ?',
      ),
      deleteAlias: db.prepare('DELETE FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?'),
      getAccessKey: db.prepare<[string], AccessKeyRow>('SELECT * FROM access_keys WHERE access_key_id = ?'),
      allAccessKeys: db.prepare<[], AccessKeyRow>('SELECT * FROM access_keys ORDER BY access_key_id'),
      replaceSecret: db.prepare('UPDATE access_keys SET secret = ? WHERE access_key_id = ? AND secret = ?'),
      scanKeys: db.prepare<[string, string, string, number], KeyRow>(
        'SELECT * FROM keys WHERE (account_id, region, key_id) > (?, ?, ?) ORDER BY account_id, region, key_id LIMIT ?',
      ),
      takeLease: db.prepare(
        'INSERT INTO leases (name, owner, expires_at) VALUES (@name, @owner, @until) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE leases.owner = excluded.owner OR leases.expires_at <= @now',
      ),
      getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?'),
      putSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      listAccessKeys: db.prepare<[string], AccessKeyRow>('SELECT * FROM access_keys WHERE account_id = ? ORDER BY access_key_id'),
      insertAccessKey: db.prepare(
        'INSERT INTO access_keys (access_key_id, account_id, user_name, secret, status, create_date) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteAccessKey: db.prepare('DELETE FROM access_keys WHERE access_key_id = ?'),
      accessKeysOfUser: db.prepare<[string, string], { access_key_id: string }>(
        'SELECT access_key_id FROM access_keys WHERE account_id = ? AND user_name = ?',
      ),
      deleteAccessKeysOfUser: db.prepare('DELETE FROM access_keys WHERE account_id = ? AND user_name = ?'),
      getUser: db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE account_id = ? AND user_name = ?'),
      listUsers: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY account_id, user_name'),
      listUsersOf: db.prepare<[string], UserRow>('SELECT * FROM users WHERE account_id = ? ORDER BY user_name'),
      insertUser: db.prepare('INSERT INTO users (account_id, user_name, policy, create_date) VALUES (?, ?, ?, ?)'),
      putUserPolicy: db.prepare('UPDATE users SET policy = ? WHERE account_id = ? AND user_name = ?'),
      deleteUser: db.prepare('DELETE FROM users WHERE account_id = ? AND user_name = ?'),
      getGrant: db.prepare<[string], GrantRow>('SELECT * FROM grants WHERE grant_id = ?'),
      grantsOfKey: db.prepare<[string, string, string], GrantRow>(
        'SELECT * FROM grants WHERE account_id = ? AND region = ? AND key_id = ? ORDER BY seq',
      ),
      listGrants: db.prepare<
        [{ account: string; region: string; key: string; after: number; grantId: string | null; grantee: string | null; limit: number }],
        GrantRow
      >(
        'SELECT * FROM grants WHERE account_id = @account AND region = @region AND key_id = @key AND seq > @after AND (@grantId IS NULL OR grant_id = @grantId) AND (@grantee IS NULL OR grantee = @grantee) ORDER BY seq LIMIT @limit',
      ),
      listRetirable: db.prepare<[string, number, number], GrantRow>(
        'SELECT * FROM grants WHERE retiring_principal = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      grantsNamed: db.prepare<[string, string, string, string], GrantRow>(
        'SELECT * FROM grants WHERE account_id = ? AND region = ? AND key_id = ? AND name = ? ORDER BY seq',
      ),
      countGrants: db.prepare<[string, string, string], { n: number }>(
        'SELECT count(*) AS n FROM grants WHERE account_id = ? AND region = ? AND key_id = ?',
      ),
      insertGrant: db.prepare(
        'INSERT INTO grants (grant_id, account_id, region, key_id, name, grantee, retiring_principal, operations, issuing_account, creation_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deleteGrant: db.prepare('DELETE FROM grants WHERE grant_id = ?'),
      auditHead: db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1'),
      auditAnchor: db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_anchor WHERE id = 1'),
      insertAudit: db.prepare(
        'INSERT INTO audit (seq, time, event_id, event_name, account_id, key_arn, principal, outcome, event, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertAuditChunk: db.prepare(
        `INSERT INTO audit (seq, time, event_id, event_name, account_id, key_arn, principal, outcome, event, prev_hash, hash) VALUES ${Array.from({ length: AUDIT_CHUNK }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ),
      queryAudit: db.prepare<
        [{ from: number | null; to: number | null; key: string | null; principal: string | null; name: string | null; outcome: string | null; after: number; limit: number }],
        AuditDbRow
      >(
        'SELECT * FROM audit WHERE seq > @after AND (@from IS NULL OR time >= @from) AND (@to IS NULL OR time <= @to) AND (@key IS NULL OR key_arn = @key) AND (@principal IS NULL OR principal = @principal) AND (@name IS NULL OR event_name = @name) AND (@outcome IS NULL OR outcome = @outcome) ORDER BY seq LIMIT @limit',
      ),
      lastBefore: db.prepare<[number], { seq: number; hash: string }>('SELECT seq, hash FROM audit WHERE time < ? ORDER BY seq DESC LIMIT 1'),
      pruneAudit: db.prepare('DELETE FROM audit WHERE seq <= ?'),
      setAnchor: db.prepare('UPDATE audit_anchor SET seq = ?, hash = ? WHERE id = 1'),
      bumpKey: db.prepare<[string, string, string], { version: number }>(
        'UPDATE keys SET version = version + 1 WHERE account_id = ? AND region = ? AND key_id = ? RETURNING version',
      ),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      logChange: db.prepare<[string, string | null, string | null, string, number]>(
        'INSERT INTO changes (kind, account_id, region, id, at) VALUES (?, ?, ?, ?, ?)',
      ),
      changesSince: db.prepare<[number], ChangeRow>('SELECT seq, kind, account_id, region, id FROM changes WHERE seq > ? ORDER BY seq'),
      maxSeq: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM changes'),
      prune: db.prepare('DELETE FROM changes WHERE at < ?'),
    }
    this.lastSeq = this.s.maxSeq.get()?.seq ?? 0
    this.dataVersion = this.currentDataVersion()
    const interval = options.pollIntervalMs ?? 50
    if (interval > 0) {
      this.timer = setInterval(() => this.poll(), interval)
      this.timer.unref()
    }
  }

  private currentDataVersion(): number {
    // A prepared statement: db.pragma() would compile the PRAGMA on every request.
    return this.s.dataVersion.get() as number
  }

  /** Runs `fn` in a write transaction, logs its changes, and tells listeners after commit. */
  private write<T>(fn: (log: (change: StoreChange) => void) => T): T {
    const changes: StoreChange[] = []
    const log = (change: StoreChange): void => {
      changes.push(change)
      const now = Date.now()
      switch (change.kind) {
        case 'key':
          this.s.logChange.run('key', change.accountId, change.region, change.keyId, now)
          break
        case 'alias':
          this.s.logChange.run('alias', change.accountId, change.region, change.aliasName, now)
          break
        case 'grant':
          this.s.logChange.run('grant', change.accountId, change.region, `${change.keyId}/${change.grantId}/${change.version}`, now)
          break
        case 'accessKey':
          this.s.logChange.run('accessKey', null, null, change.accessKeyId, now)
          break
        case 'user':
          this.s.logChange.run('user', change.accountId, null, change.userName, now)
          break
        case 'unknown':
          // Never written: only a change feed that lost track announces it.
          break
      }
    }
    let others: ChangeRow[] = []
    let lastSeq = 0
    const result = this.db.transaction(() => {
      // Holding the write lock, nobody else can commit now: first take the changes other
      // connections committed since we last looked, so that skipping past our own change rows
      // below cannot skip theirs.
      others = this.s.changesSince.all(this.lastSeq)
      const out = fn(log)
      if (++this.writes % 1000 === 0) this.s.prune.run(Date.now() - PRUNE_AFTER_MS)
      // Still under the lock: the last change row is ours (or theirs, already taken above).
      lastSeq = this.s.maxSeq.get()?.seq ?? 0
      return out
    }).immediate()
    // Our own change rows need not be replayed by the poller.
    this.lastSeq = Math.max(this.lastSeq, lastSeq)
    for (const row of others) this.emit(toChange(row))
    for (const change of changes) this.emit(change)
    return result
  }

  private emit(change: StoreChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch {
        // A failing listener must not break the store or the other listeners.
      }
    }
  }

  /** Emits changes committed by other connections since the last look. */
  poll(): void {
    if (this.closed) return
    const version = this.currentDataVersion()
    if (version === this.dataVersion) return
    this.dataVersion = version
    for (const row of this.s.changesSince.all(this.lastSeq)) {
      this.lastSeq = row.seq
      this.emit(toChange(row))
    }
  }

  getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined> {
    const row = this.s.getKey.get(accountId, region, keyId)
    return Promise.resolve(row && toKey(row))
  }

  listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const rows = this.s.listKeys.all(accountId, region, after ?? '', limit + 1)
    return Promise.resolve(page(rows.map(toKey), limit, (k) => k.keyId))
  }

  countKeys(scope?: { readonly accountId: string; readonly region: string }): Promise<number> {
    const row = scope === undefined ? this.s.countKeys.get() : this.s.countKeysIn.get(scope.accountId, scope.region)
    return Promise.resolve(row?.n ?? 0)
  }

  insertKey(key: Omit<KeyRecord, 'version'>): Promise<KeyRecord> {
    return new Promise((resolve) => {
      try {
        this.write((log) => {
          this.s.insertKey.run(
            key.accountId,
            key.region,
            key.keyId,
            key.state,
            key.deletionDate ?? null,
            key.creationDate,
            docOf(key),
            key.material ?? null,
            materialExpiry(key),
          )
          log({ kind: 'key', accountId: key.accountId, region: key.region, keyId: key.keyId })
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`key ${key.keyId} exists`)
        throw err
      }
      resolve({ ...key, version: 1 })
    })
  }

  updateKey(key: KeyRecord): Promise<KeyRecord> {
    return new Promise((resolve) => {
      this.write((log) => {
        const result = this.s.updateKey.run(
          key.state,
          key.deletionDate ?? null,
          key.creationDate,
          docOf(key),
          key.material ?? null,
          materialExpiry(key),
          key.accountId,
          key.region,
          key.keyId,
          key.version,
        )
        if (result.changes !== 1) throw new StoreConflictError(`key ${key.keyId} changed or is gone`)
        log({ kind: 'key', accountId: key.accountId, region: key.region, keyId: key.keyId })
      })
      resolve({ ...key, version: key.version + 1 })
    })
  }

  deleteKey(accountId: string, region: string, keyId: string): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const aliases = this.s.aliasesOfKey.all(accountId, region, keyId)
          // Aliases go with the key (ON DELETE CASCADE); log them for the caches.
          const deleted = this.s.deleteKey.run(accountId, region, keyId).changes === 1
          if (deleted) {
            log({ kind: 'key', accountId, region, keyId })
            for (const a of aliases) log({ kind: 'alias', accountId, region, aliasName: a.alias_name })
          }
          return deleted
        }),
      )
    })
  }

  listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]> {
    return Promise.resolve(this.s.dueKeys.all(now, limit).map(toKey))
  }

  listKeysWithExpiredMaterial(now: number, limit: number): Promise<KeyRecord[]> {
    return Promise.resolve(this.s.expiredMaterial.all(now, limit).map(toKey))
  }

  listRelatedKeys(accountId: string, keyId: string): Promise<KeyRecord[]> {
    return Promise.resolve(this.s.relatedKeys.all(accountId, keyId).map(toKey))
  }

  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const row = this.s.getAlias.get(accountId, region, aliasName)
    return Promise.resolve(row && toAlias(row))
  }

  listAliases(accountId: string, region: string, filter: { keyId?: string; after?: string; limit: number }): Promise<Page<AliasRecord>> {
    const after = filter.after ?? ''
    const rows =
      filter.keyId === undefined
        ? this.s.listAliases.all(accountId, region, after, filter.limit + 1)
        : this.s.listAliasesOfKey.all(accountId, region, filter.keyId, after, filter.limit + 1)
    return Promise.resolve(page(rows.map(toAlias), filter.limit, (a) => a.aliasName))
  }

  countAliasesForKey(accountId: string, region: string, keyId: string): Promise<number> {
    return Promise.resolve(this.s.countAliases.get(accountId, region, keyId)?.n ?? 0)
  }

  insertAlias(alias: AliasRecord): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.write((log) => {
          this.s.insertAlias.run(alias.accountId, alias.region, alias.aliasName, alias.keyId, alias.creationDate, alias.lastUpdatedDate)
          log({ kind: 'alias', accountId: alias.accountId, region: alias.region, aliasName: alias.aliasName })
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`alias ${alias.aliasName} exists`)
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StoreConflictError(`key ${alias.keyId} is gone`)
        throw err
      }
      resolve()
    })
  }

  updateAlias(alias: AliasRecord): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const n = this.s.updateAlias.run(alias.keyId, alias.lastUpdatedDate, alias.accountId, alias.region, alias.aliasName).changes
          if (n === 1) log({ kind: 'alias', accountId: alias.accountId, region: alias.region, aliasName: alias.aliasName })
          return n === 1
        }),
      )
    })
  }

  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const n = this.s.deleteAlias.run(accountId, region, aliasName).changes
          if (n === 1) log({ kind: 'alias', accountId, region, aliasName })
          return n === 1
        }),
      )
    })
  }

  scanKeys(after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const [a, r, k] = keyPositionParts(after)
    const rows = this.s.scanKeys.all(a, r, k, limit + 1)
    return Promise.resolve(page(rows.map(toKey), limit, keyPosition))
  }

  listAllAccessKeys(): Promise<AccessKeyRecord[]> {
    return Promise.resolve(this.s.allAccessKeys.all().map(toAccessKey))
  }

  replaceAccessKeySecret(accessKeyId: string, expected: Buffer, secret: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const n = this.s.replaceSecret.run(secret, accessKeyId, expected).changes
          if (n === 1) log({ kind: 'accessKey', accessKeyId })
          return n === 1
        }),
      )
    })
  }

  acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(this.write(() => this.s.takeLease.run({ name, owner, until: now + ttlMs, now }).changes === 1))
    })
  }

  getSetting(name: string): Promise<string | undefined> {
    return Promise.resolve(this.s.getSetting.get(name)?.value)
  }

  putSetting(name: string, value: string): Promise<void> {
    return new Promise((resolve) => {
      this.write(() => this.s.putSetting.run(name, value))
      resolve()
    })
  }

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const row = this.s.getAccessKey.get(accessKeyId)
    return Promise.resolve(row && toAccessKey(row))
  }

  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    return Promise.resolve(this.s.listAccessKeys.all(accountId).map(toAccessKey))
  }

  insertAccessKey(record: AccessKeyRecord): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.write((log) => {
          this.s.insertAccessKey.run(record.accessKeyId, record.accountId, record.userName ?? null, record.secret, record.status, record.createDate)
          log({ kind: 'accessKey', accessKeyId: record.accessKeyId })
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`access key ${record.accessKeyId} exists`)
        throw err
      }
      resolve()
    })
  }

  deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const n = this.s.deleteAccessKey.run(accessKeyId).changes
          if (n === 1) log({ kind: 'accessKey', accessKeyId })
          return n === 1
        }),
      )
    })
  }

  getUser(accountId: string, userName: string): Promise<UserRecord | undefined> {
    const row = this.s.getUser.get(accountId, userName)
    return Promise.resolve(row && toUser(row))
  }

  listUsers(accountId: string | undefined): Promise<UserRecord[]> {
    const rows = accountId === undefined ? this.s.listUsers.all() : this.s.listUsersOf.all(accountId)
    return Promise.resolve(rows.map(toUser))
  }

  insertUser(user: UserRecord): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.write((log) => {
          this.s.insertUser.run(user.accountId, user.userName, user.policy ?? null, user.createDate)
          log({ kind: 'user', accountId: user.accountId, userName: user.userName })
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`user ${user.userName} exists`)
        throw err
      }
      resolve()
    })
  }

  putUserPolicy(accountId: string, userName: string, policy: string | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const n = this.s.putUserPolicy.run(policy ?? null, accountId, userName).changes
          if (n === 1) log({ kind: 'user', accountId, userName })
          return n === 1
        }),
      )
    })
  }

  deleteUser(accountId: string, userName: string): Promise<boolean> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const keys = this.s.accessKeysOfUser.all(accountId, userName)
          this.s.deleteAccessKeysOfUser.run(accountId, userName)
          for (const k of keys) log({ kind: 'accessKey', accessKeyId: k.access_key_id })
          const n = this.s.deleteUser.run(accountId, userName).changes
          if (n === 1) log({ kind: 'user', accountId, userName })
          return n === 1
        }),
      )
    })
  }

  getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const row = this.s.getGrant.get(grantId)
    return Promise.resolve(row && toGrant(row))
  }

  grantsOfKey(accountId: string, region: string, keyId: string): Promise<GrantRecord[]> {
    return Promise.resolve(this.s.grantsOfKey.all(accountId, region, keyId).map(toGrant))
  }

  listGrants(
    accountId: string,
    region: string,
    keyId: string,
    filter: { grantId?: string; granteePrincipal?: string; after?: string; limit: number },
  ): Promise<Page<GrantRecord>> {
    const rows = this.s.listGrants.all({
      account: accountId,
      region,
      key: keyId,
      after: seqAfter(filter.after),
      grantId: filter.grantId ?? null,
      grantee: filter.granteePrincipal ?? null,
      limit: filter.limit + 1,
    })
    return Promise.resolve(grantPage(rows, filter.limit))
  }

  listRetirableGrants(retiringPrincipal: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const rows = this.s.listRetirable.all(retiringPrincipal, seqAfter(after), limit + 1)
    return Promise.resolve(grantPage(rows, limit))
  }

  createGrant(grant: GrantRecord, limit: number): Promise<CreateGrantResult> {
    return new Promise((resolve) => {
      const { accountId, region, keyId } = grant
      let result: CreateGrantResult
      try {
        result = this.write((log): CreateGrantResult => {
          if (grant.name !== undefined) {
            const same = this.s.grantsNamed.all(accountId, region, keyId, grant.name).map(toGrant).find((g) => sameGrant(g, grant))
            if (same) return { status: 'existing', grant: same }
          }
          if ((this.s.countGrants.get(accountId, region, keyId)?.n ?? 0) >= limit) return { status: 'limit' }
          this.s.insertGrant.run(
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
          )
          const version = this.s.bumpKey.get(accountId, region, keyId)?.version ?? 0
          log({ kind: 'grant', accountId, region, keyId, grantId: grant.grantId, version })
          return { status: 'created', grant }
        })
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StoreConflictError(`key ${keyId} is gone`)
        if (isUniqueViolation(err)) throw new StoreConflictError(`grant ${grant.grantId} exists`)
        throw err
      }
      resolve(result)
    })
  }

  deleteGrant(grantId: string): Promise<GrantRecord | undefined> {
    return new Promise((resolve) => {
      resolve(
        this.write((log) => {
          const row = this.s.getGrant.get(grantId)
          if (!row) return undefined
          this.s.deleteGrant.run(grantId)
          const version = this.s.bumpKey.get(row.account_id, row.region, row.key_id)?.version ?? 0
          log({ kind: 'grant', accountId: row.account_id, region: row.region, keyId: row.key_id, grantId, version })
          return toGrant(row)
        }),
      )
    })
  }

  appendAudit(rows: readonly NewAuditRow[], chain: (prevHash: string, row: NewAuditRow & { seq: number }) => string): Promise<void> {
    if (rows.length === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.write(() => {
        let head = this.s.auditHead.get() ?? this.s.auditAnchor.get() ?? { seq: 0, hash: '' }
        // Rows go in AUDIT_CHUNK at a time: one statement per chunk costs a third less than one per row.
        let pending: unknown[] = []
        for (const row of rows) {
          const seq = head.seq + 1
          const hash = chain(head.hash, { ...row, seq })
          pending.push(seq, row.time, row.eventId, row.eventName, row.accountId, row.keyArn ?? null, row.principal, row.outcome, row.event, head.hash, hash)
          head = { seq, hash }
          if (pending.length === AUDIT_CHUNK * AUDIT_COLUMNS) {
            this.s.insertAuditChunk.run(...pending)
            pending = []
          }
        }
        for (let i = 0; i < pending.length; i += AUDIT_COLUMNS) this.s.insertAudit.run(...pending.slice(i, i + AUDIT_COLUMNS))
      })
      resolve()
    })
  }

  queryAudit(filter: AuditFilter): Promise<AuditRow[]> {
    const rows = this.s.queryAudit.all({
      from: filter.from ?? null,
      to: filter.to ?? null,
      key: filter.keyArn ?? null,
      principal: filter.principal ?? null,
      name: filter.eventName ?? null,
      outcome: filter.outcome ?? null,
      after: filter.afterSeq ?? 0,
      limit: filter.limit,
    })
    return Promise.resolve(rows.map(toAudit))
  }

  pruneAudit(before: number): Promise<number> {
    return new Promise((resolve) => {
      resolve(
        this.write(() => {
          const last = this.s.lastBefore.get(before)
          if (!last) return 0
          const n = this.s.pruneAudit.run(last.seq).changes
          this.s.setAnchor.run(last.seq, last.hash)
          return n
        }),
      )
    })
  }

  auditAnchor(): Promise<{ seq: number; hash: string }> {
    return Promise.resolve(this.s.auditAnchor.get() ?? { seq: 0, hash: '' })
  }

  /**
   * Looks for other connections' commits (another worker's) before every request: one PRAGMA,
   * about 2 to 4 microseconds, buys the guarantee that a change acknowledged by any worker before
   * a request arrived holds for that request. (Once per millisecond let 16 of 200 requests after a
   * RevokeGrant on another worker still succeed.)
   */
  catchUp(): void {
    this.poll()
  }

  notify(change: StoreChange): void {
    this.emit(change)
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * A consistent online copy of the whole database (SQLite's backup API: readers and writers go on
   * meanwhile). Secrets stay sealed under the root of trust, which is not part of the copy. `file`
   * must not exist: it is created 0600 before a byte is written.
   */
  async backupTo(file: string): Promise<void> {
    closeSync(openSync(file, 'wx', 0o600))
    try {
      await this.db.backup(file)
    } catch (err) {
      rmSync(file, { force: true })
      throw err
    }
    chmodSync(file, 0o600)
  }

  /** SQLite's own consistency check: 'ok' when the file is sound. */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      if (this.timer) clearInterval(this.timer)
      this.listeners.clear()
      this.db.close()
    }
    return Promise.resolve()
  }
}

/** The database holds only wrapped secrets, but it is still nobody else's business: 0600. */
function restrictToOwner(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600)
  }
}


function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const current = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
  const known = MIGRATIONS.at(-1)?.version ?? 0
  if (current > known) {
    throw new Error(`the database is at schema version ${current}, newer than this macaw knows (${known}); upgrade macaw`)
  }
  const apply = db.transaction(() => {
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now())
    }
  })
  apply.immediate()
}
