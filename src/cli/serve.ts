// `macaw serve`: build the config, start the server (or, with --workers N > 1, a primary process
// that prepares the store once and forks N workers sharing the port through node:cluster), print
// the bootstrap credentials once if they were generated, and shut down cleanly on SIGTERM/SIGINT.
import cluster from 'node:cluster'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { runPrimary } from '../cluster/primary.js'
import { linkToPrimary, reportStartFailure } from '../cluster/worker.js'
import { buildConfig, fromEnv, redactedConfig, type Config, type RawSettings } from '../config.js'
import { createLogger } from '../log.js'
import type { RunningServer } from '../server.js'
import { prepareDeployment } from '../service/open.js'
import { describeStore } from '../store/index.js'

/**
 * Generated root credentials, shown once. On a terminal: ready-to-paste export lines (AWS CLI v1
 * reads AWS_DEFAULT_REGION, v2 and the SDKs AWS_REGION) and an example. Anywhere else (a service
 * manager's log, CI), never in the output: written to a 0600 file in the data directory, whose
 * path alone is printed and logged.
 */
function printCredentials(config: Config, logger: Logger): (id: string, secret: string) => void {
  return (id, secret) => {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host
    const endpoint = `${config.tls ? 'https' : 'http'}://${host}:${config.port === 0 ? '<port>' : config.port}`
    const exports =
      `export AWS_ACCESS_KEY_ID=${id}\n` +
      `export AWS_SECRET_ACCESS_KEY=${secret}\n` +
      `export AWS_REGION=${config.region} AWS_DEFAULT_REGION=${config.region}\n`
    if (process.stdout.isTTY === true) {
      process.stdout.write(
        `Generated root credentials for account ${config.accountId} (shown once; store them now):\n\n${exports}\n` +
          `Then, for example: aws --endpoint-url ${endpoint} kms list-keys\n\n`,
      )
      return
    }
    const file = join(config.dataDir, 'root-credentials.txt')
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    rmSync(file, { force: true })
    writeFileSync(file, `# Root credentials of account ${config.accountId}, generated ${new Date().toISOString()}. Move them somewhere safe and delete this file.\n${exports}`, {
      mode: 0o600,
      flag: 'wx',
    })
    logger.warn({ file }, 'generated root credentials written to this file (0600): move them somewhere safe and delete it')
    process.stdout.write(`Generated root credentials for account ${config.accountId}: written to ${file} (0600), not shown here\n`)
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

/**
 * One server in this process: the whole service, or one worker of several. Stops cleanly on the
 * first SIGTERM or SIGINT (in-flight requests finish, every audit record is stored); repeats are
 * logged and ignored, since a group signal and the primary's forward both arrive. Alone (not a
 * worker), a third SIGINT force-quits. A worker whose primary is gone stops cleanly too.
 */
async function worker(config: Config, logger: Logger): Promise<void> {
  const isWorker = cluster.isWorker
  const link = isWorker ? linkToPrimary() : undefined
  let server: RunningServer
  // PostgreSQL pushes changes to the other workers too, but a moment later: a worker relays its own
  // through the primary before answering, so that the next request honours them on any worker.
  // (SQLite workers look for other workers' commits before every request instead.)
  let settle: (() => Promise<void>) | undefined
  try {
    // The server loads here: the primary of several workers serves nothing and never needs it.
    const { startServer } = await import('../server.js')
    server = await startServer(config, {
      logger,
      prepared: isWorker,
      onGeneratedCredentials: printCredentials(config, logger),
      ...(link ? { metrics: () => link.scrape() } : {}),
      ...(link && config.store.kind === 'postgres' ? { beforeAnswer: () => settle?.() ?? Promise.resolve() } : {}),
    })
  } catch (err) {
    if (!isWorker || link === undefined) throw err
    // The primary reports it once, for every worker, and exits non-zero.
    link.close()
    await reportStartFailure(err instanceof Error ? err.message : String(err))
    process.exit(1)
  }
  if (link) {
    if (config.store.kind === 'postgres') {
      const relay = link.relayChanges(server.kms.store)
      settle = () => relay.settle()
    }
    link.serving(server.url, server.kms.metrics.registry)
  } else {
    logger.info({ url: server.url, dataDir: config.dataDir, root: server.kms.root.description, store: describeStore(config.store) }, 'macaw is serving')
    process.stdout.write(`macaw listening on ${server.url}\n`)
  }
  await new Promise<void>((resolve) => {
    let stopping = false
    let interrupts = 0
    const stop = (why: string): void => {
      if (why === 'SIGINT') interrupts++
      if (stopping) {
        if (!isWorker && interrupts >= 3) {
          logger.warn({ signal: why }, 'third SIGINT: force-quitting; audit records not yet stored are lost')
          logger.flush()
          process.exit(130)
        }
        logger.info({ signal: why }, 'already shutting down; waiting for requests and audit records (Ctrl-C three times to force-quit)')
        return
      }
      stopping = true
      logger.info({ signal: why }, 'shutting down')
      server.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        resolve()
      })
    }
    process.on('SIGHUP', () => server.reloadTls())
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    // The primary is gone (even by kill -9): stop as cleanly as we can rather than linger.
    if (isWorker) process.on('disconnect', () => stop('primary gone'))
  })
  link?.close()
  logger.flush()
  // A worker's IPC channel to the primary would keep it alive after its server closed.
  if (isWorker && process.connected) process.disconnect()
}

/**
 * The primary of `--workers N`: bootstraps credentials and applies the seed once (so workers do not
 * race on them), then supervises the workers (src/cluster/primary.ts).
 */
async function primary(config: Config, logger: Logger): Promise<void> {
  // The usual reason workers cannot start, found before forking any: the port is taken.
  if (config.port !== 0) await portIsFree(config.host, config.port)
  await prepareDeployment(config, { logger, onGeneratedCredentials: printCredentials(config, logger) })
  await runPrimary({
    workers: config.workers,
    stallMs: config.workerStallMs,
    logger,
    onListening: (url) => {
      logger.info({ url, workers: config.workers, dataDir: config.dataDir, store: describeStore(config.store) }, 'macaw is serving')
      process.stdout.write(`macaw listening on ${url}\n`)
    },
  })
  logger.flush()
  cluster.disconnect()
}

/** Rejects with the listen error (EADDRINUSE, EACCES...) if host:port cannot be bound now. */
function portIsFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()))
  })
}
