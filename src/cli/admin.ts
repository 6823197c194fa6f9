// What admin commands share: the configuration from flags and environment, the store and the root
// of trust, opened for one command and closed after it.
import { existsSync } from 'node:fs'
import { buildConfig, fromEnv, type Config, type RawSettings } from '../config.js'
import { parseKeyIdentifier } from '../keys/arn.js'
import { locateKey, type KeyLocation } from '../keys/resolve.js'
import { KmsError } from '../protocol/errors.js'
import { openDeployment, type Deployment } from '../service/open.js'
import type { Store } from '../store/store.js'
import { RootOfTrustError } from '../trust/index.js'
import type { RootRing } from '../trust/ring.js'

/**
 * A mistake in an admin command's input or target; printed without a stack. Exit code 1, or 2
 * when there is nothing to work on (no store, no root of trust): admin commands never create them.
 */
export class AdminError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.name = 'AdminError'
    this.exitCode = exitCode
  }
}

/** Exit code of an admin command run where there is no store or root of trust to work on. */
export const NOTHING_THERE = 2

/** AdminError (exit 2) unless the configured SQLite store exists; a command must not create it. */
export function requireStore(config: Config): void {
  if (config.store.kind === 'sqlite' && !existsSync(config.store.path)) {
    throw new AdminError(
      `no store at ${config.store.path}: run this command with the --data-dir (or --store) of a server that has been started (macaw serve creates it)`,
      NOTHING_THERE,
    )
  }
}

/**
 * The key a command names, in any form DescribeKey takes (key id, key ARN, alias name, alias ARN),
 * in the configured account and region unless an ARN names others. AdminError when there is none.
 */
export async function locateAdminKey(config: Config, store: Store, text: string): Promise<KeyLocation> {
  const parsed = parseKeyIdentifier(text)
  const region = parsed.form === 'keyArn' || parsed.form === 'aliasArn' ? parsed.region : config.region
  try {
    return await locateKey(
      { partition: config.partition, accountId: config.accountId, region, aliasTarget: async (a, r, n) => (await store.getAlias(a, r, n))?.keyId },
      text,
      'any',
    )
  } catch (err) {
    if (err instanceof KmsError) throw new AdminError(err.message)
    throw err
  }
}

export interface Admin {
  readonly config: Config
  readonly store: Store
  readonly root: RootRing
}

/**
 * Opens the store and the root of trust of an existing deployment; never creates either (only
 * `serve` and `root init` do): a command run in the wrong directory must say so, not start an
 * empty store beside the real one or seal secrets under a new root nobody else has.
 */
export async function withAdmin<T>(flags: RawSettings, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const config = buildConfig(fromEnv(flags))
  requireStore(config)
  let deployment: Deployment
  try {
    deployment = await openDeployment(config, { create: false, watchChanges: false })
  } catch (err) {
    if (!(err instanceof RootOfTrustError)) throw err
    throw new AdminError(
      `${err.message}. Use the roots the store was sealed with (--root, or the root key file of its data directory, and --extra-roots); a new root cannot open it.`,
      NOTHING_THERE,
    )
  }
  const { store, root: ring } = deployment
  try {
    // Seal with the store's current root when it is configured here (trust/ring.ts).
    if (ring.problem !== undefined) process.stderr.write(`warning: ${ring.problem} (--root, --extra-roots): sealing with ${ring.description}\n`)
    return await fn({ config, store, root: ring })
  } finally {
    await store.close()
    await ring.close()
  }
}

