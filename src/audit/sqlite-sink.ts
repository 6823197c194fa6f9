// Hands audit batches, and GetKeyLastUsage's flushes, to the writer thread (sqlite-thread.ts) and
// waits for each to be committed.
import { createHash } from 'node:crypto'
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setImmediate } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import type * as Esbuild from 'esbuild'
import type { KeyUse } from '../keys/last-usage.js'
import type { ChainFn, NewAuditRow } from '../store/store.js'
import { packRows, packUses } from './batch.js'

export interface AuditSink {
  appendAudit(rows: readonly NewAuditRow[], chain: ChainFn): Promise<void>
  close?(): Promise<void>
}

let bundledThread: URL | undefined

/**
 * The writer thread's young generation (V8 makes each semi-space a third of it, rounded up to a
 * power of two: 4 MiB here). By default a thread's young generation grows to 48 MiB, and under
 * load the writer's did: 32 MiB of semi-spaces resident for what is, per batch, a few hundred
 * short-lived rows. Limited, the server's RSS with 100,000 keys is about 20 to 25 MiB lower
 * (docs/performance.md); a batch larger than a semi-space only has some of its rows promoted.
 * Old space is not limited: a worst-case batch (2,000 records of 16 KiB, trail.ts) still fits.
 */
const WRITER_YOUNG_GENERATION_MB = 12

/** GetKeyLastUsage's uses per message to the thread (storeKeyUses). */
export const USES_PER_PART = 2000

/**
 * The writer thread's module. Built code has it beside this file. Running from TypeScript sources
 * (tests), the thread is bundled once per process with esbuild (which tsx is built on): booting tsx
 * inside every thread cost about 0.2 s per store opened.
 */
function threadUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./sqlite-thread.js', import.meta.url)
  if (bundledThread !== undefined) return bundledThread
  const source = fileURLToPath(new URL('./sqlite-thread.ts', import.meta.url))
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild
  const out = esbuild.buildSync({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', packages: 'external', write: false })
  const code = out.outputFiles[0]?.contents
  if (code === undefined) throw new Error('esbuild produced no audit writer thread')
  // Inside node_modules, so that the bundle's package imports resolve; named by content, so that
  // concurrent test processes share a file without racing.
  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../node_modules/.cache/macaw')
  const file = join(dir, `audit-thread-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`)
  mkdirSync(dir, { recursive: true })
  const temp = `${file}.${String(process.pid)}.tmp`
  writeFileSync(temp, code)
  renameSync(temp, file)
  bundledThread = pathToFileURL(file)
  return bundledThread
}

export class SqliteAuditSink implements AuditSink {
  private readonly path: string
  private readonly chainKey: Buffer
  private worker: Worker
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>()
  private next = 0
  private exited = false
  private closing = false

  /** `chainKey`: the audit chain key, copied to the writer thread (functions cannot cross threads). */
  constructor(path: string, chainKey: Buffer) {
    this.path = path
    this.chainKey = Buffer.from(chainKey)
    this.worker = this.spawn()
  }

  private spawn(): Worker {
    // The thread computes the chain with audit/chain.ts itself: functions cannot cross threads.
    const worker = new Worker(threadUrl(), { workerData: { path: this.path, chainKey: this.chainKey }, resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB } })
    this.exited = false
    worker.unref()
    worker.on('message', (msg: { id: number; error?: string }) => {
      const p = this.pending.get(msg.id)
      if (p === undefined) return
      this.pending.delete(msg.id)
      if (msg.error === undefined) p.resolve()
      else p.reject(new Error(msg.error))
    })
    // An error the thread did not catch (its database could not be opened, say) ends it: the next
    // batch goes to a new thread, and what was sent to this one fails (it is still queued in the
    // trail). 'exit' follows, with nothing left to fail unless the thread ended by itself.
    const ended = (err: Error): void => {
      if (this.worker !== worker) return
      this.exited = true
      this.failPending(err)
    }
    worker.on('error', ended)
    worker.on('exit', () => ended(new Error('the audit writer thread exited')))
    return worker
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  appendAudit(rows: readonly NewAuditRow[]): Promise<void> {
    return this.send((id) => ({ id, rows: packRows(rows) }))
  }

  /**
   * GetKeyLastUsage's flush (keys/last-usage.ts), ordered, serialised and stored by the thread. On
   * the request thread, each of its transactions held the event loop (27 to 77 ms with 15,000 of
   * 100,000 keys in use), and cost more there: every audit batch committed by this thread emptied
   * that connection's page cache, so the upserts read the table's pages again.
   * It crosses in parts of USES_PER_PART, a turn of the event loop between them: packed and cloned
   * at once, 26,000 uses (100,000 keys in use) held the event loop for about 60 ms. The thread
   * keeps the parts until the last, which it answers once all are stored.
   */
  async storeKeyUses(uses: ReadonlyMap<string, KeyUse>): Promise<void> {
    const entries = [...uses]
    const id = this.next++
    const worker = this.current()
    let start = 0
    for (; entries.length - start > USES_PER_PART; start += USES_PER_PART) {
      worker.postMessage({ id, uses: packUses(entries.slice(start, start + USES_PER_PART)), more: true })
      await setImmediate()
      // A thread that ended meanwhile took the parts it had: fail, and the flush is retried whole.
      if (worker !== this.current()) throw new Error('the audit writer thread exited')
    }
    await this.send(() => ({ id, uses: packUses(entries.slice(start)), more: false, total: entries.length }), id)
  }

  /** The thread, started again if it ended by itself (see send()); throws once closed. */
  private current(): Worker {
    if (this.closing) throw new Error('the audit writer thread is closed')
    if (this.exited) this.worker = this.spawn()
    return this.worker
  }

  private async send(message: (id: number) => object, id = this.next++): Promise<void> {
    // A thread that ended by itself is started again: the trail retries the batches it lost (every
    // second while writes fail), and a server must not refuse requests for good after one failure.
    const worker = this.current()
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.set(id, { resolve, reject })
        // Keep the process alive while a job is in flight, not otherwise.
        worker.ref()
        worker.postMessage(message(id))
      })
    } finally {
      if (this.pending.size === 0) worker.unref()
    }
  }

  async close(): Promise<void> {
    this.closing = true
    if (this.exited) return
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()))
    this.worker.ref()
    this.worker.postMessage('close')
    await exited
  }
}
