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
