// `macaw root init`: create the root key ahead of time; `macaw root rotate`: move every stored
// secret to a new root of trust.
import { CHAIN_KEY_CONTEXT, CHAIN_KEY_SETTING } from '../audit/chain-key.js'
import { SESSION_KEY_CONTEXT, SESSION_KEY_SETTING } from '../auth/session-token.js'
import { secretContext } from '../auth/principals.js'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { buildConfig, fromEnv, type RawSettings } from '../config.js'
import { envelopeRootId, keyMaterialContext, rewrap } from '../crypto/envelope.js'
import { keyArn } from '../keys/arn.js'
import { importKeyContext } from '../keys/import.js'
import { StoreConflictError, type KeyRecord } from '../store/store.js'
import { filePathOf, initRoot, openRootOfTrust } from '../trust/index.js'
import { CURRENT_ROOT } from '../trust/ring.js'
import type { RootOfTrust } from '../trust/root-of-trust.js'
import { AdminError, withAdmin, type Admin } from './admin.js'

export async function rootInit(flags: RawSettings): Promise<void> {
  const config = buildConfig(fromEnv(flags))
  const uri = config.root
  if (uri.startsWith('file:')) mkdirSync(dirname(resolve(filePathOf(uri))), { recursive: true, mode: 0o700 })
  const { created, root } = await initRoot(uri)
  process.stdout.write(`${created ? 'created' : 'exists'}: ${root.description} (id ${root.id})\n`)
  await root.close()
}

export interface RotateFlags extends RawSettings {
  to: string
}

/**
 * `macaw root rotate --to <uri>`: makes `uri` the current root of trust (the store records its id)
 * and re-wraps every stored secret under it, while servers keep serving: servers that have the new
 * root among their configured roots (`--extra-roots`) seal with it within seconds, and every
 * envelope opens under the old or the new root throughout. Each envelope is replaced atomically
 * (compare-and-set), so an interrupted rotation loses nothing: run it again to finish.
 */
export async function rootRotate(flags: RotateFlags): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const { store, root: ring } = admin
    const opened = await openRootOfTrust(flags.to, { createIfMissing: true })
    const next = ring.use(opened)
    if (next !== opened) await opened.close()
    await store.putSetting(CURRENT_ROOT, next.id)
    let total = 0
    for (let pass = 1; ; pass++) {
      const { moved, left } = await rewrapAll(admin, next)
      total += moved
      process.stdout.write(`pass ${pass}: re-wrapped ${moved} secret(s); ${left} still under another root\n`)
      if (left === 0) break
      if (pass >= 20) throw new AdminError(`${left} secret(s) kept changing under another root; run the rotation again`)
    }
    process.stdout.write(
      `root of trust rotated to ${next.description} (id ${next.id}); ${total} secret(s) re-wrapped. ` +
        'Servers seal with it once it is among their roots; keep the old root in --extra-roots until every server runs with --root set to the new one.\n',
    )
  })
}

/** One pass over every envelope in the store; envelopes changed meanwhile are left for the next. */
async function rewrapAll(admin: Admin, next: RootOfTrust): Promise<{ moved: number; left: number }> {
  const { store, root: ring, config } = admin
  let moved = 0
  let left = 0
  let after: string | undefined
  do {
    const page = await store.scanKeys(after, 200)
    after = page.next
    for (const key of page.items) {
      const arn = keyArn(config.partition, key.region, key.accountId, key.keyId)
      const material = key.material !== undefined && envelopeRootId(key.material) !== next.id ? key.material : undefined
      const params = key.importParameters
      const privateKey = params !== undefined && envelopeRootId(params.privateKey) !== next.id ? params.privateKey : undefined
      if (material === undefined && privateKey === undefined) continue
      let updated: KeyRecord = key
      if (material !== undefined) updated = { ...updated, material: await rewrap(material, ring, next, keyMaterialContext(arn)) }
      if (privateKey !== undefined && params !== undefined) {
        updated = { ...updated, importParameters: { ...params, privateKey: await rewrap(privateKey, ring, next, importKeyContext(arn, params.tokenDigest)) } }
      }
      try {
        await store.updateKey(updated)
        moved++
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err
        left++ // changed meanwhile: the next pass reads it again
      }
    }
  } while (after !== undefined)
  // The audit chain key (audit/chain-key.ts) and the session-token key (auth/session-token.ts).
  for (const [setting, context] of [
    [CHAIN_KEY_SETTING, CHAIN_KEY_CONTEXT],
    [SESSION_KEY_SETTING, SESSION_KEY_CONTEXT],
  ] as const) {
    const sealed = await store.getSetting(setting)
    if (sealed === undefined || envelopeRootId(Buffer.from(sealed, 'base64')) === next.id) continue
    const rewrapped = await rewrap(Buffer.from(sealed, 'base64'), ring, next, context)
    await store.putSetting(setting, rewrapped.toString('base64'))
    moved++
  }
  for (const key of await store.listAllAccessKeys()) {
    if (envelopeRootId(key.secret) === next.id) continue
    const secret = await rewrap(key.secret, ring, next, secretContext(key.accessKeyId))
    if (await store.replaceAccessKeySecret(key.accessKeyId, key.secret, secret)) moved++
    else if (await store.getAccessKey(key.accessKeyId)) left++
  }
  return { moved, left }
}
