// What the primary of `serve --workers N` and its workers say to each other over node:cluster's IPC
// channel. Every message has a `macaw` field naming it; anything else on the channel (prom-client's
// own messages included) is not ours.
import type { Registry } from 'prom-client'
import type { StoreChange } from '../store/store.js'

/** A worker's metrics as prom-client's getMetricsAsJSON() gives them. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

export type WorkerMessage =
  /** Listening (with the URL), or failed to start (with why). */
  | { readonly macaw: 'listening'; readonly url: string }
  | { readonly macaw: 'failed'; readonly message: string }
  /** Still alive: sent every HEARTBEAT_MS from the event loop. */
  | { readonly macaw: 'heartbeat' }
  /** A /metrics scrape came to this worker: please send the whole node's metrics. */
  | { readonly macaw: 'scrape'; readonly id: number }
  /** This worker's own metrics, asked for by `collect`. */
  | { readonly macaw: 'metrics'; readonly id: number; readonly metrics: MetricsJson }
  /** Changes this worker made: tell the other workers before the request is answered. */
  | { readonly macaw: 'changes'; readonly id: number; readonly changes: readonly StoreChange[] }
  /** Applied the changes of an `apply`. */
  | { readonly macaw: 'applied'; readonly id: number }

export type PrimaryMessage =
  | { readonly macaw: 'collect'; readonly id: number }
  | { readonly macaw: 'scraped'; readonly id: number; readonly text: string }
  /** Another worker's changes: apply them to the caches, then answer `applied`. */
  | { readonly macaw: 'apply'; readonly id: number; readonly changes: readonly StoreChange[] }
  /** Every other worker applied the changes of `changes` (or did not answer in time). */
  | { readonly macaw: 'relayed'; readonly id: number }

export const HEARTBEAT_MS = 1000

export function isMacawMessage(message: unknown): message is { macaw: string } {
  return typeof message === 'object' && message !== null && typeof (message as { macaw?: unknown }).macaw === 'string'
}

/**
 * Questions asked over IPC and answered by id (a scrape, a collection, a relay): `ask` sends with
 * a fresh id and resolves with the answers once `expected` came, or with those that came within
 * `timeoutMs` (a stalled peer is the watchdog's business, not the asker's).
 */
export class Replies<T> {
  private next = 0
  private readonly waiting = new Map<number, (answer: T) => void>()

  ask(expected: number, timeoutMs: number, sendWithId: (id: number) => void): Promise<T[]> {
    const id = ++this.next
    const answers: T[] = []
    if (expected <= 0) return Promise.resolve(answers)
    return new Promise<T[]>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiting.delete(id)
        resolve(answers)
      }
      const timer = setTimeout(done, timeoutMs)
      this.waiting.set(id, (answer) => {
        answers.push(answer)
        if (answers.length >= expected) done()
      })
      sendWithId(id)
    })
  }

  /** An answer to question `id`; ignored once that question is settled. */
  answer(id: number, value: T): void {
    this.waiting.get(id)?.(value)
  }
}
