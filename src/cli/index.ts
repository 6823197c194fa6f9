// The `macaw` command line (commander): every subcommand, with its flags and environment variables.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError, Option } from 'commander'
import { ConfigError, DEFAULTS, ENV_NAMES, type RawSettings } from '../config.js'
import { rootInit, rootRotate, type RotateFlags } from './root.js'
import { AdminError } from './admin.js'
import { backup, restore } from './backup.js'
import * as keys from './keys.js'
import * as oidc from './oidc-providers.js'
import * as roles from './roles.js'
import * as users from './users.js'
import { auditQuery, auditVerify, type AuditQueryFlags } from './audit.js'

/** The flags shared by every command that opens the data dir. */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory (SQLite store, default root key)').env(ENV_NAMES.dataDir).default(DEFAULTS.dataDir))
    .addOption(new Option('--store <url>', 'sqlite (default, <data-dir>/macaw.db), sqlite:<path> or postgres://user@host/db').env(ENV_NAMES.store))
    .addOption(new Option('--store-password-file <file>', "the PostgreSQL password, read from this file (keeps it out of argv and the environment)").env(ENV_NAMES.storePasswordFile))
    .addOption(new Option('--root <uri>', 'root of trust URI, e.g. file:/path/root.key (default: file:<data-dir>/root.key)').env(ENV_NAMES.root))
    .addOption(new Option('--extra-roots <uris>', 'comma-separated roots of trust that also open envelopes (a rotation\'s other root; found by id)').env(ENV_NAMES.extraRoots))
    .addOption(new Option('--region <region>', 'default region').env(ENV_NAMES.region).default(DEFAULTS.region))
    .addOption(new Option('--account-id <id>', 'default account (12 digits)').env(ENV_NAMES.accountId).default(DEFAULTS.accountId))
    .addOption(new Option('--partition <name>', 'ARN partition').env(ENV_NAMES.partition).default(DEFAULTS.partition))
    .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent').env(ENV_NAMES.logLevel).default(DEFAULTS.logLevel))
}

/** This package's version, from the package.json above this file (in src/ or in dist/src/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'macaw' && pkg.version !== undefined) return pkg.version
    } catch {
      // Not here: look one folder up.
    }
  }
  return 'unknown'
}

export function program(): Command {
  const cli = new Command('macaw')
    .description('A self-hosted key service that speaks the AWS KMS API for HMAC keys.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Quick start:
  macaw serve                                   serve http://127.0.0.1:8420, data in ./.macaw
  macaw users create --name app --policy p.json an IAM user (prints its access key once)
  macaw keys create --alias alias/app           an HMAC_256 key
  macaw keys list                               the keys of the default account and region
  macaw audit verify                            check the audit trail's hash chain

Every flag has an environment variable (MACAW_DATA_DIR, MACAW_STORE, MACAW_ROOT, ...);
run 'macaw <command> --help' for a command's flags. Docs: README.md and docs/.`,
    )
    .exitOverride()

  const serveCmd = addStoreOptions(
    cli
      .command('serve')
      .description('start the KMS endpoint')
      .addOption(new Option('--host <host>', 'address to listen on').env(ENV_NAMES.host).default(DEFAULTS.host))
      .addOption(new Option('--port <port>', 'port to listen on (0 = any free port)').env(ENV_NAMES.port).default(String(DEFAULTS.port))),
  )
    .addOption(new Option('--workers <n>', 'worker processes sharing the port (default: one per core)').env(ENV_NAMES.workers))
    .addOption(new Option('--max-body-bytes <n>', 'largest accepted request body').env(ENV_NAMES.maxBodyBytes))
    .addOption(new Option('--clock-skew-seconds <n>', 'accepted SigV4 clock skew').env(ENV_NAMES.clockSkewSeconds))
    .addOption(new Option('--regions <names>', "comma-separated Region names accepted beside AWS's public ones and --region").env(ENV_NAMES.regions))
    .addOption(new Option('--sweep-interval-seconds <n>', 'how often expired deletion windows are swept').env(ENV_NAMES.sweepIntervalSeconds))
    .addOption(new Option('--cache-ttl-ms <n>', 'how long a cached key is trusted without re-reading the store while the change feed is down (0: always re-read)').env(ENV_NAMES.cacheTtlMs))
    .addOption(new Option('--seed <file>', 'create the keys, aliases, tags and policies of this YAML/JSON file if they do not exist').env(ENV_NAMES.seed))
    .addOption(new Option('--audit <on|off>', 'keep an audit record of every request').env(ENV_NAMES.audit))
    .addOption(new Option('--console <on|off>', 'serve the web console at /console/ (default on)').env(ENV_NAMES.console))
    .addOption(new Option('--audit-file <path>', 'also append audit events as JSON lines to this file').env(ENV_NAMES.auditFile))
    .addOption(new Option('--audit-flush-ms <n>', 'how long audit records may wait before they are stored (default 50)').env(ENV_NAMES.auditFlushMs))
    .addOption(new Option('--audit-retention-days <n>', 'delete stored audit records older than this (0 = keep all)').env(ENV_NAMES.auditRetentionDays))
    .addOption(new Option('--audit-failure <refuse|continue>', 'while audit records cannot be stored: refuse requests (default) or answer them').env(ENV_NAMES.auditFailure))
    .addOption(new Option('--audit-summary-seconds <n>', 'unauthenticated requests beyond 10 per source are summarised per interval (default 60)').env(ENV_NAMES.auditSummarySeconds))
    .addOption(new Option('--audit-verify-seconds <n>', 'how often the running service checks the audit chain (default 30; 0 = never)').env(ENV_NAMES.auditVerifySeconds))
    .addOption(new Option('--quota-keys <n>', 'KMS keys per account and Region (default 100000, as AWS)').env(ENV_NAMES.quotaKeys))
    .addOption(new Option('--cache-max-mb <n>', 'memory for all caches together (default 256)').env(ENV_NAMES.cacheMaxMb))
    .addOption(new Option('--throttle <off|aws|file>', "request quotas: off (default), AWS's defaults, or a JSON/YAML file of rates").env(ENV_NAMES.throttle))
    .addOption(new Option('--max-connections <n>', 'open connections per process (default: from the open-file limit)').env(ENV_NAMES.maxConnections))
    .addOption(new Option('--worker-stall-seconds <n>', 'replace a worker whose event loop is blocked this long (default 10)').env(ENV_NAMES.workerStallSeconds))
    .addOption(new Option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS; reloaded on SIGHUP').env(ENV_NAMES.tlsCert))
    .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env(ENV_NAMES.tlsKey))
    .option('--print-config', 'print the effective configuration (secrets redacted) and exit')
  serveCmd.action(async (opts: RawSettings & { printConfig?: boolean }) => {
    // Loaded when used: the admin commands start in about half the time without the server.
    const { serve } = await import('./serve.js')
    await serve(opts)
  })

  const root = cli.command('root').description('manage the root of trust')
  root
    .command('init')
    .description('create the root key if it does not exist (idempotent; never overwrites); prints its id')
    .addOption(new Option('--data-dir <dir>', 'data directory (the default root key is <data-dir>/root.key)').env(ENV_NAMES.dataDir).default(DEFAULTS.dataDir))
    .addOption(new Option('--root <uri>', 'root of trust URI, e.g. file:/path/root.key (default: file:<data-dir>/root.key)').env(ENV_NAMES.root))
    .action(async (opts: RawSettings) => {
      await rootInit(opts)
    })
  const usersCmd = cli.command('users').description('IAM users of an account (run while the server runs, or not)')
  addStoreOptions(usersCmd.command('create').description('create a user with one access key; prints {AccessKeyId, SecretAccessKey, Arn} once'))
    .requiredOption('--name <name>', 'user name')
    .option('--policy <file.json>', 'identity policy document for the user')
    .action((opts: users.UserFlags) => users.usersCreate(opts))
  addStoreOptions(usersCmd.command('list').description('list the users of the account (no secrets)'))
    .option('--all', 'list the users of every account')
    .action((opts: RawSettings & { all?: boolean }) => users.usersList(opts))
  addStoreOptions(usersCmd.command('delete').description('delete a user and its access keys (they stop working at once)'))
    .requiredOption('--name <name>', 'user name')
    .action((opts: users.UserFlags) => users.usersDelete(opts))
  addStoreOptions(usersCmd.command('put-policy').description("replace a user's identity policy"))
    .requiredOption('--name <name>', 'user name')
    .requiredOption('--policy <file.json>', 'identity policy document')
    .action((opts: users.UserFlags & { policy: string }) => users.usersPutPolicy(opts))
  addStoreOptions(usersCmd.command('get-policy').description("print a user's identity policy"))
    .requiredOption('--name <name>', 'user name')
    .action((opts: users.UserFlags) => users.usersGetPolicy(opts))

  const rolesCmd = cli.command('roles').description('IAM roles of an account, assumed through STS (run while the server runs, or not)')
  addStoreOptions(rolesCmd.command('create').description('create a role; prints it as IAM GetRole does'))
    .requiredOption('--name <name>', 'role name')
    .requiredOption('--trust-policy <file.json>', 'trust policy: who may assume the role')
    .option('--policy <file.json>', "the role's identity policy")
    .option('--max-session-seconds <n>', 'longest session AssumeRole may give (3600 to 43200; default 3600)')
    .action((opts: roles.RoleFlags & { trustPolicy: string }) => roles.rolesCreate(opts))
  addStoreOptions(rolesCmd.command('list').description('list the roles of the account'))
    .option('--all', 'list the roles of every account')
    .action((opts: RawSettings & { all?: boolean }) => roles.rolesList(opts))
  addStoreOptions(rolesCmd.command('describe').description('print a role'))
    .requiredOption('--name <name>', 'role name')
    .action((opts: roles.RoleFlags) => roles.rolesDescribe(opts))
  addStoreOptions(rolesCmd.command('delete').description('delete a role (its sessions stop working at once)'))
    .requiredOption('--name <name>', 'role name')
    .action((opts: roles.RoleFlags) => roles.rolesDelete(opts))
  addStoreOptions(rolesCmd.command('put-policy').description("replace a role's identity policy"))
    .requiredOption('--name <name>', 'role name')
    .requiredOption('--policy <file.json>', 'identity policy document')
    .action((opts: roles.RoleFlags & { policy: string }) => roles.rolesPutPolicy(opts))
  addStoreOptions(rolesCmd.command('get-policy').description("print a role's identity policy"))
    .requiredOption('--name <name>', 'role name')
    .action((opts: roles.RoleFlags) => roles.rolesGetPolicy(opts))
  addStoreOptions(rolesCmd.command('put-trust-policy').description("replace a role's trust policy"))
    .requiredOption('--name <name>', 'role name')
    .requiredOption('--trust-policy <file.json>', 'trust policy document')
    .action((opts: roles.RoleFlags & { trustPolicy: string }) => roles.rolesPutTrustPolicy(opts))
  addStoreOptions(rolesCmd.command('update').description("change a role's maximum session duration"))
    .requiredOption('--name <name>', 'role name')
    .requiredOption('--max-session-seconds <n>', '3600 to 43200')
    .action((opts: roles.RoleFlags) => roles.rolesUpdate(opts))
  addStoreOptions(rolesCmd.command('revoke-sessions').description('deny everything to every session of the role issued until now'))
    .requiredOption('--name <name>', 'role name')
    .action((opts: roles.RoleFlags) => roles.rolesRevokeSessions(opts))

  const oidcCmd = cli.command('oidc-providers').description('OpenID Connect issuers trusted for AssumeRoleWithWebIdentity')
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value]
  addStoreOptions(oidcCmd.command('create').description('trust an issuer; prints the provider (its Arn goes in trust policies)'))
    .requiredOption('--url <https-url>', "the issuer's URL, as its tokens' iss claim gives it")
    .requiredOption('--client-id <aud>', 'an audience its tokens may be issued to (repeatable)', collect)
    .option('--jwks-file <file.json>', "the issuer's JSON Web Key Set (default: from its discovery document over HTTPS)")
    .action((opts: oidc.ProviderFlags) => oidc.providersCreate(opts))
  addStoreOptions(oidcCmd.command('list').description('list the providers of the account'))
    .option('--all', 'list the providers of every account')
    .action((opts: RawSettings & { all?: boolean }) => oidc.providersList(opts))
  addStoreOptions(oidcCmd.command('delete').description('stop trusting an issuer'))
    .requiredOption('--url <https-url>', "the issuer's URL")
    .action((opts: oidc.ProviderFlags) => oidc.providersDelete(opts))

  const accessKeysCmd = cli.command('access-keys').description('access keys of users and of account root users')
  addStoreOptions(accessKeysCmd.command('create').description('create an access key (the account root user\'s without --user-name)'))
    .option('--user-name <name>', 'the IAM user that owns the key')
    .action((opts: RawSettings & { userName?: string }) => users.accessKeysCreate(opts))
  addStoreOptions(accessKeysCmd.command('delete').description('delete an access key (it stops working at once)'))
    .requiredOption('--access-key-id <id>', 'the access key id')
    .action((opts: RawSettings & { accessKeyId: string }) => users.accessKeysDelete(opts))
  addStoreOptions(accessKeysCmd.command('list').description('list the access keys of the account (no secrets)'))
    .option('--user-name <name>', 'only the keys of this user')
    .action((opts: RawSettings & { userName?: string }) => users.accessKeysList(opts))
  const keysCmd = cli.command('keys').description('a human-friendly view of the keys of one account and region (--account-id, --region)')
  addStoreOptions(keysCmd.command('list').description('list keys as a table'))
    .option('--json', 'print KeyMetadata objects instead of a table')
    .action((opts: RawSettings & { json?: boolean }) => keys.keysList(opts))
  addStoreOptions(keysCmd.command('describe').description('metadata, aliases, tags, grants and policy of one key').argument('<key-id>', 'key id or key ARN'))
    .action((keyId: string, opts: RawSettings) => keys.keysDescribe({ ...opts, keyId }))
  addStoreOptions(keysCmd.command('create').description('create an HMAC key with the default key policy'))
    .option('--spec <spec>', 'HMAC_224, HMAC_256, HMAC_384 or HMAC_512', 'HMAC_256')
    .option('--description <text>', 'key description')
    .option('--alias <alias/name>', 'also create this alias')
    .action((opts: RawSettings & { spec?: string; description?: string; alias?: string }) => keys.keysCreate(opts))
  addStoreOptions(keysCmd.command('disable').description('disable a key (MAC calls fail with DisabledException)').argument('<key-id>', 'key id or key ARN'))
    .action((keyId: string, opts: RawSettings) => keys.keysSetEnabled({ ...opts, keyId }, false))
  addStoreOptions(keysCmd.command('enable').description('enable a disabled key').argument('<key-id>', 'key id or key ARN'))
    .action((keyId: string, opts: RawSettings) => keys.keysSetEnabled({ ...opts, keyId }, true))

  addStoreOptions(cli.command('backup').description('write a consistent online snapshot of the SQLite store (secrets stay sealed; keep the root key separately)').argument('<file>', 'new backup file'))
    .action((file: string, opts: RawSettings) => backup(file, opts))
  addStoreOptions(cli.command('restore').description('restore a snapshot into an empty data directory (needs the same root key)').argument('<file>', 'backup file'))
    .action((file: string, opts: RawSettings) => restore(file, opts))

  const auditCmd = cli.command('audit').description('the audit trail: one CloudTrail-shaped record per request')
  addStoreOptions(auditCmd.command('verify').description('check the hash chain; names the first removed or edited record'))
    .action((opts: RawSettings) => auditVerify(opts))
  addStoreOptions(auditCmd.command('query').description('print matching audit events, one JSON object per line, oldest first'))
    .option('--from <time>', 'not before this time (ISO 8601)')
    .option('--to <time>', 'not after this time (ISO 8601)')
    .option('--key <key>', 'only requests about this key: key id, key ARN, alias name or alias ARN')
    .option('--principal <arn>', 'only requests by this principal ARN')
    .option('--event-name <name>', 'only this operation, e.g. GenerateMac')
    .option('--outcome <success|failure>', 'only successes or only failures')
    .option('--limit <n>', 'at most this many events (default 1000)')
    .action((opts: AuditQueryFlags) => auditQuery(opts))
  addStoreOptions(root.command('rotate').description('make another root of trust current and re-wrap every stored secret under it (servers keep serving; safe to re-run)'))
    .requiredOption('--to <uri>', 'the new root, e.g. file:/path/new.key or pkcs11:token=...;object=...?pin-source=file:/path/pin')
    .action((opts: RotateFlags) => rootRotate(opts))
  return cli
}

export async function run(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    // By name: seed.ts (and its YAML parser) loads only for the commands that read a seed.
    if (err instanceof Error && err.name === 'SeedError') {
      process.stderr.write(`macaw: bad seed file: ${err.message}\n`)
      return 2
    }
    if (err instanceof AdminError) {
      process.stderr.write(`macaw: ${err.message}\n`)
      return err.exitCode
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`macaw: ${err.message}\n`)
      return 2
    }
    process.stderr.write(`macaw: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}
