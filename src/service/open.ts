// Composition: opening a deployment (its roots of trust and its store) is shared by `serve` and
// the admin commands; `openService` then builds the service of one process on it (audit chain key,
// the account root user's credentials, the seed) and starts its background work.
import { mkdirSync } from 'node:fs'
import type { Logger } from 'pino'
import { loadChainKey, type ChainKey } from '../audit/chain-key.js'
import { newAccessKeyId, newSecretAccessKey, secretContext } from '../auth/principals.js'
import { loadSessionKey } from '../auth/session-token.js'
import type { Config } from '../config.js'
import { open as openEnvelope, seal } from '../crypto/envelope.js'
import { openStore } from '../store/index.js'
import type { Store } from '../store/store.js'
import { openConfiguredRoots, type RootRing } from '../trust/ring.js'
import type * as SeedModule from '../seed.js'
import type { Kms, KmsOptions } from './kms.js'

export interface Deployment {
  readonly store: Store
  readonly root: RootRing
}

/**
 * Opens the configured roots of trust (creating `--root` only when `create`) and the store, and
 * follows the store's current root. Closes what it opened if a step fails.
 */
export async function openDeployment(config: Config, options: { create: boolean; watchChanges?: boolean }): Promise<Deployment> {
  const root = await openConfiguredRoots(config, { createIfMissing: options.create })
  try {
    const store = await openStore(config.store, options.watchChanges === false ? { watchChanges: false } : {})
    try {
      // Envelopes open with the configured root they name; the store may name another configured
      // root current after a rotation (trust/ring.ts).
      await root.refresh(store)
      return { store, root }
    } catch (err) {
      await store.close()
      throw err
    }
  } catch (err) {
    await root.close()
    throw err
  }
}

/** What a deployment's first process makes once: its data directory, keys and credentials, and the seed. */
export interface PrepareOptions {
  readonly logger: Logger
  readonly now?: () => number
  readonly onGeneratedCredentials?: (accessKeyId: string, secretAccessKey: string) => void
}

/**
 * Prepares the deployment for the processes that will serve it, and leaves it closed: the data
 * directory, the store (migrated) and the roots, the audit chain key and the session-token key,
 * the account root user's credentials and the seed. `serve --workers N` runs it in the primary,
 * which serves nothing itself: it builds no service (no audit writer thread, no timers).
 */
export async function prepareDeployment(config: Config, options: PrepareOptions): Promise<void> {
  const seed = await readSeedFile(config)
  const { store, root } = await openPrepared(config, options.logger)
  try {
    await prepare(store, root, config, options, seed)
  } finally {
    await store.close()
    await root.close()
  }
}

/** Opens the data directory, store and roots, and the service of this process on them. */
export async function openService(config: Config, options: KmsOptions): Promise<Kms> {
  // The service loads here, not with the admin commands that share this module.
  const [{ Kms }, seed] = await Promise.all([import('./kms.js'), readSeedFile(config)])
  const { store, root } = await openPrepared(config, options.logger)
  const { logger } = options
  try {
    const now = options.now ?? Date.now
    // A worker's deployment was prepared by its primary; it only reads the keys.
    const { chainKey, sessionKey } = options.prepared === true ? await serviceKeys(store, root, false) : await prepare(store, root, config, options, seed)
    const kms = new Kms(config, store, root, logger, now, chainKey, sessionKey)
    kms.followRootRotation(logger)
    await kms.audit.start()
    if (config.audit.enabled && config.audit.verifyIntervalMs > 0) kms.chainVerifier.start(config.audit.verifyIntervalMs)
    await kms.services.lastUsage.start(now())
    kms.services.sweeper.start()
    return kms
  } catch (err) {
    await store.close()
    await root.close()
    throw err
  }
}

type Seeding = { readonly seeding: typeof SeedModule; readonly file: ReturnType<typeof SeedModule.readSeed> }

/** The seed file, read before anything is opened or written (a bad one is reported first); the seed reader and its YAML parser load only for one. */
async function readSeedFile(config: Config): Promise<Seeding | undefined> {
  if (config.seed === undefined) return undefined
  const seeding = await import('../seed.js')
  return { seeding, file: seeding.readSeed(config.seed, config) }
}

/** The data directory, and the deployment in it (its root created if missing). */
async function openPrepared(config: Config, logger: Logger): Promise<Deployment> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const deployment = await openDeployment(config, { create: true })
  const { root } = deployment
  if (root.id !== root.ids[0]) logger.info({ root: root.description }, 'sealing with the current root of trust recorded in the store')
  if (root.problem !== undefined) logger.error({ roots: root.ids }, root.problem)
  return deployment
}

/** The keys a service needs, made first when `create` (only once: later starts find them). */
async function serviceKeys(store: Store, root: RootRing, create: boolean): Promise<{ chainKey: ChainKey; sessionKey: Buffer }> {
  // The audit chain is keyed under a key sealed by the root of trust (audit/chain.ts).
  const chainKey = await loadChainKey(store, root, create)
  if (chainKey === undefined) throw new Error('the store has no audit chain key (the primary makes it at start)')
  // Session tokens are sealed under a key sealed by the root of trust (auth/session-token.ts).
  const sessionKey = await loadSessionKey(store, root, create)
  if (sessionKey === undefined) throw new Error('the store has no session-token key (the primary makes it at start)')
  return { chainKey, sessionKey }
}

/** The keys, credentials and seed a deployment's first process makes (each only once: later starts find them); returns the keys. */
async function prepare(store: Store, root: RootRing, config: Config, options: PrepareOptions, seed: Seeding | undefined): Promise<{ chainKey: ChainKey; sessionKey: Buffer }> {
  const now = options.now ?? Date.now
  const keys = await serviceKeys(store, root, true)
  await bootstrapRootCredentials(store, root, config, options.logger, now, options.onGeneratedCredentials)
  if (seed !== undefined) {
    const created = await seed.seeding.applySeed(seed.file, store, root, config.partition, now())
    options.logger.info({ seed: config.seed, ...created }, 'seed applied')
  }
  return keys
}

/**
 * The account root user's bootstrap access key: the configured pair (authoritative: the pair an
 * earlier start recorded is deleted when another is configured, and the log says so), or a
 * generated one on first start without configuration. The store records which pair it was
 * (setting root.bootstrap.<account>), so root keys made with `macaw access-keys create` are
 * never touched.
 */
async function bootstrapRootCredentials(
  store: Store,
  root: RootRing,
  config: Config,
  logger: Logger,
  now: () => number,
  onGenerated: ((id: string, secret: string) => void) | undefined,
): Promise<void> {
  const { accountId, rootAccessKeyId, rootSecretAccessKey } = config
  const setting = `root.bootstrap.${accountId}`
  const insert = async (accessKeyId: string, secretAccessKey: string): Promise<void> => {
    await store.insertAccessKey({
      accessKeyId,
      accountId,
      secret: await seal(root, Buffer.from(secretAccessKey, 'utf8'), secretContext(accessKeyId)),
      status: 'Active',
      createDate: now(),
    })
  }
  if (rootAccessKeyId !== undefined && rootSecretAccessKey !== undefined) {
    const existing = await store.getAccessKey(rootAccessKeyId)
    let current = false
    if (existing) {
      const secret = await openEnvelope(root, existing.secret, secretContext(rootAccessKeyId))
      current = existing.accountId === accountId && existing.userName === undefined && secret.toString('utf8') === rootSecretAccessKey
      secret.fill(0)
      if (!current) await store.deleteAccessKey(rootAccessKeyId)
    }
    if (!current) await insert(rootAccessKeyId, rootSecretAccessKey)
    const previous = await store.getSetting(setting)
    if (previous !== undefined && previous !== rootAccessKeyId && (await store.deleteAccessKey(previous))) {
      logger.warn({ accountId, accessKeyId: previous }, 'the root access key of an earlier configuration no longer matches MACAW_ROOT_ACCESS_KEY_ID and was deleted')
    }
    if (previous !== rootAccessKeyId) await store.putSetting(setting, rootAccessKeyId)
    return
  }
  const keys = await store.listAccessKeys(accountId)
  if (keys.some((k) => k.userName === undefined && k.status === 'Active')) {
    logger.info({ accountId }, 'root credentials exist; for a new pair run `macaw access-keys create --data-dir <dir>` (or set MACAW_ROOT_ACCESS_KEY_ID and MACAW_ROOT_SECRET_ACCESS_KEY)')
    return
  }
  const id = newAccessKeyId()
  const secret = newSecretAccessKey()
  await insert(id, secret)
  await store.putSetting(setting, id)
  onGenerated?.(id, secret)
}
