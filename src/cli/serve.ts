// `macaw serve`: build the config, start the server (or, with --workers N > 1, a primary process
// that prepares the store once and forks N workers sharing the port through node:cluster), print
// the bootstrap credentials once if they were generated, and shut down cleanly on SIGTERM/SIGINT.
import cluster, { type Worker } from 'node:cluster'
import { once } from 'node:events'
import type { Logger } from 'pino'
import { buildConfig, fromEnv, redactedConfig, type Config, type RawSettings } from '../config.js'
import { createLogger } from '../log.js'
import { startServer } from '../server.js'
import { Kms } from '../service.js'
import { describeStore } from '../store/index.js'

function printCredentials(config: Config): (id: string, secret: string) => void {
  return (id, secret) => {
    // Printed once, to the terminal only (never to the log): it is not shown again.
    process.stdout.write(
      `Generated root credentials for account ${config.accountId} (shown once; store them now):\n` +
        `  AWS_ACCESS_KEY_ID=${id}\n  AWS_SECRET_ACCESS_KEY=${secret}\n`,
    )
  }
}

export async function serve(flags: RawSettings & { printConfig?: boolean }): Promise<void> {
  const config = buildConfig(fromEnv(flags))
  if (flags.printConfig) {
    process.stdout.write(`${JSON.stringify(redactedConfig(config), null, 2)}\n`)
    return
  }
  const logger = createLogger(config.logLevel)
  if (cluster.isPrimary && config.workers > 1) return primary(config, logger)
  return worker(config, logger)
}

/** One server in this process: the whole service, or one worker of several. */
async function worker(config: Config, logger: Logger): Promise<void> {
  const isWorker = cluster.isWorker
  const server = await startServer(config, { logger, prepared: isWorker, onGeneratedCredentials: printCredentials(config) })
  if (isWorker) {
    // The primary is gone (even by kill -9): do not linger as an orphan.
    process.on('disconnect', () => process.exit(0))
    process.send?.({ listening: server.url })
  } else {
    logger.info({ url: server.url, dataDir: config.dataDir, root: server.kms.root.description, store: describeStore(config.store) }, 'macaw is serving')
    process.stdout.write(`macaw listening on ${server.url}\n`)
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down')
      server.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        resolve()
      })
    }
    process.on('SIGHUP', () => server.reloadTls())
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  logger.flush()
  // A worker's IPC channel to the primary would keep it alive after its server closed.
  if (isWorker) process.disconnect()
}

/**
 * The primary of `--workers N`: bootstraps credentials and applies the seed once (so workers do not
 * race on them), forks the workers, replaces one that dies, and stops them all on SIGTERM/SIGINT.
 */
async function primary(config: Config, logger: Logger): Promise<void> {
  const prepared = await Kms.open(config, { logger, onGeneratedCredentials: printCredentials(config) })
  await prepared.close()
  let stopping = false
  let announced = false
  const fork = (): Worker => {
    const w = cluster.fork()
    w.on('message', (msg: { listening?: string }) => {
      if (msg.listening !== undefined && !announced) {
        announced = true
        logger.info({ url: msg.listening, workers: config.workers, dataDir: config.dataDir, store: describeStore(config.store) }, 'macaw is serving')
        process.stdout.write(`macaw listening on ${msg.listening}\n`)
      }
    })
    return w
  }
  for (let i = 0; i < config.workers; i++) fork()
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return
    logger.error({ pid: w.process.pid, code, signal }, 'a worker died; starting another')
    fork()
  })
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      logger.info({ signal }, 'shutting down the workers')
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead())
      Promise.all(
        workers.map(async (w) => {
          const exited = once(w, 'exit')
          w.process.kill(signal)
          await exited
        }),
      ).then(() => resolve(), () => resolve())
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP')
    })
  })
  await stopped
  logger.flush()
  cluster.disconnect()
}
