// The embedded SQLite engine (better-sqlite3): WAL, synchronous=FULL, so a write that returned
// survives kill -9. Every write transaction also appends its changes to `changes`; other
// connections (admin commands, other workers) notice them by polling PRAGMA data_version, and,
// before each request, by reading the change stamp beside the database (catchUp()).
//
// Two connections: write transactions run one after another on one, and every read outside them
// runs on the other, which sees only committed rows (WAL). So a read never waits for a write
// queued behind others, and never sees a transaction that is still open.
import { chmodSync, closeSync, existsSync, linkSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { threadId } from 'node:worker_threads'
import Database from 'better-sqlite3'
import type { StoreChange } from '../store.js'
import { ChangeListeners, type Row, type SqlEngine, type Tx } from '../sql/engine.js'
import { pendingMigrations, SCHEMA_TABLE, type SchemaWords } from '../sql/migrations.js'
import { SqlStore } from '../sql/store.js'

export interface SqliteStoreOptions {
  readonly path: string
  /** How often to look for changes made by other connections; 0 disables. Default 50 ms. */
  readonly pollIntervalMs?: number
}

export const SQLITE_WORDS: SchemaWords = {
  id: 'TEXT',
  int: 'INTEGER',
  blob: 'BLOB',
  keyed: ' WITHOUT ROWID',
  serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  own: {
    // The change log other connections poll; rows older than PRUNE_AFTER_MS are pruned.
    1: `
CREATE TABLE changes (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL,
  account_id TEXT,
  region     TEXT,
  id         TEXT NOT NULL,
  at         INTEGER NOT NULL
);
`,
  },
}

interface ChangeRow {
  seq: number
  kind: string
  account_id: string | null
  region: string | null
  id: string
}

const PRUNE_AFTER_MS = 10 * 60_000

/**
 * The change stamp: a file beside the database (`macaw.db-changed`) holding, in its first 8 bytes,
 * the last `changes` seq a connection committed. Each transaction that logs changes writes its own
 * last seq there after COMMIT and before it resolves; catchUp() reads those 8 bytes (one pread)
 * and asks SQLite only when they differ from what it saw last. Every seq is written once (seqs are
 * never reused), so a stamp seen before cannot come back: a change acknowledged anywhere before a
 * request arrived changed the stamp from that request's point of view. The PRAGMA it replaces
 * took a read lock on the WAL index (two fcntl system calls) on every request, about 5 % of a
 * GenerateMac's CPU (docs/performance.md), and after every audit batch also ran the change query
 * for nothing. The periodic poll still asks PRAGMA data_version, so a stamp that could not be
 * written delays a change by one poll interval at most.
 */
const STAMP_BYTES = 8
const LOG_CHANGE = 'INSERT INTO changes (kind, account_id, region, id, at) VALUES (?, ?, ?, ?, ?)'
const CHANGES_SINCE = 'SELECT seq, kind, account_id, region, id FROM changes WHERE seq > ? ORDER BY seq'
const LAST_CHANGE = 'SELECT max(seq) AS seq FROM changes'

/** A change as a `changes` row: kind, account, region, id. */
function changeRow(change: StoreChange): [string, string | null, string | null, string] | undefined {
  switch (change.kind) {
    case 'key':
      return ['key', change.accountId, change.region, change.keyId]
    case 'alias':
      return ['alias', change.accountId, change.region, change.aliasName]
    case 'grant':
      return ['grant', change.accountId, change.region, `${change.keyId}/${change.grantId}/${change.version}`]
    case 'accessKey':
      return ['accessKey', null, null, change.accessKeyId]
    case 'user':
      return ['user', change.accountId, null, change.userName]
    case 'role':
      return ['role', change.accountId, null, change.roleName]
    case 'setting':
      return ['setting', null, null, change.name]
    case 'unknown':
      // Never written: only a change feed that lost track announces it.
      return undefined
  }
}

function toChange(row: ChangeRow): StoreChange {
  switch (row.kind) {
    case 'user':
      return { kind: 'user', accountId: row.account_id ?? '', userName: row.id }
    case 'role':
      return { kind: 'role', accountId: row.account_id ?? '', roleName: row.id }
    case 'setting':
      return { kind: 'setting', name: row.id }
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

class SqliteEngine implements SqlEngine {
  /** The write connection (transactions, migrations, the change log, backups). */
  readonly db: Database.Database
  /** The read connection: committed rows only. */
  private readonly reader: Database.Database
  readonly listeners = new ChangeListeners()
  /** Prepared statements by SQL text, per connection (constant texts only: see ../sql/engine.ts). */
  private readonly statements = new Map<string, Database.Statement>()
  private readonly reads = new Map<string, Database.Statement>()
  private readonly timer: NodeJS.Timeout | undefined
  /** Write transactions run one after another on this connection. */
  private queue: Promise<unknown> = Promise.resolve()
  private lastSeq: number
  private dataVersion: number
  /** The change stamp file (STAMP_BYTES), and the value catchUp() last acted on. */
  private readonly stampFd: number
  private readonly stamp = Buffer.alloc(STAMP_BYTES)
  private seenStamp: number
  private closed = false
  private writes = 0

  constructor(options: SqliteStoreOptions) {
    this.db = new Database(options.path)
    try {
      restrictToOwner(options.path)
      // First: every statement below may meet another connection's lock (a server's audit writer
      // thread opens its connection while the server starts; admin commands run beside servers).
      this.db.pragma('busy_timeout = 5000')
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = FULL')
      this.db.pragma('foreign_keys = ON')
      this.migrate()
      this.stampFd = openStamp(options.path)
    } catch (err) {
      this.db.close()
      throw err
    }
    this.reader = new Database(options.path)
    this.reader.pragma('busy_timeout = 5000')
    this.reader.pragma('query_only = ON')
    // Read before the change log: a commit in between is then both in lastSeq and a new stamp.
    this.seenStamp = this.readStamp()
    this.lastSeq = this.lastChange()
    this.dataVersion = this.currentDataVersion()
    const interval = options.pollIntervalMs ?? 50
    if (interval > 0) {
      this.timer = setInterval(() => this.poll(), interval)
      this.timer.unref()
    }
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private all<R>(sql: string, params: readonly unknown[]): R[] {
    return this.statement(sql).all(...params) as R[]
  }

  private lastChange(): number {
    return this.all<{ seq: number | null }>(LAST_CHANGE, [])[0]?.seq ?? 0
  }

  private currentDataVersion(): number {
    // A prepared statement: db.pragma() would compile the PRAGMA on every request.
    return this.statement('PRAGMA data_version').pluck().get() as number
  }

  rows<R extends Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    let statement = this.reads.get(sql)
    if (statement === undefined) {
      statement = this.reader.prepare(sql)
      this.reads.set(sql, statement)
    }
    try {
      return Promise.resolve(statement.all(...params) as R[])
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const run = (): Promise<T> => this.runTransaction(fn)
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => undefined)
    return result
  }

  private async runTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const changes: StoreChange[] = []
    const tx: Tx = {
      rows: <R extends Row>(sql: string, params: readonly unknown[] = []) => Promise.resolve(this.all<R>(sql, params)),
      run: (sql, params = []) => Promise.resolve(this.statement(sql).run(...params).changes),
      lock: <R extends Row>(sql: string, params: readonly unknown[] = []) => Promise.resolve(this.all<R>(sql, params)),
      log: (change) => changes.push(change),
    }
    this.statement('BEGIN IMMEDIATE').run()
    let others: ChangeRow[]
    let result: T
    try {
      // Holding the write lock, nobody else can commit now: first take the changes other
      // connections committed since we last looked, so that skipping past our own change rows
      // below cannot skip theirs.
      others = this.all<ChangeRow>(CHANGES_SINCE, [this.lastSeq])
      result = await fn(tx)
      const now = Date.now()
      for (const change of changes) {
        const row = changeRow(change)
        if (row) this.statement(LOG_CHANGE).run(...row, now)
      }
      if (++this.writes % 1000 === 0) this.statement('DELETE FROM changes WHERE at < ?').run(now - PRUNE_AFTER_MS)
      // Still under the lock: the last change row is ours (or theirs, already taken above).
      this.lastSeq = Math.max(this.lastSeq, this.lastChange())
      this.statement('COMMIT').run()
    } catch (err) {
      if (this.db.inTransaction) this.statement('ROLLBACK').run()
      throw err
    }
    if (changes.length > 0) this.writeStamp(this.lastSeq)
    for (const row of others) this.listeners.emit(toChange(row))
    for (const change of changes) this.listeners.emit(change)
    return result
  }

  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: string }).code
    return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
  }

  isForeignKeyViolation(err: unknown): boolean {
    return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
  }

  /**
   * Looks for other connections' commits (another worker's, an admin command's) before every
   * request: reading the change stamp (STAMP_BYTES) buys the guarantee that a change acknowledged
   * by any of them before a request arrived holds for that request. (Looking once per millisecond
   * let 16 of 200 requests after a RevokeGrant on another worker still succeed.)
   */
  catchUp(): void {
    if (this.closed) return
    const stamp = this.readStamp()
    if (stamp === this.seenStamp) return
    // Taken as seen only once looked at: during a transaction of ours, the next request looks again.
    if (this.poll()) this.seenStamp = stamp
  }

  private readStamp(): number {
    const read = readSync(this.stampFd, this.stamp, 0, STAMP_BYTES, 0)
    return read === STAMP_BYTES ? this.stamp.readDoubleLE(0) : 0
  }

  /**
   * After COMMIT, before the transaction resolves. A failure is not the transaction's (it is
   * committed, and its caller must learn so): other connections then see the change at their next
   * periodic poll. It cannot be a full disk: the file has had its 8 bytes since it was made.
   */
  private writeStamp(seq: number): void {
    const bytes = Buffer.alloc(STAMP_BYTES)
    bytes.writeDoubleLE(seq, 0)
    try {
      writeSync(this.stampFd, bytes, 0, STAMP_BYTES, 0)
    } catch {
      // See above: the periodic poll delivers the change.
    }
  }

  /**
   * Always sure while open: catchUp() reads every other connection's committed changes before
   * each request.
   */
  deliveryEpoch(): number | undefined {
    return this.closed ? undefined : 0
  }

  /**
   * Emits changes committed by other connections since the last look; false when it did not look
   * (closed, or a transaction of ours is open: it takes them itself, before its own change rows).
   */
  poll(): boolean {
    if (this.closed || this.db.inTransaction) return false
    const version = this.currentDataVersion()
    if (version === this.dataVersion) return true
    this.dataVersion = version
    for (const row of this.all<ChangeRow>(CHANGES_SINCE, [this.lastSeq])) {
      this.lastSeq = row.seq
      this.listeners.emit(toChange(row))
    }
    return true
  }

  private migrate(): void {
    this.db.exec(SCHEMA_TABLE)
    const current = (this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
    const pending = pendingMigrations(current, SQLITE_WORDS)
    const apply = this.db.transaction(() => {
      for (const m of pending) {
        this.db.exec(m.sql)
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now())
      }
    })
    apply.immediate()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.listeners.clear()
    // Let the transactions already queued finish: what they acknowledge is committed.
    await this.queue
    this.reader.close()
    this.db.close()
    closeSync(this.stampFd)
  }
}

/** The SQLite store: the SQL store, plus what only a file can do (online backup, integrity check). */
export class SqliteStore extends SqlStore<SqliteEngine> {
  constructor(options: SqliteStoreOptions) {
    super(new SqliteEngine(options))
  }

  /** Emits changes committed by other connections since the last look. */
  poll(): void {
    this.engine.poll()
  }

  /**
   * A consistent online copy of the whole database (SQLite's backup API: readers and writers go on
   * meanwhile). Secrets stay sealed under the root of trust, which is not part of the copy. `file`
   * must not exist: it is created 0600 before a byte is written.
   */
  async backupTo(file: string): Promise<void> {
    closeSync(openSync(file, 'wx', 0o600))
    try {
      await this.engine.db.backup(file)
    } catch (err) {
      rmSync(file, { force: true })
      throw err
    }
    chmodSync(file, 0o600)
  }

  /** SQLite's own consistency check: 'ok' when the file is sound. */
  integrityCheck(): string {
    return this.engine.db.pragma('integrity_check', { simple: true }) as string
  }
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options)
}

/**
 * Opens the change stamp, creating it with its 8 bytes in place if it is not there yet: written
 * aside and linked into place, so that no process ever sees it shorter (zeros written into an
 * existing file could overwrite a stamp another process had just written, and hide its change
 * from a connection that saw zeros before).
 */
function openStamp(path: string): number {
  const file = `${path}-changed`
  if (!existsSync(file)) {
    const aside = `${file}.${String(process.pid)}-${String(threadId)}.tmp`
    writeFileSync(aside, Buffer.alloc(STAMP_BYTES), { mode: 0o600 })
    try {
      linkSync(aside, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      rmSync(aside, { force: true })
    }
  }
  return openSync(file, 'r+')
}

/** The files of the database at `path`: itself, SQLite's WAL and index, and the change stamp. */
export function sqliteFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`, `${path}-changed`]
}

/** The database holds only wrapped secrets, but it is still nobody else's business: 0600. */
function restrictToOwner(path: string): void {
  for (const file of sqliteFiles(path)) {
    if (existsSync(file)) chmodSync(file, 0o600)
  }
}
