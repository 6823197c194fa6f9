// One typed, frozen Config built from CLI flags > environment (MACAW_*) > defaults. Every problem
// is reported at once; secrets arrive by value or by *_FILE reference and are never printed.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { loadThrottleRules, type ThrottleRules } from './quotas/throttle.js'
import { redactStoreUrl } from './store/url.js'
import { describeRootUri } from './trust/index.js'

import type { StoreConfig } from './store/index.js'
import { AWS_REGIONS } from './domain.js'

export type { StoreConfig } from './store/index.js'

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** Default region for admin commands; requests use the region of their credential scope. */
  readonly region: string
  /** The Regions a request may be scoped to: AWS's public ones, `--regions`, and `region`. */
  readonly regions: ReadonlySet<string>
  /** The default account: the one whose root user is bootstrapped. */
  readonly accountId: string
  readonly partition: string
  /** Root-of-trust URI, e.g. `file:/var/lib/macaw/root.key`. */
  readonly root: string
  /**
   * Other roots this process opens envelopes with, by the id each envelope names (and seals with,
   * once the store names one current): the next root before a rotation, the old one after it.
   */
  readonly extraRoots: readonly string[]
  readonly store: StoreConfig
  readonly rootAccessKeyId?: string
  readonly rootSecretAccessKey?: string
  readonly maxBodyBytes: number
  readonly clockSkewMs: number
  readonly sweepIntervalMs: number
  readonly cacheTtlMs: number
  readonly logLevel: string
  readonly audit: {
    readonly enabled: boolean
    readonly file?: string
    readonly flushIntervalMs: number
    readonly retentionDays: number
    /** `refuse`: refuse requests while their records cannot be stored; `continue`: answer them. */
    readonly onFailure: 'refuse' | 'continue'
    /** Interval over which unauthenticated requests beyond the first few are summarised. */
    readonly summaryIntervalMs: number
    /** How often the running service checks the chain (audit/verifier.ts); 0: never (`macaw audit verify` still does). */
    readonly verifyIntervalMs: number
  }
  /** KMS keys per account and Region (AWS's default quota: 100,000). */
  readonly quotaKeys: number
  /** Memory for all caches together (keys, policies, credentials, aliases, signing keys). */
  readonly cacheMaxBytes: number
  /** Request quotas (`--throttle`): undefined for off; AWS's defaults or a file's rates, read once. */
  readonly throttle: ThrottleRules | undefined
  /** Open connections per process; beyond it idle ones are closed first, then new ones refused. */
  readonly maxConnections: number
  /** With several workers: a worker whose event loop answers no heartbeat for this long is replaced. */
  readonly workerStallMs: number
  /** Serve the web console at /console/ (`--console on|off`). */
  readonly console: boolean
  /** Worker processes sharing the port (`serve` only). */
  readonly workers: number
  /** A seed file applied at start (keys created if they do not exist). */
  readonly seed?: string
  /** PEM files; both set means HTTPS. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string }
}

/** Raw settings by name; each comes from a flag or its environment variable. */
export interface RawSettings {
  host?: string | undefined
  port?: string | number | undefined
  dataDir?: string | undefined
  region?: string | undefined
  regions?: string | undefined
  accountId?: string | undefined
  partition?: string | undefined
  root?: string | undefined
  extraRoots?: string | undefined
  store?: string | undefined
  rootAccessKeyId?: string | undefined
  rootSecretAccessKey?: string | undefined
  rootSecretAccessKeyFile?: string | undefined
  storePasswordFile?: string | undefined
  maxBodyBytes?: string | number | undefined
  clockSkewSeconds?: string | number | undefined
  sweepIntervalSeconds?: string | number | undefined
  cacheTtlMs?: string | number | undefined
  logLevel?: string | undefined
  audit?: string | undefined
  console?: string | undefined
  auditFile?: string | undefined
  auditFlushMs?: string | number | undefined
  auditRetentionDays?: string | number | undefined
  auditFailure?: string | undefined
  auditSummarySeconds?: string | number | undefined
  auditVerifySeconds?: string | number | undefined
  quotaKeys?: string | number | undefined
  cacheMaxMb?: string | number | undefined
  throttle?: string | undefined
  maxConnections?: string | number | undefined
  workerStallSeconds?: string | number | undefined
  tlsCert?: string | undefined
  tlsKey?: string | undefined
  seed?: string | undefined
  workers?: string | number | undefined
}

/** Environment variable of each setting: the flag's name in MACAW_ upper snake case. */
export const ENV_NAMES: Record<keyof RawSettings, string> = {
  host: 'MACAW_HOST',
  port: 'MACAW_PORT',
  dataDir: 'MACAW_DATA_DIR',
  region: 'MACAW_REGION',
  accountId: 'MACAW_ACCOUNT_ID',
  partition: 'MACAW_PARTITION',
  root: 'MACAW_ROOT',
  extraRoots: 'MACAW_EXTRA_ROOTS',
  store: 'MACAW_STORE',
  rootAccessKeyId: 'MACAW_ROOT_ACCESS_KEY_ID',
  rootSecretAccessKey: 'MACAW_ROOT_SECRET_ACCESS_KEY',
  rootSecretAccessKeyFile: 'MACAW_ROOT_SECRET_ACCESS_KEY_FILE',
  storePasswordFile: 'MACAW_STORE_PASSWORD_FILE',
  maxBodyBytes: 'MACAW_MAX_BODY_BYTES',
  clockSkewSeconds: 'MACAW_CLOCK_SKEW_SECONDS',
  regions: 'MACAW_REGIONS',
  sweepIntervalSeconds: 'MACAW_SWEEP_INTERVAL_SECONDS',
  cacheTtlMs: 'MACAW_CACHE_TTL_MS',
  logLevel: 'MACAW_LOG_LEVEL',
  audit: 'MACAW_AUDIT',
  console: 'MACAW_CONSOLE',
  auditFile: 'MACAW_AUDIT_FILE',
  auditFlushMs: 'MACAW_AUDIT_FLUSH_MS',
  auditRetentionDays: 'MACAW_AUDIT_RETENTION_DAYS',
  auditFailure: 'MACAW_AUDIT_FAILURE',
  auditSummarySeconds: 'MACAW_AUDIT_SUMMARY_SECONDS',
  auditVerifySeconds: 'MACAW_AUDIT_VERIFY_SECONDS',
  quotaKeys: 'MACAW_QUOTA_KEYS',
  cacheMaxMb: 'MACAW_CACHE_MAX_MB',
  throttle: 'MACAW_THROTTLE',
  maxConnections: 'MACAW_MAX_CONNECTIONS',
  workerStallSeconds: 'MACAW_WORKER_STALL_SECONDS',
  tlsCert: 'MACAW_TLS_CERT',
  tlsKey: 'MACAW_TLS_KEY',
  seed: 'MACAW_SEED',
  workers: 'MACAW_WORKERS',
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8420,
  dataDir: '.macaw',
  region: 'us-east-1',
  accountId: '111122223333',
  partition: 'aws',
  maxBodyBytes: 256 * 1024,
  clockSkewSeconds: 300,
  sweepIntervalSeconds: 60,
  cacheTtlMs: 1000,
  logLevel: 'info',
  audit: 'on',
  console: 'on',
  auditFlushMs: 50,
  auditRetentionDays: 0,
  auditFailure: 'refuse',
  auditSummarySeconds: 60,
  auditVerifySeconds: 30,
  quotaKeys: 100_000,
  cacheMaxMb: 256,
  throttle: 'off',
} as const

/**
 * Connections one process may hold: the open-file limit less room for the store, logs and the
 * audit file (Linux; 1024 where the limit cannot be read).
 */
export function defaultMaxConnections(): number {
  let limit = 1024
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const soft = Number(line?.split(/\s+/)[3])
    if (Number.isInteger(soft) && soft > 0) limit = soft
  } catch {
    // Not Linux: keep the default.
  }
  return Math.max(16, Math.floor(limit * 0.9) - 32)
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.problems = problems
    this.name = 'ConfigError'
  }
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Fills unset settings from the environment. */
export function fromEnv(raw: RawSettings, env: NodeJS.ProcessEnv = process.env): RawSettings {
  const out: RawSettings = { ...raw }
  for (const name of Object.keys(ENV_NAMES) as (keyof RawSettings)[]) {
    if (out[name] === undefined && env[ENV_NAMES[name]] !== undefined && env[ENV_NAMES[name]] !== '') {
      out[name] = env[ENV_NAMES[name]]
    }
  }
  return out
}

export function buildConfig(raw: RawSettings): Config {
  const problems: string[] = []
  const int = (name: keyof RawSettings, fallback: number, min: number, max: number): number => {
    const value = raw[name] ?? fallback
    const n = typeof value === 'number' ? value : Number(value)
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} (${ENV_NAMES[name]}) must be an integer from ${min} to ${max}, got '${String(value)}'`)
      return fallback
    }
    return n
  }
  const port = int('port', DEFAULTS.port, 0, 65535)
  const maxBodyBytes = int('maxBodyBytes', DEFAULTS.maxBodyBytes, 1024, 64 * 1024 * 1024)
  const clockSkewMs = int('clockSkewSeconds', DEFAULTS.clockSkewSeconds, 1, 86400) * 1000
  const sweepIntervalMs = int('sweepIntervalSeconds', DEFAULTS.sweepIntervalSeconds, 1, 86400) * 1000
  const cacheTtlMs = int('cacheTtlMs', DEFAULTS.cacheTtlMs, 0, 3_600_000)
  const workers = int('workers', availableParallelism(), 1, 256)
  const auditFlushMs = int('auditFlushMs', DEFAULTS.auditFlushMs, 1, 60_000)
  const auditRetentionDays = int('auditRetentionDays', DEFAULTS.auditRetentionDays, 0, 36_500)
  const auditSummaryMs = int('auditSummarySeconds', DEFAULTS.auditSummarySeconds, 1, 86_400) * 1000
  const auditVerifyMs = int('auditVerifySeconds', DEFAULTS.auditVerifySeconds, 0, 86_400) * 1000
  const quotaKeys = int('quotaKeys', DEFAULTS.quotaKeys, 1, 100_000_000)
  const cacheMaxBytes = int('cacheMaxMb', DEFAULTS.cacheMaxMb, 8, 1_048_576) * 1024 * 1024
  const maxConnections = int('maxConnections', defaultMaxConnections(), 1, 10_000_000)
  const workerStallSeconds = int('workerStallSeconds', 10, 1, 3600)
  const auditFailure = raw.auditFailure ?? DEFAULTS.auditFailure
  if (auditFailure !== 'refuse' && auditFailure !== 'continue') {
    problems.push(`auditFailure (MACAW_AUDIT_FAILURE) must be refuse or continue, got '${auditFailure}'`)
  }
  const throttleSetting = raw.throttle ?? DEFAULTS.throttle
  let throttle: ThrottleRules | undefined
  try {
    throttle = loadThrottleRules(throttleSetting === 'off' || throttleSetting === 'aws' ? throttleSetting : resolve(throttleSetting))
  } catch (err) {
    problems.push(`throttle (MACAW_THROTTLE) must be off, aws or a JSON/YAML file of rates: ${(err as Error).message}`)
  }
  const audit = raw.audit ?? DEFAULTS.audit
  if (audit !== 'on' && audit !== 'off') problems.push(`audit (MACAW_AUDIT) must be on or off, got '${audit}'`)
  const consoleSetting = raw.console ?? DEFAULTS.console
  if (consoleSetting !== 'on' && consoleSetting !== 'off') problems.push(`console (MACAW_CONSOLE) must be on or off, got '${consoleSetting}'`)
  if ((raw.tlsCert === undefined) !== (raw.tlsKey === undefined)) {
    problems.push('tlsCert (MACAW_TLS_CERT) and tlsKey (MACAW_TLS_KEY) must be set together')
  }

  const region = raw.region ?? DEFAULTS.region
  // Private Regions beside AWS's, comma-separated; each must look like a Region name.
  const extraRegions = (raw.regions ?? '').split(',').map((r) => r.trim()).filter((r) => r !== '')
  for (const r of extraRegions) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(r)) problems.push(`regions (MACAW_REGIONS): '${r}' must be 1 to 32 lower-case letters, digits and hyphens`)
  }
  const regions: ReadonlySet<string> = new Set([...AWS_REGIONS, ...extraRegions, region])
  if (!REGION.test(region)) problems.push(`region (MACAW_REGION) '${region}' is not an AWS region name such as us-east-1`)
  const accountId = raw.accountId ?? DEFAULTS.accountId
  if (!/^\d{12}$/.test(accountId)) problems.push(`accountId (MACAW_ACCOUNT_ID) must be 12 digits, got '${accountId}'`)
  const partition = raw.partition ?? DEFAULTS.partition
  if (!/^aws(-[a-z]+)*$/.test(partition)) problems.push(`partition (MACAW_PARTITION) '${partition}' is not an AWS partition name`)
  const logLevel = raw.logLevel ?? DEFAULTS.logLevel
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`logLevel (MACAW_LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}`)

  const dataDir = resolve(raw.dataDir ?? DEFAULTS.dataDir)
  const root = raw.root ?? `file:${join(dataDir, 'root.key')}`
  // Comma-separated (a comma inside a URI is written %2C).
  const extraRoots = (raw.extraRoots ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '')
  let store: StoreConfig = { kind: 'sqlite', path: join(dataDir, 'macaw.db') }
  if (raw.store !== undefined && raw.store !== 'sqlite') {
    if (/^postgres(ql)?:\/\//.test(raw.store)) store = { kind: 'postgres', url: raw.store }
    else if (raw.store.startsWith('sqlite:')) store = { kind: 'sqlite', path: resolve(raw.store.slice('sqlite:'.length)) }
    else problems.push(`store (MACAW_STORE) must be sqlite, sqlite:<path> or postgres://user:password@host/db, got '${redactStoreUrl(raw.store)}'`)
  }
  if (raw.storePasswordFile !== undefined) {
    // The password out of argv and environment listings: read from a file, put into the URL here.
    if (store.kind !== 'postgres') problems.push('storePasswordFile (MACAW_STORE_PASSWORD_FILE) is for a postgres:// store')
    else {
      try {
        const url = new URL(store.url)
        url.password = encodeURIComponent(readFileSync(raw.storePasswordFile, 'utf8').replace(/\r?\n$/, ''))
        store = { kind: 'postgres', url: url.toString() }
      } catch (err) {
        problems.push(`storePasswordFile: cannot read ${raw.storePasswordFile}: ${(err as Error).message}`)
      }
    }
  }

  let rootSecretAccessKey = raw.rootSecretAccessKey
  if (rootSecretAccessKey === undefined && raw.rootSecretAccessKeyFile !== undefined) {
    try {
      rootSecretAccessKey = readFileSync(raw.rootSecretAccessKeyFile, 'utf8').trim()
    } catch (err) {
      problems.push(`rootSecretAccessKeyFile: cannot read ${raw.rootSecretAccessKeyFile}: ${(err as Error).message}`)
    }
  }
  const rootAccessKeyId = raw.rootAccessKeyId
  if ((rootAccessKeyId === undefined) !== (rootSecretAccessKey === undefined)) {
    problems.push('MACAW_ROOT_ACCESS_KEY_ID and MACAW_ROOT_SECRET_ACCESS_KEY must be set together')
  }
  if (rootAccessKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(rootAccessKeyId)) {
    problems.push('MACAW_ROOT_ACCESS_KEY_ID must be 16 to 128 upper-case letters and digits')
  }
  if (rootSecretAccessKey !== undefined && rootSecretAccessKey.length < 16) {
    problems.push('MACAW_ROOT_SECRET_ACCESS_KEY must be at least 16 characters')
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return Object.freeze({
    host: raw.host ?? DEFAULTS.host,
    port,
    dataDir,
    region,
    regions,
    accountId,
    partition,
    root,
    extraRoots: Object.freeze(extraRoots),
    store: Object.freeze(store),
    ...(rootAccessKeyId === undefined ? {} : { rootAccessKeyId }),
    ...(rootSecretAccessKey === undefined ? {} : { rootSecretAccessKey }),
    maxBodyBytes,
    clockSkewMs,
    sweepIntervalMs,
    cacheTtlMs,
    logLevel,
    workers,
    audit: Object.freeze({
      enabled: audit === 'on',
      ...(raw.auditFile === undefined ? {} : { file: resolve(raw.auditFile) }),
      flushIntervalMs: auditFlushMs,
      retentionDays: auditRetentionDays,
      onFailure: auditFailure === 'continue' ? 'continue' : 'refuse',
      summaryIntervalMs: auditSummaryMs,
      verifyIntervalMs: auditVerifyMs,
    }),
    quotaKeys,
    cacheMaxBytes,
    throttle,
    maxConnections,
    workerStallMs: workerStallSeconds * 1000,
    console: consoleSetting === 'on',
    ...(raw.seed === undefined ? {} : { seed: resolve(raw.seed) }),
    ...(raw.tlsCert !== undefined && raw.tlsKey !== undefined
      ? { tls: Object.freeze({ certFile: resolve(raw.tlsCert), keyFile: resolve(raw.tlsKey) }) }
      : {}),
  })
}

/** The effective config with secrets redacted, for `serve --print-config`. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    store: config.store.kind === 'postgres' ? { kind: 'postgres', url: redactStoreUrl(config.store.url) } : config.store,
    ...(config.rootSecretAccessKey === undefined ? {} : { rootSecretAccessKey: '<redacted>' }),
    throttle: config.throttle ?? 'off',
    // A pkcs11: URI may carry the token PIN itself.
    root: describeRootUri(config.root),
    extraRoots: config.extraRoots.map(describeRootUri),
    regions: [...config.regions].sort(),
    dataDir: isAbsolute(config.dataDir) ? config.dataDir : resolve(config.dataDir),
  }
}
