// A worker of `serve --workers N`: tells the primary it listens (or why it could not start), sends
// heartbeats from its event loop, answers the primary's collection of metrics, and gets the whole
// node's metrics from the primary for a scrape that lands on it.
import type { Registry } from 'prom-client'
import type { Store, StoreChange } from '../store/store.js'
import { HEARTBEAT_MS, isMacawMessage, Replies, type PrimaryMessage, type WorkerMessage } from './messages.js'

const SCRAPE_TIMEOUT_MS = 5000
/** A safety net only: the primary answers a relay within its own 1 s bound. */
const RELAY_TIMEOUT_MS = 5000

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message)
}

export interface ClusterLink {
  /** The node's metrics, aggregated over every worker by the primary. */
  scrape(): Promise<string>
  /**
   * Relays the changes this worker's store makes to the other workers: `settle()` resolves once
   * they all applied what was made so far (call it before answering a request).
   */
  relayChanges(store: Store): { settle(): Promise<void> }
  /** Starts the heartbeat and answering metric collections, with this worker's registry. */
  serving(url: string, registry: Registry): void
  close(): void
}

export function linkToPrimary(): ClusterLink {
  let registry: Registry | undefined
  const scrapes = new Replies<string>()
  const relays = new Replies<undefined>()
  let relayStore: Store | undefined
  let applyingRelayed = false
  const onMessage = (msg: unknown): void => {
    if (!isMacawMessage(msg)) return
    const m = msg as PrimaryMessage
    if (m.macaw === 'apply') {
      // Delivered to this worker's caches as if pushed by the database; not relayed back.
      applyingRelayed = true
      try {
        for (const change of m.changes) relayStore?.notify(change)
      } finally {
        applyingRelayed = false
      }
      send({ macaw: 'applied', id: m.id })
    } else if (m.macaw === 'relayed') {
      relays.answer(m.id, undefined)
    } else if (m.macaw === 'scraped') {
      scrapes.answer(m.id, m.text)
    } else if (m.macaw === 'collect' && registry !== undefined) {
      registry.getMetricsAsJSON().then(
        (metrics) => send({ macaw: 'metrics', id: m.id, metrics }),
        () => send({ macaw: 'metrics', id: m.id, metrics: [] }),
      )
    }
  }
  process.on('message', onMessage)
  let heartbeat: NodeJS.Timeout | undefined
  return {
    scrape: async () => {
      const [text] = await scrapes.ask(1, SCRAPE_TIMEOUT_MS, (id) => send({ macaw: 'scrape', id }))
      if (text === undefined) throw new Error('the primary did not answer the metrics scrape')
      return text
    },
    relayChanges(store) {
      relayStore = store
      let pending: StoreChange[] = []
      store.onChange((change) => {
        if (!applyingRelayed) pending.push(change)
      })
      return {
        settle: () => {
          if (pending.length === 0 || !process.connected) return Promise.resolve()
          const changes = pending
          pending = []
          return relays.ask(1, RELAY_TIMEOUT_MS, (id) => send({ macaw: 'changes', id, changes })).then(() => undefined)
        },
      }
    },
    serving(url, reg) {
      registry = reg
      send({ macaw: 'listening', url })
      heartbeat = setInterval(() => send({ macaw: 'heartbeat' }), HEARTBEAT_MS)
      heartbeat.unref()
    },
    close() {
      if (heartbeat !== undefined) clearInterval(heartbeat)
      process.off('message', onMessage)
    },
  }
}

/** Tells the primary this worker could not start. */
export function reportStartFailure(message: string): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) return resolve()
    process.send({ macaw: 'failed', message } satisfies WorkerMessage, () => resolve())
  })
}
