// The `macaw` command line (commander): every subcommand, with its flags and environment variables.
import { Command, CommanderError, Option } from 'commander'
import { ConfigError, DEFAULTS, ENV_NAMES, type RawSettings } from '../config.js'
import { rootInit } from './root.js'
import { serve } from './serve.js'

/** The flags shared by every command that opens the data dir. */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory (SQLite store, default root key)').env(ENV_NAMES.dataDir).default(DEFAULTS.dataDir))
    .addOption(new Option('--root <uri>', 'root of trust URI, e.g. file:/path/root.key (default: file:<data-dir>/root.key)').env(ENV_NAMES.root))
    .addOption(new Option('--region <region>', 'default region').env(ENV_NAMES.region).default(DEFAULTS.region))
    .addOption(new Option('--account-id <id>', 'default account (12 digits)').env(ENV_NAMES.accountId).default(DEFAULTS.accountId))
    .addOption(new Option('--partition <name>', 'ARN partition').env(ENV_NAMES.partition).default(DEFAULTS.partition))
    .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent').env(ENV_NAMES.logLevel).default(DEFAULTS.logLevel))
}

export function program(): Command {
  const cli = new Command('macaw')
    .description('A self-hosted key service that speaks the AWS KMS API for HMAC keys.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()

  const serveCmd = addStoreOptions(
    cli
      .command('serve')
      .description('start the KMS endpoint')
      .addOption(new Option('--host <host>', 'address to listen on').env(ENV_NAMES.host).default(DEFAULTS.host))
      .addOption(new Option('--port <port>', 'port to listen on (0 = any free port)').env(ENV_NAMES.port).default(String(DEFAULTS.port))),
  )
    .addOption(new Option('--max-body-bytes <n>', 'largest accepted request body').env(ENV_NAMES.maxBodyBytes))
    .addOption(new Option('--clock-skew-seconds <n>', 'accepted SigV4 clock skew').env(ENV_NAMES.clockSkewSeconds))
    .addOption(new Option('--sweep-interval-seconds <n>', 'how often expired deletion windows are swept').env(ENV_NAMES.sweepIntervalSeconds))
    .addOption(new Option('--cache-ttl-ms <n>', 'how long a cached key is trusted without re-reading the store').env(ENV_NAMES.cacheTtlMs))
    .option('--print-config', 'print the effective configuration (secrets redacted) and exit')
  serveCmd.action(async (opts: RawSettings & { printConfig?: boolean }) => {
    await serve(opts)
  })

  const root = cli.command('root').description('manage the root of trust')
  root
    .command('init')
    .description('create the root key if it does not exist (idempotent; never overwrites)')
    .addOption(new Option('--root <uri>', 'root of trust URI, e.g. file:/path/root.key').env(ENV_NAMES.root).makeOptionMandatory())
    .action(async (opts: { root: string }) => {
      await rootInit(opts.root)
    })
  return cli
}

export async function run(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    if (err instanceof ConfigError) {
      process.stderr.write(`macaw: ${err.message}\n`)
      return 2
    }
    process.stderr.write(`macaw: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}
