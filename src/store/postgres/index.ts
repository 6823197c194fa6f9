// The PostgreSQL store (pg), for several nodes sharing one database. Every write runs in one
// transaction that also NOTIFYs `macaw_changes`; one dedicated connection per store LISTENs, so
// other nodes' changes reach the caches without polling. Semantics mirror store/sqlite exactly.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
// One idempotency rule for both drivers (CreateGrant with a name).
import {
  StoreConflictError,
  StoreUnavailableError,
  type AccessKeyRecord,
  type AliasRecord,
  type AuditFilter,
  type AuditRow,
  type CreateGrantResult,
  type GrantRecord,
  type KeyRecord,
  type NewAuditRow,
  type Page,
  type Store,
  type StoreChange,
  type UserRecord,
  UNKNOWN_CHANGE,
} from '../store.js'
import { MIGRATIONS } from './migrations/index.js'
import { type KeyRow, type AliasRow, type AccessKeyRow, type UserRow, type GrantRow, type AuditDbRow, docOf, materialExpiry, sameGrant, toAccessKey, toAlias, toAudit, toGrant, toKey, toUser, grantPage, keyPosition, keyPositionParts, page, seqAfter } from '../rows.js'

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string
  /** LISTEN for other nodes' changes (servers); admin commands pass false. */
  readonly listen: boolean
  /** Server-side limit for one statement, lock waits included. Default 5000 ms. */
  readonly statementTimeoutMs?: number
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number
}

const CHANNEL = 'macaw_changes'
/** pg_advisory_xact_lock key that serializes migrations across nodes (ASCII "macawmig"). */
const MIGRATION_LOCK = '7881706624017525095'
/** A dead or unreachable database must fail requests quickly, not queue them for minutes. */
const CONNECT_TIMEOUT_MS = 2000
const DEFAULT_STATEMENT_TIMEOUT_MS = 5000
const DEFAULT_POOL_SIZE = 10
/** NOTIFY payloads must stay under 8000 bytes; keep a margin. */
const MAX_PAYLOAD_BYTES = 7900
const RECONNECT_BASE_MS = 100
const RECONNECT_MAX_MS = 5000
/** How often the LISTEN connection is checked: a half-open TCP connection otherwise looks alive. */
const HEARTBEAT_MS = 10_000
/** Rows per INSERT when appending audit records (11 parameters each, under PG's 65535). */
const AUDIT_BATCH = 500


// BIGINT columns hold epoch milliseconds and sequence numbers, all below 2^53: parse them as
// numbers for this store's connections only, leaving pg's global parsers alone.
const types = new pg.TypeOverrides()
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

type Head = { seq: number; hash: string }

/** The SQLSTATE of a server error, if it is one. */
function sqlState(err: unknown): string | undefined {
  return err instanceof pg.DatabaseError ? err.code : undefined
}
const isUniqueViolation = (err: unknown): boolean => sqlState(err) === '23505'
const isForeignKeyViolation = (err: unknown): boolean => sqlState(err) === '23503'

/**
 * Server errors that mean "the database cannot serve right now", not "this request is wrong":
 * 57014 query_canceled (our statement_timeout), 57P01..57P03 admin/crash shutdown and
 * cannot_connect_now (starting up), 53300 too_many_connections (refused at connect).
 * Class 08 (connection exceptions) is matched by prefix.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '53300'])
/** Socket errors from node:net while connecting or talking to the server. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
])
/**
 * pg and pg-pool report a lost connection and their own timeouts as plain Errors, recognizable
 * only by message (pg 8: client.js, pg-pool 3: index.js).
 */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error)/

/** Whether `err` says the database is unreachable or did not answer in time. */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (depth > 4 || typeof err !== 'object' || err === null) return false
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? ''
    return UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')
  }
  const { code, message, cause, errors } = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown }
  if (typeof code === 'string' && UNAVAILABLE_SOCKET_CODES.has(code)) return true
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true
  // Node's happy-eyeballs connect reports an AggregateError; pg-pool wraps its connect timeout.
  if (Array.isArray(errors) && errors.some((e: unknown) => isUnavailable(e, depth + 1))) return true
  return isUnavailable(cause, depth + 1)
}

/**
 * The error a store call rejects with: StoreUnavailableError (the service answers
 * DependencyTimeoutException, which SDKs retry) when the database is out of reach, the original
 * error otherwise (unique violations and the like are handled by the callers).
 */
function storeError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || !isUnavailable(err)) return err
  const detail = err instanceof Error ? err.message : String(err)
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${detail}`, { cause: err })
}

/** One statement runner inside a transaction, and the change log of that transaction. */
interface Tx {
  rows<R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<R[]>
  /** Number of rows the statement touched. */
  run(sql: string, params?: readonly unknown[]): Promise<number>
  log(change: StoreChange): void
}

const ignore = (): void => {}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options)
  try {
    await store.start()
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}

export class PostgresStore implements Store {
  private readonly pool: pg.Pool
  private readonly clientConfig: pg.ClientConfig
  private readonly listen: boolean
  /** Marks this store's NOTIFY payloads, so that its LISTEN connection skips its own writes. */
  private readonly origin = randomUUID()
  private readonly listeners = new Set<(change: StoreChange) => void>()
  private listener: pg.Client | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private closing: Promise<void> | undefined

  constructor(options: PostgresStoreOptions) {
    const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS
    this.listen = options.listen
    this.clientConfig = {
      connectionString: options.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: statementTimeoutMs,
      // Client side too: statement_timeout cannot fire when the server or network is gone.
      query_timeout: statementTimeoutMs + 1000,
      // A node that dies mid-transaction must not hold row locks (or the audit head) for long.
      idle_in_transaction_session_timeout: Math.max(30_000, statementTimeoutMs * 2),
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'macaw',
      types,
    }
    this.pool = new pg.Pool({
      ...this.clientConfig,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      idleTimeoutMillis: 30_000,
    })
    // An idle connection that dies (server restart, network) is dropped by the pool, which
    // reconnects on the next query; the error itself must not crash the process.
    this.pool.on('error', ignore)
  }

  /** Migrates the schema and, when asked, starts listening for other nodes' changes. */
  async start(): Promise<void> {
    await this.migrate()
    if (this.listen) {
      await this.connectListener()
      this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS)
      this.heartbeatTimer.unref()
    }
  }

  private get closed(): boolean {
    return this.closing !== undefined
  }

  /**
   * Applies the migrations this database lacks, in one transaction holding an advisory lock, so
   * that nodes starting together take turns and the later ones find nothing left to do.
   */
  private async migrate(): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK])
      await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
      const [row] = await tx.rows<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')
      const current = row?.v ?? 0
      const known = MIGRATIONS.at(-1)?.version ?? 0
      if (current > known) {
        throw new Error(`the database is at schema version ${current}, newer than this macaw knows (${known}); upgrade macaw`)
      }
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue
        await tx.run(m.sql)
        await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [m.version, Date.now()])
      }
    })
  }

  /**
   * Runs `fn` in a transaction on one pooled connection. Its logged changes are NOTIFYed inside
   * the transaction (delivered to other nodes at commit) and told to this store's listeners after
   * commit.
   */
  private async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.runTransaction(fn)
    } catch (err) {
      throw storeError(err)
    }
  }

  private async runTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    // While checked out, the pool does not watch the connection: a server that goes away between
    // two statements would otherwise raise an unhandled 'error' event.
    client.on('error', ignore)
    const changes: StoreChange[] = []
    // Set when the connection itself failed (lost, or a client-side timeout): its state is then
    // unknown, so it is closed instead of rolled back and reused; the server rolls back.
    let broken: Error | undefined
    const query = async <R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult<R>> => {
      try {
        return await client.query<R>(sql, [...params])
      } catch (err) {
        if (sqlState(err) === undefined) broken = err instanceof Error ? err : new Error(String(err))
        throw err
      }
    }
    const tx: Tx = {
      rows: async <R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]) => (await query<R>(sql, params)).rows,
      run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
      log: (change) => changes.push(change),
    }
    let result: T
    try {
      await query('BEGIN')
      result = await fn(tx)
      for (const payload of notifyPayloads(this.origin, changes)) {
        await query('SELECT pg_notify($1, $2)', [CHANNEL, payload])
      }
      await query('COMMIT')
    } catch (err) {
      // A server error or our own (StoreConflictError): the connection is fine, roll back.
      if (!broken) {
        await query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken ??= rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr))
        })
      }
      throw err
    } finally {
      client.off('error', ignore)
      client.release(broken ?? false)
    }
    for (const change of changes) this.emit(change)
    return result
  }

  private async rows<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[]): Promise<R[]> {
    try {
      // pg-pool releases the connection with the error, so a broken one is not reused.
      return (await this.pool.query<R>(sql, [...params])).rows
    } catch (err) {
      throw storeError(err)
    }
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

  /** Opens the LISTEN connection; it replaces itself with backoff whenever it is lost. */
  private async connectListener(): Promise<void> {
    const client = new pg.Client(this.clientConfig)
    client.on('error', () => this.listenerLost(client))
    client.on('end', () => this.listenerLost(client))
    client.on('notification', (message) => this.notified(message))
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANNEL}`)
    } catch (err) {
      await client.end().catch(ignore)
      throw err
    }
    if (this.closed) {
      await client.end().catch(ignore)
      return
    }
    this.listener = client
  }

  private listenerLost(client: pg.Client): void {
    if (this.listener !== client) return
    this.listener = undefined
    client.end().catch(ignore)
    // Caches are not told yet: they re-read every entry after their TTL anyway, and are told to
    // drop everything once the connection is back (changes made meanwhile were not pushed).
    if (!this.closed) this.reconnectListener(0)
  }

  private reconnectListener(attempt: number): void {
    // Exponential backoff with jitter, so that nodes do not reconnect in lockstep.
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (this.closed) return
      this.connectListener().then(
        () => {
          // Whatever changed while nobody listened is unknown: caches must drop everything.
          if (!this.closed) this.emit(UNKNOWN_CHANGE)
        },
        () => {
          if (!this.closed) this.reconnectListener(attempt + 1)
        },
      )
    }, delay)
    this.reconnectTimer.unref()
  }

  private heartbeat(): void {
    const client = this.listener
    if (!client) return
    // query_timeout fails this on a half-open connection; then the connection is replaced.
    client.query('SELECT 1').catch(() => this.listenerLost(client))
  }

  private notified(message: pg.Notification): void {
    if (this.closed || message.channel !== CHANNEL || message.payload === undefined) return
    for (const change of parsePayload(this.origin, message.payload)) this.emit(change)
  }

  /** Readiness: the database answers. */
  async ping(): Promise<void> {
    await this.rows('SELECT 1', [])
  }

  async getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined> {
    const [row] = await this.rows<KeyRow>('SELECT * FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3', [accountId, region, keyId])
    return row && toKey(row)
  }

  async listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const rows = await this.rows<KeyRow>(
      'SELECT * FROM keys WHERE account_id = $1 AND region = $2 AND key_id > $3 ORDER BY key_id LIMIT $4',
      [accountId, region, after ?? '', limit + 1],
    )
    return page(rows.map(toKey), limit, (k) => k.keyId)
  }

  async countKeys(scope?: { readonly accountId: string; readonly region: string }): Promise<number> {
    const [row] =
      scope === undefined
        ? await this.rows<{ n: number }>('SELECT count(*) AS n FROM keys', [])
        : await this.rows<{ n: number }>('SELECT count(*) AS n FROM keys WHERE account_id = $1 AND region = $2', [scope.accountId, scope.region])
    return Number(row?.n ?? 0)
  }

  async insertKey(key: Omit<KeyRecord, 'version'>): Promise<KeyRecord> {
    try {
      await this.transaction(async (tx) => {
        await tx.run(
          'INSERT INTO keys (account_id, region, key_id, state, deletion_date, creation_date, version, doc, material, valid_to) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9)',
          [key.accountId, key.region, key.keyId, key.state, key.deletionDate ?? null, key.creationDate, docOf(key), key.material ?? null, materialExpiry(key)],
        )
        tx.log({ kind: 'key', accountId: key.accountId, region: key.region, keyId: key.keyId })
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`key ${key.keyId} exists`)
      throw err
    }
    return { ...key, version: 1 }
  }

  async updateKey(key: KeyRecord): Promise<KeyRecord> {
    await this.transaction(async (tx) => {
      // Under READ COMMITTED a concurrent writer's UPDATE waits for ours, then re-checks the
      // version against the committed row and matches nothing: exactly one of them wins.
      const n = await tx.run(
        'UPDATE keys SET state = $1, deletion_date = $2, creation_date = $3, version = version + 1, doc = $4, material = $5, valid_to = $6 WHERE account_id = $7 AND region = $8 AND key_id = $9 AND version = $10',
        [key.state, key.deletionDate ?? null, key.creationDate, docOf(key), key.material ?? null, materialExpiry(key), key.accountId, key.region, key.keyId, key.version],
      )
      if (n !== 1) throw new StoreConflictError(`key ${key.keyId} changed or is gone`)
      tx.log({ kind: 'key', accountId: key.accountId, region: key.region, keyId: key.keyId })
    })
    return { ...key, version: key.version + 1 }
  }

  deleteKey(accountId: string, region: string, keyId: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      // Lock the key first: no alias or grant can then be attached to it until we commit, and
      // the lock order (key, then its aliases and grants) matches every other write.
      const locked = await tx.rows('SELECT 1 FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3 FOR UPDATE', [accountId, region, keyId])
      if (locked.length === 0) return false
      // Aliases would go with the key anyway (ON DELETE CASCADE); deleting them here names them for the caches.
      const aliases = await tx.rows<{ alias_name: string }>(
        'DELETE FROM aliases WHERE account_id = $1 AND region = $2 AND key_id = $3 RETURNING alias_name',
        [accountId, region, keyId],
      )
      await tx.run('DELETE FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3', [accountId, region, keyId])
      tx.log({ kind: 'key', accountId, region, keyId })
      for (const name of aliases.map((a) => a.alias_name).sort()) tx.log({ kind: 'alias', accountId, region, aliasName: name })
      return true
    })
  }

  async listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = await this.rows<KeyRow>(
      "SELECT * FROM keys WHERE state = 'PendingDeletion' AND deletion_date IS NOT NULL AND deletion_date <= $1 ORDER BY deletion_date LIMIT $2",
      [now, limit],
    )
    return rows.map(toKey)
  }

  async listKeysWithExpiredMaterial(now: number, limit: number): Promise<KeyRecord[]> {
    const rows = await this.rows<KeyRow>('SELECT * FROM keys WHERE valid_to IS NOT NULL AND valid_to <= $1 ORDER BY valid_to LIMIT $2', [now, limit])
    return rows.map(toKey)
  }

  async listRelatedKeys(accountId: string, keyId: string): Promise<KeyRecord[]> {
    const rows = await this.rows<KeyRow>('SELECT * FROM keys WHERE account_id = $1 AND key_id = $2 ORDER BY region', [accountId, keyId])
    return rows.map(toKey)
  }

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const [row] = await this.rows<AliasRow>('SELECT * FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName])
    return row && toAlias(row)
  }

  async listAliases(accountId: string, region: string, filter: { keyId?: string; after?: string; limit: number }): Promise<Page<AliasRecord>> {
    const after = filter.after ?? ''
    const rows =
      filter.keyId === undefined
        ? await this.rows<AliasRow>(
            'SELECT * FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name > $3 ORDER BY alias_name LIMIT $4',
            [accountId, region, after, filter.limit + 1],
          )
        : await this.rows<AliasRow>(
            'SELECT * FROM aliases WHERE account_id = $1 AND region = $2 AND key_id = $3 AND alias_name > $4 ORDER BY alias_name LIMIT $5',
            [accountId, region, filter.keyId, after, filter.limit + 1],
          )
    return page(rows.map(toAlias), filter.limit, (a) => a.aliasName)
  }

  async countAliasesForKey(accountId: string, region: string, keyId: string): Promise<number> {
    const [row] = await this.rows<{ n: number }>(
      'SELECT count(*) AS n FROM aliases WHERE account_id = $1 AND region = $2 AND key_id = $3',
      [accountId, region, keyId],
    )
    return row?.n ?? 0
  }

  async insertAlias(alias: AliasRecord): Promise<void> {
    try {
      await this.transaction(async (tx) => {
        await tx.run(
          'INSERT INTO aliases (account_id, region, alias_name, key_id, creation_date, last_updated_date) VALUES ($1, $2, $3, $4, $5, $6)',
          [alias.accountId, alias.region, alias.aliasName, alias.keyId, alias.creationDate, alias.lastUpdatedDate],
        )
        tx.log({ kind: 'alias', accountId: alias.accountId, region: alias.region, aliasName: alias.aliasName })
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`alias ${alias.aliasName} exists`)
      if (isForeignKeyViolation(err)) throw new StoreConflictError(`key ${alias.keyId} is gone`)
      throw err
    }
  }

  updateAlias(alias: AliasRecord): Promise<boolean> {
    return this.transaction(async (tx) => {
      const n = await tx.run(
        'UPDATE aliases SET key_id = $1, last_updated_date = $2 WHERE account_id = $3 AND region = $4 AND alias_name = $5',
        [alias.keyId, alias.lastUpdatedDate, alias.accountId, alias.region, alias.aliasName],
      )
      if (n === 1) tx.log({ kind: 'alias', accountId: alias.accountId, region: alias.region, aliasName: alias.aliasName })
      return n === 1
    })
  }

  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const n = await tx.run('DELETE FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName])
      if (n === 1) tx.log({ kind: 'alias', accountId, region, aliasName })
      return n === 1
    })
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const [row] = await this.rows<AccessKeyRow>('SELECT * FROM access_keys WHERE access_key_id = $1', [accessKeyId])
    return row && toAccessKey(row)
  }

  async listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    const rows = await this.rows<AccessKeyRow>('SELECT * FROM access_keys WHERE account_id = $1 ORDER BY access_key_id', [accountId])
    return rows.map(toAccessKey)
  }

  async insertAccessKey(record: AccessKeyRecord): Promise<void> {
    try {
      await this.transaction(async (tx) => {
        await tx.run(
          'INSERT INTO access_keys (access_key_id, account_id, user_name, secret, status, create_date) VALUES ($1, $2, $3, $4, $5, $6)',
          [record.accessKeyId, record.accountId, record.userName ?? null, record.secret, record.status, record.createDate],
        )
        tx.log({ kind: 'accessKey', accessKeyId: record.accessKeyId })
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`access key ${record.accessKeyId} exists`)
      throw err
    }
  }

  async scanKeys(after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    const [a, r, k] = keyPositionParts(after)
    const rows = await this.rows<KeyRow>(
      'SELECT * FROM keys WHERE (account_id, region, key_id) > ($1, $2, $3) ORDER BY account_id, region, key_id LIMIT $4',
      [a, r, k, limit + 1],
    )
    return page(rows.map(toKey), limit, keyPosition)
  }

  async listAllAccessKeys(): Promise<AccessKeyRecord[]> {
    return (await this.rows<AccessKeyRow>('SELECT * FROM access_keys ORDER BY access_key_id', [])).map(toAccessKey)
  }

  replaceAccessKeySecret(accessKeyId: string, expected: Buffer, secret: Buffer): Promise<boolean> {
    return this.transaction(async (tx) => {
      const n = await tx.run('UPDATE access_keys SET secret = $1 WHERE access_key_id = $2 AND secret = $3', [secret, accessKeyId, expected])
      if (n === 1) tx.log({ kind: 'accessKey', accessKeyId })
      return n === 1
    })
  }

  async acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const rows = await this.rows<{ owner: string }>(
      'INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE leases.owner = excluded.owner OR leases.expires_at <= $4 RETURNING owner',
      [name, owner, now + ttlMs, now],
    )
    return rows.length === 1
  }

  async getSetting(name: string): Promise<string | undefined> {
    const [row] = await this.rows<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name])
    return row?.value
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.run('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value])
    })
  }

  deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const n = await tx.run('DELETE FROM access_keys WHERE access_key_id = $1', [accessKeyId])
      if (n === 1) tx.log({ kind: 'accessKey', accessKeyId })
      return n === 1
    })
  }

  async getUser(accountId: string, userName: string): Promise<UserRecord | undefined> {
    const [row] = await this.rows<UserRow>('SELECT * FROM users WHERE account_id = $1 AND user_name = $2', [accountId, userName])
    return row && toUser(row)
  }

  async listUsers(accountId: string | undefined): Promise<UserRecord[]> {
    const rows =
      accountId === undefined
        ? await this.rows<UserRow>('SELECT * FROM users ORDER BY account_id, user_name', [])
        : await this.rows<UserRow>('SELECT * FROM users WHERE account_id = $1 ORDER BY user_name', [accountId])
    return rows.map(toUser)
  }

  async insertUser(user: UserRecord): Promise<void> {
    try {
      await this.transaction(async (tx) => {
        await tx.run('INSERT INTO users (account_id, user_name, policy, create_date) VALUES ($1, $2, $3, $4)', [
          user.accountId,
          user.userName,
          user.policy ?? null,
          user.createDate,
        ])
        tx.log({ kind: 'user', accountId: user.accountId, userName: user.userName })
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`user ${user.userName} exists`)
      throw err
    }
  }

  putUserPolicy(accountId: string, userName: string, policy: string | undefined): Promise<boolean> {
    return this.transaction(async (tx) => {
      const n = await tx.run('UPDATE users SET policy = $1 WHERE account_id = $2 AND user_name = $3', [policy ?? null, accountId, userName])
      if (n === 1) tx.log({ kind: 'user', accountId, userName })
      return n === 1
    })
  }

  deleteUser(accountId: string, userName: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const keys = await tx.rows<{ access_key_id: string }>(
        'DELETE FROM access_keys WHERE account_id = $1 AND user_name = $2 RETURNING access_key_id',
        [accountId, userName],
      )
      for (const id of keys.map((k) => k.access_key_id).sort()) tx.log({ kind: 'accessKey', accessKeyId: id })
      const n = await tx.run('DELETE FROM users WHERE account_id = $1 AND user_name = $2', [accountId, userName])
      if (n === 1) tx.log({ kind: 'user', accountId, userName })
      return n === 1
    })
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const [row] = await this.rows<GrantRow>('SELECT * FROM grants WHERE grant_id = $1', [grantId])
    return row && toGrant(row)
  }

  async grantsOfKey(accountId: string, region: string, keyId: string): Promise<GrantRecord[]> {
    const rows = await this.rows<GrantRow>(
      'SELECT * FROM grants WHERE account_id = $1 AND region = $2 AND key_id = $3 ORDER BY seq',
      [accountId, region, keyId],
    )
    return rows.map(toGrant)
  }

  async listGrants(
    accountId: string,
    region: string,
    keyId: string,
    filter: { grantId?: string; granteePrincipal?: string; after?: string; limit: number },
  ): Promise<Page<GrantRecord>> {
    const rows = await this.rows<GrantRow>(
      'SELECT * FROM grants WHERE account_id = $1 AND region = $2 AND key_id = $3 AND seq > $4 AND ($5::text IS NULL OR grant_id = $5) AND ($6::text IS NULL OR grantee = $6) ORDER BY seq LIMIT $7',
      [accountId, region, keyId, seqAfter(filter.after), filter.grantId ?? null, filter.granteePrincipal ?? null, filter.limit + 1],
    )
    return grantPage(rows, filter.limit)
  }

  async listRetirableGrants(retiringPrincipal: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    const rows = await this.rows<GrantRow>(
      'SELECT * FROM grants WHERE retiring_principal = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [retiringPrincipal, seqAfter(after), limit + 1],
    )
    return grantPage(rows, limit)
  }

  async createGrant(grant: GrantRecord, limit: number): Promise<CreateGrantResult> {
    const { accountId, region, keyId } = grant
    try {
      return await this.transaction(async (tx): Promise<CreateGrantResult> => {
        // Serializes grant creation per key across nodes, so that the name check and the limit
        // count below see every committed grant. A missing key locks nothing: the insert then
        // fails on the foreign key, as in SQLite.
        await tx.run('SELECT 1 FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3 FOR UPDATE', [accountId, region, keyId])
        if (grant.name !== undefined) {
          const named = await tx.rows<GrantRow>(
            'SELECT * FROM grants WHERE account_id = $1 AND region = $2 AND key_id = $3 AND name = $4 ORDER BY seq',
            [accountId, region, keyId, grant.name],
          )
          const same = named.map(toGrant).find((g) => sameGrant(g, grant))
          if (same) return { status: 'existing', grant: same }
        }
        const [count] = await tx.rows<{ n: number }>(
          'SELECT count(*) AS n FROM grants WHERE account_id = $1 AND region = $2 AND key_id = $3',
          [accountId, region, keyId],
        )
        if ((count?.n ?? 0) >= limit) return { status: 'limit' }
        await tx.run(
          'INSERT INTO grants (grant_id, account_id, region, key_id, name, grantee, retiring_principal, operations, issuing_account, creation_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
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
        const version = await bumpKeyVersion(tx, accountId, region, keyId)
        tx.log({ kind: 'grant', accountId, region, keyId, grantId: grant.grantId, version })
        return { status: 'created', grant }
      })
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new StoreConflictError(`key ${keyId} is gone`)
      if (isUniqueViolation(err)) throw new StoreConflictError(`grant ${grant.grantId} exists`)
      throw err
    }
  }

  deleteGrant(grantId: string): Promise<GrantRecord | undefined> {
    return this.transaction(async (tx) => {
      const [found] = await tx.rows<{ account_id: string; region: string; key_id: string }>(
        'SELECT account_id, region, key_id FROM grants WHERE grant_id = $1',
        [grantId],
      )
      if (!found) return undefined
      // Key row first, then the grant: the same lock order as createGrant and deleteKey, so that
      // concurrent writers queue instead of deadlocking.
      await tx.run('SELECT 1 FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3 FOR UPDATE', [found.account_id, found.region, found.key_id])
      const [row] = await tx.rows<GrantRow>('DELETE FROM grants WHERE grant_id = $1 RETURNING *', [grantId])
      if (!row) return undefined
      const version = await bumpKeyVersion(tx, row.account_id, row.region, row.key_id)
      tx.log({ kind: 'grant', accountId: row.account_id, region: row.region, keyId: row.key_id, grantId, version })
      return toGrant(row)
    })
  }

  async appendAudit(rows: readonly NewAuditRow[], chain: (prevHash: string, row: NewAuditRow & { seq: number }) => string): Promise<void> {
    if (rows.length === 0) return
    await this.transaction(async (tx) => {
      // The anchor row is the chain's lock: every node appending (or pruning) queues here, so
      // each one continues from the head the previous one committed.
      const [anchor] = await tx.rows<Head>('SELECT seq, hash FROM audit_anchor WHERE id = 1 FOR UPDATE')
      const [last] = await tx.rows<Head>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1')
      let head: Head = last ?? anchor ?? { seq: 0, hash: '' }
      for (let start = 0; start < rows.length; start += AUDIT_BATCH) {
        const params: unknown[] = []
        const tuples: string[] = []
        for (const row of rows.slice(start, start + AUDIT_BATCH)) {
          const seq = head.seq + 1
          const hash = chain(head.hash, { ...row, seq })
          const base = params.length
          tuples.push(`(${Array.from({ length: 11 }, (_, i) => `$${base + i + 1}`).join(', ')})`)
          params.push(seq, row.time, row.eventId, row.eventName, row.accountId, row.keyArn ?? null, row.principal, row.outcome, row.event, head.hash, hash)
          head = { seq, hash }
        }
        await tx.run(
          `INSERT INTO audit (seq, time, event_id, event_name, account_id, key_arn, principal, outcome, event, prev_hash, hash) VALUES ${tuples.join(', ')}`,
          params,
        )
      }
    })
  }

  async queryAudit(filter: AuditFilter): Promise<AuditRow[]> {
    const rows = await this.rows<AuditDbRow>(
      'SELECT * FROM audit WHERE seq > $1 AND ($2::bigint IS NULL OR time >= $2) AND ($3::bigint IS NULL OR time <= $3) AND ($4::text IS NULL OR key_arn = $4) AND ($5::text IS NULL OR principal = $5) AND ($6::text IS NULL OR event_name = $6) AND ($7::text IS NULL OR outcome = $7) ORDER BY seq LIMIT $8',
      [
        filter.afterSeq ?? 0,
        filter.from ?? null,
        filter.to ?? null,
        filter.keyArn ?? null,
        filter.principal ?? null,
        filter.eventName ?? null,
        filter.outcome ?? null,
        filter.limit,
      ],
    )
    return rows.map(toAudit)
  }

  pruneAudit(before: number): Promise<number> {
    return this.transaction(async (tx) => {
      await tx.run('SELECT 1 FROM audit_anchor WHERE id = 1 FOR UPDATE')
      const [last] = await tx.rows<Head>('SELECT seq, hash FROM audit WHERE time < $1 ORDER BY seq DESC LIMIT 1', [before])
      if (!last) return 0
      const n = await tx.run('DELETE FROM audit WHERE seq <= $1', [last.seq])
      await tx.run('UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1', [last.seq, last.hash])
      return n
    })
  }

  async auditAnchor(): Promise<{ seq: number; hash: string }> {
    const [row] = await this.rows<Head>('SELECT seq, hash FROM audit_anchor WHERE id = 1', [])
    return row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: '' }
  }

  /** Changes are pushed by LISTEN/NOTIFY: nothing to look for. */
  catchUp(): void {}

  notify(change: StoreChange): void {
    this.emit(change)
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  private async shutDown(): Promise<void> {
    this.listeners.clear()
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
    const listener = this.listener
    this.listener = undefined
    await Promise.allSettled([listener?.end(), this.pool.end()])
  }
}


/** Bumps a key's version for a change of its grants; returns the new version. */
async function bumpKeyVersion(tx: Tx, accountId: string, region: string, keyId: string): Promise<number> {
  const [row] = await tx.rows<{ version: string | number }>(
    'UPDATE keys SET version = version + 1 WHERE account_id = $1 AND region = $2 AND key_id = $3 RETURNING version',
    [accountId, region, keyId],
  )
  return Number(row?.version ?? 0)
}

/**
 * NOTIFY payloads for a transaction's changes: `{"o": origin, "c": [changes]}`, split so that each
 * stays under PostgreSQL's 8000-byte limit. A change too big to send on its own (none is, with
 * validated names) becomes "everything changed", which is always safe for a cache.
 */
export function notifyPayloads(origin: string, changes: readonly StoreChange[]): string[] {
  const head = `{"o":${JSON.stringify(origin)},"c":[`
  const room = MAX_PAYLOAD_BYTES - Buffer.byteLength(head) - 2
  const out: string[] = []
  let batch: string[] = []
  let size = 0
  for (const change of changes) {
    let json = JSON.stringify(change)
    if (Buffer.byteLength(json) > room) json = JSON.stringify(UNKNOWN_CHANGE)
    const bytes = Buffer.byteLength(json) + 1
    if (batch.length > 0 && size + bytes > room) {
      out.push(`${head}${batch.join(',')}]}`)
      batch = []
      size = 0
    }
    batch.push(json)
    size += bytes
  }
  if (batch.length > 0) out.push(`${head}${batch.join(',')}]}`)
  return out
}

/** The changes in another store's payload; none for our own; "everything" for one we cannot read. */
export function parsePayload(origin: string, payload: string): StoreChange[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return [UNKNOWN_CHANGE]
  }
  if (typeof parsed !== 'object' || parsed === null) return [UNKNOWN_CHANGE]
  const { o, c } = parsed as { o?: unknown; c?: unknown }
  if (o === origin) return []
  if (!Array.isArray(c)) return [UNKNOWN_CHANGE]
  const changes: StoreChange[] = []
  for (const item of c as unknown[]) {
    const change = toChange(item)
    // Fail safe: a change we do not understand (a newer node?) may concern anything.
    if (change === undefined) return [UNKNOWN_CHANGE]
    changes.push(change)
  }
  return changes
}

function toChange(item: unknown): StoreChange | undefined {
  if (typeof item !== 'object' || item === null) return undefined
  const v = item as Record<string, unknown>
  const str = (name: string): string | undefined => (typeof v[name] === 'string' ? v[name] : undefined)
  const accountId = str('accountId')
  const region = str('region')
  switch (v['kind']) {
    case 'key': {
      const keyId = str('keyId')
      return accountId !== undefined && region !== undefined && keyId !== undefined ? { kind: 'key', accountId, region, keyId } : undefined
    }
    case 'alias': {
      const aliasName = str('aliasName')
      return accountId !== undefined && region !== undefined && aliasName !== undefined ? { kind: 'alias', accountId, region, aliasName } : undefined
    }
    case 'grant': {
      const keyId = str('keyId')
      const grantId = str('grantId')
      const version = v['version']
      return accountId !== undefined && region !== undefined && keyId !== undefined && grantId !== undefined && Number.isSafeInteger(version)
        ? { kind: 'grant', accountId, region, keyId, grantId, version: version as number }
        : undefined
    }
    case 'accessKey': {
      const accessKeyId = str('accessKeyId')
      return accessKeyId !== undefined ? { kind: 'accessKey', accessKeyId } : undefined
    }
    case 'user': {
      const userName = str('userName')
      // An older node's "everything changed" was a user change in account '*'.
      if (accountId === '*') return UNKNOWN_CHANGE
      return accountId !== undefined && userName !== undefined ? { kind: 'user', accountId, userName } : undefined
    }
    case 'unknown':
      return UNKNOWN_CHANGE
    default:
      return undefined
  }
}
