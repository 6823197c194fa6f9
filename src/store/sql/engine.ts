// What the one SQL store (store.ts) needs from a database engine: statements outside and inside a
// write transaction, the engine's row locks, its constraint errors, and its change feed. SQLite
// and PostgreSQL each implement this in their own folder; a third engine is one more such file.
//
// Statements are written once with `?` placeholders; an engine that numbers its parameters
// (PostgreSQL's $1, $2...) rewrites them. Every SQL text is a constant of this folder or built
// from its constant fragments, never from request text, so the engines may cache by text.
import type { StoreChange } from '../store.js'

/** A result row: column name to value (pg's row type needs the index signature). */
export type Row = Record<string, unknown>

/** One write transaction: its statements, its row locks and the changes it makes. */
export interface Tx {
  rows<R extends Row>(sql: string, params?: readonly unknown[]): Promise<R[]>
  /** Number of rows the statement touched. */
  run(sql: string, params?: readonly unknown[]): Promise<number>
  /**
   * The rows of a SELECT, locked until the transaction ends where the engine locks rows
   * (PostgreSQL: FOR UPDATE). SQLite's write transaction already excludes every other writer.
   * Every write takes its locks in one order, key row first, so that writers queue instead of
   * deadlocking.
   */
  lock<R extends Row>(sql: string, params?: readonly unknown[]): Promise<R[]>
  /** A change to publish to other processes at commit, and to this store's listeners after it. */
  log(change: StoreChange): void
}

export interface SqlEngine {
  /** The rows of one statement, outside any transaction. */
  rows<R extends Row>(sql: string, params?: readonly unknown[]): Promise<R[]>
  /** Runs `fn` in one write transaction, serialized with every other writer of the database. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  isUniqueViolation(err: unknown): boolean
  isForeignKeyViolation(err: unknown): boolean
  /** Delivers the changes other processes committed, where they are polled (ChangeFeed.catchUp). */
  catchUp(): void
  /** ChangeFeed.deliveryEpoch. */
  deliveryEpoch(): number | undefined
  readonly listeners: ChangeListeners
  close(): Promise<void>
}

/** The listeners of a store's changes; one failing listener never stops the others. */
export class ChangeListeners {
  private readonly set = new Set<(change: StoreChange) => void>()

  add(listener: (change: StoreChange) => void): () => void {
    this.set.add(listener)
    return () => this.set.delete(listener)
  }

  emit(change: StoreChange): void {
    for (const listener of this.set) {
      try {
        listener(change)
      } catch {
        // A failing listener must not break the store or the other listeners.
      }
    }
  }

  clear(): void {
    this.set.clear()
  }
}
