// The audit writer thread for the SQLite store: appends batches (continuing the hash chain) on
// its own connection, so that the fsync of each batch and any wait for the database lock (other
// workers, admin commands) never stall the event loop that answers requests. GetKeyLastUsage's
// flushes are written here too, for the same reasons.
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { openSqliteStore } from '../store/sqlite/index.js'
import { keyUseRows, storeInTransactions } from '../keys/last-usage.js'
import { unpackRows, unpackUses } from './batch.js'
import { keyedChain } from './chain.js'

type Flat = readonly (string | number | null)[]
/**
 * Audit rows (packRows()), or a part of a flush of key uses (packUses()): parts with `more` are
 * kept, and the last one (with the flush's `total`) stores them all and is answered.
 */
type Job = { readonly id: number; readonly rows: Flat } | { readonly id: number; readonly uses: Flat; readonly more: boolean; readonly total?: number }

// Below the request thread in the scheduler: on a busy core a batch's inserts and hashing then
// wait for requests instead of pre-empting them for milliseconds. Not far below: at nice 10 the
// thread got about a tenth of a saturated core, less than 64 connections' records need, so the
// backlog grew to batches of 2,000 (30 ms of the request thread to serialise each) and to the
// backpressure mark, and the 64-connection p99 was 50 to 70 ms; at nice 3 it keeps up (batches of
// 400 at the most, no request waits) and the p99 is 20 to 40 ms (docs/performance.md).
// On Linux, priority 0's "process" is the calling thread only; elsewhere (or when not permitted)
// the thread keeps the default.
const AUDIT_WRITER_NICE = 3
try {
  setPriority(0, AUDIT_WRITER_NICE)
} catch {
  // Not permitted here: the default priority.
}

const { path, chainKey } = workerData as { path: string; chainKey: Uint8Array }
const chain = keyedChain(Buffer.from(chainKey))
const store = openSqliteStore({ path, pollIntervalMs: 0 })
const port = parentPort
/** The parts of key-use flushes received so far, by job id. */
const flushes = new Map<number, Flat[]>()
if (port === null) throw new Error('the audit writer must run in a worker thread')
port.on('message', (job: Job | 'close') => {
  if (job === 'close') {
    void store.close().then(() => port.close())
    return
  }
  let done: Promise<void>
  if ('rows' in job) done = store.appendAudit(unpackRows(job.rows), chain)
  else {
    const parts = flushes.get(job.id) ?? []
    parts.push(job.uses)
    if (job.more) {
      flushes.set(job.id, parts)
      return
    }
    flushes.delete(job.id)
    const uses = parts.flatMap(unpackUses)
    done = uses.length === job.total ? storeInTransactions(store, keyUseRows(uses)) : Promise.reject(new Error(`a flush of ${String(job.total)} key uses arrived with ${String(uses.length)}`))
  }
  done.then(
    () => port.postMessage({ id: job.id }),
    (err: unknown) => port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) }),
  )
})
