// What admin commands share: the configuration from flags and environment, the store and the root
// of trust, opened for one command and closed after it.
import { mkdirSync } from 'node:fs'
import { buildConfig, fromEnv, type Config, type RawSettings } from '../config.js'
import { openStore } from '../store/index.js'
import type { Store } from '../store/store.js'
import { openRootOfTrust } from '../trust/index.js'
import { RootRing } from '../trust/ring.js'

/** A mistake in an admin command's input or target; printed without a stack, exit code 1. */
export class AdminError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AdminError'
  }
}

export interface Admin {
  readonly config: Config
  readonly store: Store
  readonly root: RootRing
}

export async function withAdmin<T>(flags: RawSettings, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const config = buildConfig(fromEnv(flags))
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const configured = await openRootOfTrust(config.root, { createIfMissing: true })
  let store: Store
  try {
    store = await openStore(config.store, { watchChanges: false })
  } catch (err) {
    await configured.close()
    throw err
  }
  // Seal with the store's current root (after a rotation), open with any root it knows.
  const ring = new RootRing(configured, store)
  try {
    await ring.register(configured, config.root)
    await ring.refresh()
    return await fn({ config, store, root: ring })
  } finally {
    await store.close()
    await ring.close()
  }
}

