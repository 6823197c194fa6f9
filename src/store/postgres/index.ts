// The PostgreSQL engine (pg), for several nodes sharing one database. Every write transaction
// also NOTIFYs `macaw_changes`; one dedicated connection per store LISTENs, so other nodes'
// changes reach the caches without polling.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { StoreUnavailableError, UNKNOWN_CHANGE, type StoreChange } from '../store.js'
import { ChangeListeners, type Row, type SqlEngine, type Tx } from '../sql/engine.js'
import { pendingMigrations, SCHEMA_TABLE, type SchemaWords } from '../sql/migrations.js'
import { SqlStore } from '../sql/store.js'
import { notifyPayloads, parsePayload } from './notify.js'

export { notifyPayloads, parsePayload }

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

const WORDS: SchemaWords = {
  // Bytewise ordering and paging whatever the database's default locale, as in SQLite.
  id: 'TEXT COLLATE "C"',
  int: 'BIGINT',
  blob: 'BYTEA',
  keyed: '',
  serial: 'BIGSERIAL PRIMARY KEY',
}

const CHANNEL = 'macaw_changes'
/** pg_advisory_xact_lock key that serializes migrations across nodes (ASCII "macawmig"). */
const MIGRATION_LOCK = '7881706624017525095'
/** A dead or unreachable database must fail requests quickly, not queue them for minutes. */
const CONNECT_TIMEOUT_MS = 2000
const DEFAULT_STATEMENT_TIMEOUT_MS = 5000
const DEFAULT_POOL_SIZE = 10
const RECONNECT_BASE_MS = 100
const RECONNECT_MAX_MS = 5000
/**
 * How often the LISTEN connection is checked: a half-open TCP connection otherwise looks alive.
 * An answer also proves that every notification committed before it was delivered (PostgreSQL
 * sends pending notifications before it answers), so caches trust their entries only while the
 * last answer is younger than TRUSTED_FOR_MS.
 */
const HEARTBEAT_MS = 1000
const TRUSTED_FOR_MS = 2500

// BIGINT columns hold epoch milliseconds and sequence numbers, all below 2^53: parse them as
// numbers for this store's connections only, leaving pg's global parsers alone.
const types = new pg.TypeOverrides()
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

/** The SQLSTATE of a server error, if it is one. */
function sqlState(err: unknown): string | undefined {
  return err instanceof pg.DatabaseError ? err.code : undefined
}

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

/** `?` placeholders as PostgreSQL's numbered ones ($1, $2...); our SQL has no `?` in literals. */
function numbered(sql: string): string {
  let n = 0
  let out = ''
  for (const ch of sql) out += ch === '?' ? `$${++n}` : ch
  return out
}

const ignore = (): void => {}

class PostgresEngine implements SqlEngine {
  readonly pool: pg.Pool
  readonly listeners = new ChangeListeners()
  private readonly clientConfig: pg.ClientConfig
  private readonly listen: boolean
  /** Marks this store's NOTIFY payloads, so that its LISTEN connection skips its own writes. */
  private readonly origin = randomUUID()
  /** Numbered SQL by `?` text (constant texts only: see ../sql/engine.ts). */
  private readonly texts = new Map<string, string>()
  private listener: pg.Client | undefined
  /** Bumped whenever delivery stops or resumes (ChangeFeed.deliveryEpoch). */
  private epoch = 0
  /** When the LISTEN connection last answered (Date.now()). */
  private lastAnswer = 0
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
    this.pool = new pg.Pool({ ...this.clientConfig, max: options.poolSize ?? DEFAULT_POOL_SIZE, idleTimeoutMillis: 30_000 })
    // An idle connection that dies (server restart, network) is dropped by the pool, which
    // reconnects on the next query; the error itself must not crash the process.
    this.pool.on('error', ignore)
  }

  private text(sql: string): string {
    let text = this.texts.get(sql)
    if (text === undefined) {
      text = numbered(sql)
      this.texts.set(sql, text)
    }
    return text
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
      await tx.run('SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))', [MIGRATION_LOCK])
      await tx.run(SCHEMA_TABLE)
      const [row] = await tx.rows<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')
      for (const m of pendingMigrations(row?.v ?? 0, WORDS)) {
        await tx.run(m.sql)
        await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [m.version, Date.now()])
      }
    })
  }

  async rows<R extends Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      // pg-pool releases the connection with the error, so a broken one is not reused.
      return (await this.pool.query<R>(this.text(sql), [...params])).rows
    } catch (err) {
      throw storeError(err)
    }
  }

  /**
   * Runs `fn` in a transaction on one pooled connection. Its logged changes are NOTIFYed inside
   * the transaction (delivered to other nodes at commit) and told to this store's listeners after
   * commit.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
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
    const query = async <R extends Row>(sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult<R>> => {
      try {
        return await client.query<R>(this.text(sql), [...params])
      } catch (err) {
        if (sqlState(err) === undefined) broken = err instanceof Error ? err : new Error(String(err))
        throw err
      }
    }
    const tx: Tx = {
      rows: async <R extends Row>(sql: string, params?: readonly unknown[]) => (await query<R>(sql, params)).rows,
      run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
      lock: async <R extends Row>(sql: string, params?: readonly unknown[]) => (await query<R>(`${sql} FOR UPDATE`, params)).rows,
      log: (change) => changes.push(change),
    }
    let result: T
    try {
      await query('BEGIN')
      result = await fn(tx)
      for (const payload of notifyPayloads(this.origin, changes)) await query('SELECT pg_notify(?, ?)', [CHANNEL, payload])
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
    for (const change of changes) this.listeners.emit(change)
    return result
  }

  isUniqueViolation(err: unknown): boolean {
    return sqlState(err) === '23505'
  }

  isForeignKeyViolation(err: unknown): boolean {
    return sqlState(err) === '23503'
  }

  /** Changes are pushed by LISTEN/NOTIFY: nothing to look for. */
  catchUp(): void {}

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
    this.epoch++
    this.lastAnswer = Date.now()
  }

  /** Sure while the LISTEN connection is up and answered its last heartbeat lately. */
  deliveryEpoch(): number | undefined {
    return this.listener !== undefined && Date.now() - this.lastAnswer < TRUSTED_FOR_MS ? this.epoch : undefined
  }

  private listenerLost(client: pg.Client): void {
    if (this.listener !== client) return
    this.listener = undefined
    this.epoch++
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
          if (!this.closed) this.listeners.emit(UNKNOWN_CHANGE)
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
    client.query('SELECT 1').then(
      () => {
        if (this.listener === client) this.lastAnswer = Date.now()
      },
      () => this.listenerLost(client),
    )
  }

  private notified(message: pg.Notification): void {
    if (this.closed || message.channel !== CHANNEL || message.payload === undefined) return
    for (const change of parsePayload(this.origin, message.payload)) this.listeners.emit(change)
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

/** The PostgreSQL store: the SQL store, plus a readiness ping. */
export class PostgresStore extends SqlStore<PostgresEngine> {
  constructor(options: PostgresStoreOptions) {
    super(new PostgresEngine(options))
  }

  /** Migrates the schema and, when asked, starts listening for other nodes' changes. */
  start(): Promise<void> {
    return this.engine.start()
  }

  /** Readiness: the database answers. */
  async ping(): Promise<void> {
    await this.engine.rows('SELECT 1')
  }
}

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
