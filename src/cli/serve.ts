// `macaw serve`: build the config, start the server, print the bootstrap credentials once if they
// were generated, and shut down cleanly on SIGTERM/SIGINT.
import { buildConfig, fromEnv, redactedConfig, type RawSettings } from '../config.js'
import { createLogger } from '../log.js'
import { startServer } from '../server.js'
import { describeStore } from '../store/index.js'

export async function serve(flags: RawSettings & { printConfig?: boolean }): Promise<void> {
  const config = buildConfig(fromEnv(flags))
  if (flags.printConfig) {
    process.stdout.write(`${JSON.stringify(redactedConfig(config), null, 2)}\n`)
    return
  }
  const logger = createLogger(config.logLevel)
  const server = await startServer(config, {
    logger,
    onGeneratedCredentials: (id, secret) => {
      // Printed once, to the terminal only (never to the log): it is not shown again.
      process.stdout.write(
        `Generated root credentials for account ${config.accountId} (shown once; store them now):\n` +
          `  AWS_ACCESS_KEY_ID=${id}\n  AWS_SECRET_ACCESS_KEY=${secret}\n`,
      )
    },
  })
  logger.info({ url: server.url, dataDir: config.dataDir, root: server.kms.root.description, store: describeStore(config.store) }, 'macaw is serving')
  process.stdout.write(`macaw listening on ${server.url}\n`)
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
}
