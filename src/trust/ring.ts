// The roots of trust a service uses: the current one (which seals) and every earlier one that may
// still have sealed something (which only open). The store names them (settings `root.current`
// and `root.known.<id>`, URIs without secrets), so a root rotation made by `macaw root rotate`
// while servers run is followed by every node: an envelope under an unknown root id is opened by
// looking its root up in the store. The ring is itself a RootOfTrust that seals with the current
// root, so code that seals and opens envelopes does not change.
import type { RootOfTrust } from './root-of-trust.js'
import type { RootSource } from '../crypto/envelope.js'
import type { Store } from '../store/store.js'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { filePathOf, openRootOfTrust, RootOfTrustError } from './index.js'

export const CURRENT_ROOT = 'root.current'
export const knownRoot = (id: string): string => `root.known.${id}`

/** Root URIs go into the store only without secrets (a PIN must come from a pin-source file). */
export function storableRootUri(uri: string): boolean {
  return !/[;?&]pin-value=/i.test(uri)
}

/** Stands for the data directory of whoever reads the store (a restore may put it elsewhere). */
const DATA_DIR = '{data-dir}/'

/**
 * How a root URI is written into the store: a file root inside the data directory relative to it,
 * so that a store copied or restored into another directory uses that directory's root key, never
 * the old directory's (which may still exist on the same machine, or be gone later).
 */
export function toStoredRootUri(uri: string, dataDir: string): string {
  if (!uri.startsWith('file:')) return uri
  const path = resolve(filePathOf(uri))
  const rel = relative(resolve(dataDir), path)
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return `file:${DATA_DIR}${rel}`
  return `file:${path}`
}

/** The URI to open for one read from the store (see toStoredRootUri). */
export function fromStoredRootUri(stored: string, dataDir: string): string {
  return stored.startsWith(`file:${DATA_DIR}`) ? `file:${join(resolve(dataDir), stored.slice(`file:${DATA_DIR}`.length))}` : stored
}

export class RootRing implements RootOfTrust, RootSource {
  private current: RootOfTrust
  private readonly byId = new Map<string, RootOfTrust>()
  private readonly opening = new Map<string, Promise<RootOfTrust | undefined>>()
  private readonly store: Store
  /** The store's `root.current` as last followed (in its stored form). */
  private currentUri: string | undefined
  private readonly dataDir: string

  constructor(configured: RootOfTrust, store: Store, dataDir: string) {
    this.current = configured
    this.byId.set(configured.id, configured)
    this.store = store
    this.dataDir = dataDir
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

  wrapKey(dataKey: Buffer): Promise<Buffer> {
    return this.current.wrapKey(dataKey)
  }

  unwrapKey(wrapped: Buffer): Promise<Buffer> {
    return this.current.unwrapKey(wrapped)
  }

  /** The root with this id: in memory, or opened from the URI the store knows for it. */
  rootFor(rootId: string): Promise<RootOfTrust | undefined> {
    const known = this.byId.get(rootId)
    if (known !== undefined) return Promise.resolve(known)
    let pending = this.opening.get(rootId)
    if (pending === undefined) {
      pending = this.openKnown(rootId).finally(() => this.opening.delete(rootId))
      this.opening.set(rootId, pending)
    }
    return pending
  }

  private async openKnown(rootId: string): Promise<RootOfTrust | undefined> {
    const stored = await this.store.getSetting(knownRoot(rootId))
    if (stored === undefined) return undefined
    const root = await openRootOfTrust(fromStoredRootUri(stored, this.dataDir), { createIfMissing: false })
    if (root.id !== rootId) {
      await root.close()
      throw new RootOfTrustError(`the root of trust at ${root.description} is not root ${rootId}`)
    }
    this.byId.set(root.id, root)
    return root
  }

  /** Records the configured root's URI (so other processes can open its envelopes). */
  async register(root: RootOfTrust, uri: string): Promise<void> {
    this.byId.set(root.id, root)
    if (!storableRootUri(uri)) return
    const stored = toStoredRootUri(uri, this.dataDir)
    const existing = await this.store.getSetting(knownRoot(root.id))
    // The first registration names the root; an absolute path to a root now found inside the data
    // directory (a store written before relative paths) is rewritten to the relative form.
    if (existing === undefined || (existing !== stored && stored.startsWith(`file:${DATA_DIR}`) && existing.startsWith('file:'))) {
      await this.store.putSetting(knownRoot(root.id), stored)
    }
  }

  /** Follows the store's current root (after a rotation). Returns true when it changed. */
  async refresh(): Promise<boolean> {
    const stored = await this.store.getSetting(CURRENT_ROOT)
    if (stored === undefined || stored === this.currentUri) return false
    const uri = fromStoredRootUri(stored, this.dataDir)
    let root: RootOfTrust
    try {
      root = await openRootOfTrust(uri, { createIfMissing: false })
    } catch (err) {
      throw new RootOfTrustError(`the store's current root of trust ${uri} cannot be opened here`, { cause: err })
    }
    this.currentUri = stored
    const existing = this.byId.get(root.id)
    if (existing !== undefined) {
      await root.close()
      root = existing
    }
    this.byId.set(root.id, root)
    const changed = root !== this.current
    this.current = root
    return changed
  }

  /** Makes `root` (found at `uri`) current for this process (the rotation command). */
  use(root: RootOfTrust, uri: string): void {
    this.byId.set(root.id, root)
    this.current = root
    this.currentUri = toStoredRootUri(uri, this.dataDir)
  }

  /** `uri` as root.current should hold it. */
  storedForm(uri: string): string {
    return toStoredRootUri(uri, this.dataDir)
  }

  async close(): Promise<void> {
    for (const root of new Set(this.byId.values())) await root.close()
    this.byId.clear()
  }
}
