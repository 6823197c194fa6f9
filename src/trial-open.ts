// Does a root of trust open what a store holds? Used where a wrong root must be caught before
// anything is served: restoring a backup, and /readyz. Opens a sample of envelopes for real (an
// id match alone would not catch a damaged or substituted key file).
import { secretContext } from './auth/principals.js'
import { envelopeRootId, keyMaterialContext, open, type Roots } from './crypto/envelope.js'
import { keyArn } from './keys/arn.js'
import type { IdentityStore, KeyStore } from './store/store.js'

/** How many key envelopes and how many access-key secrets are tried. */
export const TRIAL_SAMPLE = 16

/** The root ids the store's sealed secrets name (from a sample), sorted. */
export async function sealedUnder(store: KeyStore & IdentityStore): Promise<string[]> {
  const ids = new Set<string>()
  for (const blob of await sample(store)) ids.add(envelopeRootId(blob.blob))
  return [...ids].sort()
}

async function sample(store: KeyStore & IdentityStore): Promise<{ blob: Buffer; context: (partition: string) => Buffer }[]> {
  const out: { blob: Buffer; context: (partition: string) => Buffer }[] = []
  const keys = await store.scanKeys(undefined, 200)
  for (const key of keys.items) {
    if (key.material === undefined) continue
    const material = key.material
    out.push({ blob: material, context: (partition) => keyMaterialContext(keyArn(partition, key.region, key.accountId, key.keyId)) })
    if (out.length >= TRIAL_SAMPLE) break
  }
  for (const accessKey of (await store.listAllAccessKeys()).slice(0, TRIAL_SAMPLE)) {
    out.push({ blob: accessKey.secret, context: () => secretContext(accessKey.accessKeyId) })
  }
  return out
}

/** How many of the sampled envelopes `root` (alone) fails to open. */
export async function trialOpen(store: KeyStore & IdentityStore, root: Roots, partition: string): Promise<number> {
  let failed = 0
  for (const { blob, context } of await sample(store)) {
    try {
      const plain = await open(root, blob, context(partition))
      plain.fill(0)
    } catch {
      failed++
    }
  }
  return failed
}
