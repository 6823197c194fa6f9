// The primary of `serve --workers N`: forks the workers, replaces one that dies or stalls, serves
// the whole node's metrics to whichever worker is scraped, and stops them all on a signal.
//
// Stopping: the first SIGTERM or SIGINT starts a clean stop (each worker closes its server, lets
// in-flight requests finish and stores every audit record, then exits); the primary waits for all
// of them. Signals that follow are logged and ignored: systemd's KillMode=control-group and a
// terminal's Ctrl-C send the signal to every process at once, and the primary forwards it too, so
// each worker must take a repeat as the same request. Only a third SIGINT (Ctrl-C three times) is
// a force-quit: the workers are killed at once and records not yet stored are lost (logged).
import cluster, { type Worker } from 'node:cluster'
import { once } from 'node:events'
import type { Logger } from 'pino'
import { AggregatorRegistry, Counter, Registry } from 'prom-client'
import { HEARTBEAT_MS, isMacawMessage, Replies, type MetricsJson, type PrimaryMessage, type WorkerMessage } from './messages.js'

export interface PrimaryOptions {
  readonly workers: number
  readonly stallMs: number
  readonly logger: Logger
  /** Called once, with the first worker's URL, when a worker listens. */
  readonly onListening: (url: string) => void
}

/** Why the node could not start: a worker failed before any served. */
export class WorkerStartError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WorkerStartError'
  }
}

const COLLECT_TIMEOUT_MS = 2000
const RELAY_TIMEOUT_MS = 1000

type WorkerChange = Extract<WorkerMessage, { macaw: 'changes' }>['changes'][number]
/** Workers that die before listening this many times in a row (after the node started) stop the node. */
const MAX_FAILED_STARTS = 5

interface WorkerState {
  listening: boolean
  lastBeat: number
  /** Its metrics as last collected: kept when it dies, so that the node's counters never go back. */
  last: MetricsJson | undefined
}

export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { logger } = options
  const states = new Map<Worker, WorkerState>()
  const own = new Registry()
  const restarts = new Counter({ name: 'macaw_worker_restarts_total', help: 'Workers that died or stalled and were replaced', registers: [own] })
  const stalls = new Counter({ name: 'macaw_worker_stalls_total', help: 'Workers killed because their event loop answered no heartbeat for --worker-stall-seconds', registers: [own] })
  /** Counters and histograms of workers that are gone, summed: what they had counted stays counted. */
  let retired: MetricsJson = []
  let announced = false
  let stopping = false
  let failedStarts = 0
  let fail: (err: Error) => void = () => {}
  const failed = new Promise<never>((_, reject) => (fail = reject))

  const fork = (): Worker => {
    const w = cluster.fork()
    states.set(w, { listening: false, lastBeat: Date.now(), last: undefined })
    w.on('message', (msg: unknown) => {
      if (isMacawMessage(msg)) onMessage(w, msg as WorkerMessage)
    })
    return w
  }

  const onMessage = (w: Worker, msg: WorkerMessage): void => {
    const state = states.get(w)
    if (state === undefined) return
    switch (msg.macaw) {
      case 'listening':
        state.listening = true
        state.lastBeat = Date.now()
        failedStarts = 0
        if (!announced) {
          announced = true
          options.onListening(msg.url)
        }
        break
      case 'failed':
        logger.error({ pid: w.process.pid, error: msg.message }, 'a worker failed to start')
        if (!announced) fail(new WorkerStartError(msg.message))
        break
      case 'heartbeat':
        state.lastBeat = Date.now()
        break
      case 'scrape':
        void nodeMetrics().then(
          (text) => send(w, { macaw: 'scraped', id: msg.id, text }),
          (err: unknown) => {
            logger.error({ err }, 'cannot collect the workers\u2019 metrics')
            send(w, { macaw: 'scraped', id: msg.id, text: '' })
          },
        )
        break
      case 'metrics':
        collections.answer(msg.id, { w, metrics: msg.metrics })
        break
      case 'changes':
        void relay(w, msg.changes).then(() => send(w, { macaw: 'relayed', id: msg.id }))
        break
      case 'applied':
        applications.answer(msg.id, undefined)
        break
    }
  }

  // Changes: from one worker to every other, acknowledged, so that the answer to the request that
  // made them goes out only once every worker of the node honours them.
  const applications = new Replies<undefined>()
  const relay = async (from: Worker, changes: readonly WorkerChange[]): Promise<void> => {
    const others = [...states.keys()].filter((w) => w !== from && w.isConnected())
    await applications.ask(others.length, RELAY_TIMEOUT_MS, (id) => {
      for (const w of others) send(w, { macaw: 'apply', id, changes })
    })
  }

  // Metrics: ask every live worker for its own, add what dead workers had counted, aggregate.
  const collections = new Replies<{ w: Worker; metrics: MetricsJson }>()
  const nodeMetrics = async (): Promise<string> => {
    const live = [...states.keys()].filter((w) => w.isConnected())
    const replies = await collections.ask(live.length, COLLECT_TIMEOUT_MS, (id) => {
      for (const w of live) send(w, { macaw: 'collect', id })
    })
    const answers = new Map(replies.map((r) => [r.w, r.metrics]))
    const sets: MetricsJson[] = []
    for (const w of live) {
      const state = states.get(w)
      // A worker that did not answer in time counts with what it said last.
      const metrics = answers.get(w) ?? state?.last
      if (state !== undefined && answers.has(w)) state.last = metrics
      if (metrics !== undefined) sets.push(metrics)
    }
    await retiring
    if (retired.length > 0) sets.push(retired)
    sets.push(await own.getMetricsAsJSON())
    return AggregatorRegistry.aggregate(sets).metrics()
  }

  let retiring: Promise<void> = Promise.resolve()
  const retire = (state: WorkerState): void => {
    if (state.last === undefined) return
    const counted = state.last.filter((m) => String(m.type) === 'counter' || String(m.type) === 'histogram')
    retiring = retiring.then(async () => {
      retired = retired.length === 0 ? counted : await AggregatorRegistry.aggregate([retired, counted]).getMetricsAsJSON()
    })
  }

  cluster.on('exit', (w, code, signal) => {
    const state = states.get(w)
    states.delete(w)
    if (state !== undefined) retire(state)
    if (stopping) return
    if (!announced) {
      fail(new WorkerStartError(`a worker exited during start-up (${signal ?? `code ${String(code)}`})`))
      return
    }
    if (state !== undefined && !state.listening && ++failedStarts >= MAX_FAILED_STARTS) {
      fail(new WorkerStartError(`${MAX_FAILED_STARTS} workers in a row failed to start; stopping`))
      return
    }
    restarts.inc()
    logger.error({ pid: w.process.pid, code, signal }, 'a worker died; starting another')
    fork()
  })

  // Watchdog: a worker whose event loop sent no heartbeat for stallMs is killed (and replaced).
  const watchdog = setInterval(() => {
    const now = Date.now()
    for (const [w, state] of states) {
      if (!state.listening || w.isDead() || now - state.lastBeat < options.stallMs) continue
      logger.error({ pid: w.process.pid, silentMs: now - state.lastBeat }, 'a worker stalled (no heartbeat); killing and replacing it')
      stalls.inc()
      state.listening = false
      w.process.kill('SIGKILL')
    }
  }, Math.min(HEARTBEAT_MS, options.stallMs))
  watchdog.unref()

  let signals = 0
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      signals++
      if (stopping) {
        if (signal === 'SIGINT' && signals >= 3) {
          logger.warn({ signal }, 'third signal: force-quitting; audit records not yet stored are lost')
          for (const w of states.keys()) w.process.kill('SIGKILL')
          return
        }
        logger.info({ signal }, 'already shutting down; waiting for the workers to finish (Ctrl-C three times to force-quit)')
        return
      }
      stopping = true
      logger.info({ signal }, 'shutting down the workers')
      const workers = [...states.keys()].filter((w) => !w.isDead())
      Promise.all(
        workers.map(async (w) => {
          const exited = once(w, 'exit')
          // Each worker takes a repeated signal as the same request: this one is safe even when
          // the signal reached the whole process group.
          w.process.kill(signal)
          await exited
        }),
      ).then(
        () => resolve(),
        () => resolve(),
      )
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => {
      for (const w of states.keys()) w.process.kill('SIGHUP')
    })
  })

  for (let i = 0; i < options.workers; i++) fork()
  try {
    await Promise.race([stopped, failed])
  } catch (err) {
    // A failed start: nothing was served; stop the others without waiting on them.
    stopping = true
    clearInterval(watchdog)
    await Promise.all(
      [...states.keys()].map(async (w) => {
        if (w.isDead()) return
        const exited = once(w, 'exit')
        w.process.kill('SIGKILL')
        await exited
      }),
    )
    throw err
  }
  clearInterval(watchdog)
}

function send(w: Worker, message: PrimaryMessage): void {
  if (!w.isConnected()) return
  try {
    w.send(message)
  } catch {
    // The worker is going away; its exit is handled elsewhere.
  }
}
