// The roots of trust a process uses: the ones it is configured with (`--root`, and
// `--extra-roots` for a rotation or a restore), found by the id each envelope names. One of them
// seals: `--root`, unless the store names another configured root as current (setting
// `root.current`, the root's id: `macaw root rotate` writes it, and every node follows it within
// seconds). The store holds ids only, never a path or URI, so a store copied, restored or shared
// can only ever be opened with roots its operator configured. The ring is itself a RootOfTrust that
// seals with the current root, so code that seals and opens envelopes does not change.
import type { RootOfTrust } from './root-of-trust.js'
import type { RootSource } from '../crypto/envelope.js'
import type { Store } from '../store/store.js'
import { describeRootUri, openRootOfTrust, RootOfTrustError } from './index.js'

/** The setting naming the id of the root that seals (written by `macaw root rotate`). */
export const CURRENT_ROOT = 'root.current'

/** Root ids are 16 hex digits (an older macaw stored a URI under `root.current`: ignored). */
const ROOT_ID = /^[0-9a-f]{16}$/

export class RootRing implements RootOfTrust, RootSource {
  private current: RootOfTrust
  private readonly configured: RootOfTrust
  private readonly byId = new Map<string, RootOfTrust>()
  /** Set while the store names a current root this process is not configured with. */
  private missing: string | undefined

  /** `roots[0]` is `--root`; the others are `--extra-roots`. */
  constructor(roots: readonly RootOfTrust[]) {
    const first = roots[0]
    if (first === undefined) throw new RootOfTrustError('no root of trust configured')
    this.configured = first
    this.current = first
    for (const root of roots) {
      const other = this.byId.get(root.id)
      if (other !== undefined) throw new RootOfTrustError(`${root.description} and ${other.description} are the same root (id ${root.id})`)
      this.byId.set(root.id, root)
    }
  }

  get id(): string {
    return this.current.id
  }

  get description(): string {
    return this.current.description
  }

  /** The root that seals new secrets. */
  get sealing(): RootOfTrust {
    return this.current
  }

  /** The ids of every configured root. */
  get ids(): string[] {
    return [...this.byId.keys()]
  }

  /** What is wrong with the configuration, for /readyz: a current root this process lacks. */
  get problem(): string | undefined {
    return this.missing === undefined ? undefined : `root of trust: the store's current root ${this.missing} is not configured here`
  }

  wrapKey(dataKey: Buffer): Promise<Buffer> {
    return this.current.wrapKey(dataKey)
  }

  unwrapKey(wrapped: Buffer): Promise<Buffer> {
    return this.current.unwrapKey(wrapped)
  }

  /** The configured root with this id. */
  rootFor(rootId: string): Promise<RootOfTrust | undefined> {
    return Promise.resolve(this.byId.get(rootId))
  }

  /**
   * Follows the store's current root (after a rotation). Returns true when the sealing root
   * changed. A current root this process is not configured with leaves it sealing with `--root`
   * (still openable everywhere the rotation is done from) and is reported by `problem`.
   */
  async refresh(store: Store): Promise<boolean> {
    const stored = await store.getSetting(CURRENT_ROOT)
    const wanted = stored !== undefined && ROOT_ID.test(stored) ? stored : this.configured.id
    const root = this.byId.get(wanted)
    this.missing = root === undefined ? wanted : undefined
    const next = root ?? this.configured
    const changed = next !== this.current
    this.current = next
    return changed
  }

  /**
   * Makes `root` current for this process (the rotation command), adding it if it is new. Returns
   * the root now current: an already configured root with the same id, which the caller's copy
   * then duplicates.
   */
  use(root: RootOfTrust): RootOfTrust {
    const known = this.byId.get(root.id)
    if (known === undefined) this.byId.set(root.id, root)
    this.current = known ?? root
    this.missing = undefined
    return this.current
  }

  async close(): Promise<void> {
    for (const root of new Set(this.byId.values())) await root.close()
    this.byId.clear()
  }
}

/**
 * Opens `--root` (created if missing only when `createIfMissing`) and every `--extra-roots` (never
 * created: a root that should open old envelopes cannot be new). Closes what it opened on failure.
 */
export async function openConfiguredRoots(config: { readonly root: string; readonly extraRoots: readonly string[] }, options: { createIfMissing: boolean }): Promise<RootRing> {
  const opened: RootOfTrust[] = []
  try {
    const openOne = async (uri: string, createIfMissing: boolean, what: string): Promise<void> => {
      try {
        opened.push(await openRootOfTrust(uri, { createIfMissing }))
      } catch (err) {
        throw new RootOfTrustError(`cannot open the ${what} ${describeRootUri(uri)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
    }
    await openOne(config.root, options.createIfMissing, 'root of trust')
    for (const uri of config.extraRoots) await openOne(uri, false, 'extra root of trust')
    return new RootRing(opened)
  } catch (err) {
    for (const root of opened) await root.close()
    throw err
  }
}
