// `macaw backup <file>` and `macaw restore <file>`: a consistent online snapshot of the SQLite
// store (key material and secrets stay sealed; the root key is NOT in it and must be kept
// separately), and restoring one into an empty data directory.
import { constants, copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { buildConfig, fromEnv, type RawSettings } from '../config.js'
import { openSqliteStore, sqliteFiles, SqliteStore } from '../store/sqlite/index.js'
import { openStore } from '../store/index.js'
import { describeRootUri } from '../trust/index.js'
import { openConfiguredRoots } from '../trust/ring.js'
import { sealedUnder, trialOpen } from '../trial-open.js'
import { AdminError, NOTHING_THERE } from './admin.js'

export async function backup(file: string, flags: RawSettings): Promise<void> {
  const config = buildConfig(fromEnv(flags))
  if (config.store.kind !== 'sqlite') {
    throw new AdminError('macaw backup copies the SQLite store; back up PostgreSQL with pg_dump (secrets in it are sealed too)')
  }
  if (!existsSync(config.store.path)) throw new AdminError(`no store at ${config.store.path}`, NOTHING_THERE)
  if (existsSync(file)) throw new AdminError(`${file} exists; choose a new file`)
  const store = await openStore(config.store, { watchChanges: false })
  try {
    if (!(store instanceof SqliteStore)) throw new AdminError('not a SQLite store')
    await store.backupTo(file)
    const keys = await store.countKeys()
    process.stdout.write(`backup written to ${file}: ${keys} key(s); keep the root key (${describeRootUri(config.root)}) safe separately: without it the backup is useless\n`)
  } finally {
    await store.close()
  }
}

export async function restore(file: string, flags: RawSettings): Promise<void> {
  const config = buildConfig(fromEnv(flags))
  if (config.store.kind !== 'sqlite') throw new AdminError('macaw restore writes a SQLite store')
  const target = config.store.path
  if (existsSync(target)) throw new AdminError(`${target} exists: restore only into an empty data directory`)
  if (!existsSync(file)) throw new AdminError(`no backup file ${file}`)
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  copyFileSync(file, target, constants.COPYFILE_EXCL)
  try {
    const store = openSqliteStore({ path: target, pollIntervalMs: 0 })
    try {
      const check = store.integrityCheck()
      if (check !== 'ok') throw new AdminError(`the backup is damaged: ${check}`)
      const needed = await sealedUnder(store)
      const hint = needed.length === 0 ? '' : ` The backup's secrets are sealed under root ${needed.join(', ')}: give --root (or --extra-roots) the root key the original data directory used, never a new one.`
      const roots = await openConfiguredRoots(config, { createIfMissing: false }).catch((err: unknown) => {
        throw new AdminError(`cannot open the root of trust: ${err instanceof Error ? err.message : String(err)}.${hint}`, NOTHING_THERE)
      })
      try {
        // Open a sample of the sealed secrets for real, with the configured roots alone.
        const failed = await trialOpen(store, roots, config.partition)
        if (failed > 0) {
          throw new AdminError(`the configured roots of trust (ids ${roots.ids.join(', ')}) cannot open ${failed} sampled secret(s) of this backup.${hint}`)
        }
      } finally {
        await roots.close()
      }
      process.stdout.write(`restored ${await store.countKeys()} key(s) into ${target}\n`)
    } finally {
      await store.close()
    }
  } catch (err) {
    for (const f of sqliteFiles(target)) rmSync(f, { force: true })
    throw err
  }
}
