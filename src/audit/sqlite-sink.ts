// Hands audit batches to the writer thread (sqlite-thread.ts) and waits for each to be committed.
import { Worker } from 'node:worker_threads'
import type { NewAuditRow } from '../store/store.js'

export interface AuditSink {
  appendAudit(rows: readonly NewAuditRow[], chain: (prevHash: string, row: NewAuditRow & { seq: number }) => string): Promise<void>
  close?(): Promise<void>
}

export class SqliteAuditSink implements AuditSink {
  private readonly worker: Worker
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>()
  private next = 0
  private exited = false

  /** `chainKey`: the audit chain key, copied to the writer thread (functions cannot cross threads). */
  constructor(path: string, chainKey: Buffer) {
    // The thread computes the chain with audit/chain.ts itself: functions cannot cross threads.
    if (import.meta.url.endsWith('.ts')) {
      // Running from TypeScript sources (tests): load the thread through tsx, as the caller is.
      const url = new URL('./sqlite-thread.ts', import.meta.url).href
      const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}) })`
      this.worker = new Worker(boot, { eval: true, workerData: { path, chainKey } })
    } else {
      this.worker = new Worker(new URL('./sqlite-thread.js', import.meta.url), { workerData: { path, chainKey } })
    }
    this.worker.once('exit', () => {
      this.exited = true
    })
    this.worker.unref()
    this.worker.on('message', (msg: { id: number; error?: string }) => {
      const p = this.pending.get(msg.id)
      if (p === undefined) return
      this.pending.delete(msg.id)
      if (msg.error === undefined) p.resolve()
      else p.reject(new Error(msg.error))
    })
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    })
    this.worker.on('exit', () => {
      // A thread that died takes its batches with it: they are still queued in the trail.
      for (const p of this.pending.values()) p.reject(new Error('the audit writer thread exited'))
      this.pending.clear()
    })
  }

  appendAudit(rows: readonly NewAuditRow[]): Promise<void> {
    if (this.exited) return Promise.reject(new Error('the audit writer thread exited'))
    const id = this.next++
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      // Keep the process alive while a batch is in flight, not otherwise.
      this.worker.ref()
      this.worker.postMessage({ id, rows })
    })
    return done.finally(() => {
      if (this.pending.size === 0) this.worker.unref()
    })
  }

  async close(): Promise<void> {
    if (this.exited) return
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()))
    this.worker.ref()
    this.worker.postMessage('close')
    await exited
  }
}
