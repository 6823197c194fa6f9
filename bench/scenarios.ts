// The benchmark scenarios: which operation, message size, connection count and key set each one
// drives. docs/performance.md explains what each measures.

export const SCENARIO_NAMES = [
  'gm64-c64',
  'gm4k-c64',
  'verify-c64',
  'gm64-c1',
  'gm64-c1-audit-off',
  'keys100k',
  'createkey',
  'gm64-audit-off',
  'gm64-workers2',
  'gm64-postgres',
  'gm64-user',
  'gm64-session',
  'gm64-throttle',
] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

export type Operation = 'GenerateMac' | 'VerifyMac' | 'CreateKey'

export interface Scenario {
  readonly name: ScenarioName
  readonly description: string
  readonly operation: Operation
  readonly messageBytes: number
  readonly connections: number
  /** `many`: requests rotate over a large key set (the --keys option) instead of one key. */
  readonly keys: 'one' | 'many'
  /** Whether the baseline runs too; CreateKey has no baseline (it keeps no keys). */
  readonly compared: boolean
  /** Extra environment for macaw (audit off, workers, store). */
  readonly macawEnv?: Readonly<Record<string, string>>
  /** Workers of both servers; both then run on every CPU (the load generator shares one). */
  readonly workers?: number
  /** Needs MACAW_BENCH_POSTGRES_URL; skipped without it. */
  readonly postgres?: boolean
  /** macaw's requests are signed by an IAM user (long-term key) or a role session with the same policy. */
  readonly signer?: 'user' | 'session'
}

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  'gm64-c64': {
    name: 'gm64-c64',
    description: 'GenerateMac, 64 B message, one key, 64 connections: throughput of the hot path',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
  },
  'gm4k-c64': {
    name: 'gm4k-c64',
    description:
      'GenerateMac, 4 KiB message (the KMS maximum), one key, 64 connections: body and hashing cost',
    operation: 'GenerateMac',
    messageBytes: 4096,
    connections: 64,
    keys: 'one',
    compared: true,
  },
  'verify-c64': {
    name: 'verify-c64',
    description: 'VerifyMac, 64 B message, one key, 64 connections',
    operation: 'VerifyMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
  },
  'gm64-c1': {
    name: 'gm64-c1',
    description: 'GenerateMac, 64 B message, one key, 1 connection: unloaded latency',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 1,
    keys: 'one',
    compared: true,
  },
  'gm64-c1-audit-off': {
    name: 'gm64-c1-audit-off',
    description: 'As gm64-c1 with the audit trail off: what auditing adds to unloaded latency (compare with gm64-c1)',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 1,
    keys: 'one',
    compared: true,
    macawEnv: { MACAW_AUDIT: 'off' },
  },
  keys100k: {
    name: 'keys100k',
    description:
      'GenerateMac, 64 B message, 64 connections, a random key per request out of --keys keys: key cache misses',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'many',
    compared: true,
  },
  createkey: {
    name: 'createkey',
    description: 'CreateKey HMAC_256, 64 connections: keys created per second (macaw only)',
    operation: 'CreateKey',
    messageBytes: 0,
    connections: 64,
    keys: 'one',
    compared: false,
  },
  'gm64-user': {
    name: 'gm64-user',
    description: 'As gm64-c64, signed by an IAM user (long-term key) whose identity policy allows kms:*',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
    signer: 'user',
  },
  'gm64-session': {
    name: 'gm64-session',
    description: 'As gm64-user, signed with temporary credentials of a role with the same policy (compare with gm64-user)',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
    signer: 'session',
  },
  'gm64-throttle': {
    name: 'gm64-throttle',
    description: "As gm64-c64 with --throttle aws: what enforcing AWS's request quotas costs (compare with gm64-c64)",
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
    macawEnv: { MACAW_THROTTLE: 'aws' },
  },
  'gm64-audit-off': {
    name: 'gm64-audit-off',
    description: 'As gm64-c64 with the audit trail off: what auditing costs (compare with gm64-c64)',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
    macawEnv: { MACAW_AUDIT: 'off' },
  },
  'gm64-workers2': {
    name: 'gm64-workers2',
    description: 'As gm64-c64 with macaw --workers 2 against a 2-worker baseline, servers on both CPUs',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
    workers: 2,
  },
  'gm64-postgres': {
    name: 'gm64-postgres',
    description: 'As gm64-c64 on the PostgreSQL store (MACAW_BENCH_POSTGRES_URL): compare with gm64-c64 on SQLite',
    operation: 'GenerateMac',
    messageBytes: 64,
    connections: 64,
    keys: 'one',
    compared: true,
    postgres: true,
  },
}

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name)
}

export const CREATE_KEY_FIELDS = { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' } as const
