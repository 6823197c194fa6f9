// The registry of root-of-trust providers, chosen by URI scheme: `file:<path>`, and `pkcs11:`
// (RFC 7512, an HSM token; trust/pkcs11.ts, whose native binding loads only when such a root is opened).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createFileRoot, openFileRoot, RootOfTrustError } from './file.js'
import { describePkcs11Uri, openPkcs11Root } from './pkcs11.js'
import type { RootOfTrust } from './root-of-trust.js'

export { RootOfTrustError } from './file.js'

export interface RootProvider {
  /** Opens the root; with createIfMissing, creates it first if it does not exist. */
  open(uri: string, options: { createIfMissing: boolean }): Promise<{ root: RootOfTrust; created: boolean }>
}

const providers = new Map<string, RootProvider>()

export function registerRootProvider(scheme: string, provider: RootProvider): void {
  providers.set(scheme, provider)
}

/** A root URI fit for logs and messages: a pkcs11: URI may carry the token PIN itself. */
export function describeRootUri(uri: string): string {
  return /^pkcs11:/i.test(uri) ? describePkcs11Uri(uri) : uri
}

/** `file:/abs`, `file:///abs` or `file:relative` (to the working directory) -> a path. */
export function filePathOf(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri)
  const path = uri.slice('file:'.length)
  if (path === '') throw new RootOfTrustError(`'${uri}' names no file`)
  return path
}

function openFileProvider(uri: string, createIfMissing: boolean): { root: RootOfTrust; created: boolean } {
  const path = filePathOf(uri)
  if (!existsSync(path)) {
    if (!createIfMissing) {
      throw new RootOfTrustError(`root key file ${path} does not exist`)
    }
    try {
      return { root: createFileRoot(path), created: true }
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return { root: openFileRoot(path), created: false }
}

registerRootProvider('file', {
  open: (uri, { createIfMissing }) => new Promise((resolve) => resolve(openFileProvider(uri, createIfMissing))),
})

// pkcs11.ts loads the optional native package pkcs11js (which a file-root deployment may not have
// installed) only when a pkcs11: root is opened.
registerRootProvider('pkcs11', { open: openPkcs11Root })

function providerOf(uri: string): RootProvider {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase()
  const provider = scheme === undefined ? undefined : providers.get(scheme)
  if (!provider) {
    throw new RootOfTrustError(`unsupported root of trust '${uri}': use one of ${[...providers.keys()].map((s) => `${s}:`).join(', ')}`)
  }
  return provider
}

export async function openRootOfTrust(uri: string, options: { createIfMissing: boolean }): Promise<RootOfTrust> {
  return (await providerOf(uri).open(uri, options)).root
}

/** Creates the root key if it does not exist; never overwrites. */
export async function initRoot(uri: string): Promise<{ created: boolean; root: RootOfTrust }> {
  return providerOf(uri).open(uri, { createIfMissing: true })
}
