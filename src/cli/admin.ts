// What admin commands share: the configuration from flags and environment, the store and the root
// of trust, opened for one command and closed after it.
import { mkdirSync } from 'node:fs'
import { buildConfig, fromEnv, type Config, type RawSettings } from '../config.js'
import { openStore } from '../store/index.js'
import type { Store } from '../store/store.js'
import { openRootOfTrust } from '../trust/index.js'
import type { RootOfTrust } from '../trust/root-of-trust.js'

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
  readonly root: RootOfTrust
}

export async function withAdmin<T>(flags: RawSettings, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const config = buildConfig(fromEnv(flags))
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const root = await openRootOfTrust(config.root, { createIfMissing: true })
  try {
    const store = await openStore(config.store, { watchChanges: false })
    try {
      return await fn({ config, store, root })
    } finally {
      await store.close()
    }
  } finally {
    await root.close()
  }
}

