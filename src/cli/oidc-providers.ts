// `macaw oidc-providers ...`: OpenID Connect issuers an account trusts for
// AssumeRoleWithWebIdentity (a Kubernetes service-account issuer, GitHub Actions, an identity
// provider), as IAM's OpenIDConnectProvider. Keys come from --jwks-file, or else from the issuer's
// discovery document over HTTPS when a token is presented.
import { readFileSync } from 'node:fs'
import type { RawSettings } from '../config.js'
import { StoreConflictError, type OidcProviderRecord } from '../store/store.js'
import { providerUrl } from '../sts/web-identity.js'
import { AdminError, withAdmin, type Admin } from './admin.js'
import { print } from './users.js'

const CLIENT_ID = /^[\w.:/@+=-]{1,255}$/
const MAX_JWKS_BYTES = 64 * 1024

export interface ProviderFlags extends RawSettings {
  url: string
  clientId?: string[]
  jwksFile?: string
}

function urlOf(text: string): string {
  const url = providerUrl(text)
  if (url === undefined) throw new AdminError(`--url must be the issuer's https:// URL (host, optional port and path), got '${text}'`)
  return url
}

async function readJwks(file: string): Promise<string> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new AdminError(`cannot read JWKS file ${file}: ${(err as Error).message}`)
  }
  if (text.length > MAX_JWKS_BYTES) throw new AdminError(`JWKS file ${file} exceeds ${MAX_JWKS_BYTES} bytes`)
  try {
    const set = JSON.parse(text) as { keys?: unknown }
    if (!Array.isArray(set.keys) || set.keys.length === 0) throw new Error('it has no "keys"')
    const { createLocalJWKSet } = await import('jose')
    createLocalJWKSet(set as Parameters<typeof createLocalJWKSet>[0])
  } catch (err) {
    throw new AdminError(`JWKS file ${file} is not a JSON Web Key Set: ${(err as Error).message}`)
  }
  return text
}

function describe(admin: Admin, p: OidcProviderRecord): object {
  return {
    Arn: `arn:${admin.config.partition}:iam::${p.accountId}:oidc-provider/${p.url}`,
    Url: `https://${p.url}`,
    ClientIDList: p.clientIds,
    Keys: p.jwks === undefined ? 'discovery' : 'jwks-file',
    CreateDate: new Date(p.createDate).toISOString(),
  }
}

export async function providersCreate(flags: ProviderFlags): Promise<void> {
  const url = urlOf(flags.url)
  const clientIds = flags.clientId ?? []
  if (clientIds.length === 0) throw new AdminError('give at least one --client-id (the audience tokens are issued to)')
  for (const id of clientIds) if (!CLIENT_ID.test(id)) throw new AdminError(`client id '${id}' must be 1 to 255 characters of letters, digits and ._:/@+=-`)
  const jwks = flags.jwksFile === undefined ? undefined : await readJwks(flags.jwksFile)
  await withAdmin(flags, async (admin) => {
    const record: OidcProviderRecord = { accountId: admin.config.accountId, url, clientIds: [...new Set(clientIds)], ...(jwks === undefined ? {} : { jwks }), createDate: Date.now() }
    try {
      await admin.store.insertOidcProvider(record)
    } catch (err) {
      if (err instanceof StoreConflictError) throw new AdminError(`a provider for https://${url} already exists in account ${record.accountId}`)
      throw err
    }
    print(describe(admin, record))
  })
}

export async function providersList(flags: RawSettings & { all?: boolean }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    print((await admin.store.listOidcProviders(flags.all === true ? undefined : admin.config.accountId)).map((p) => describe(admin, p)))
  })
}

export async function providersDelete(flags: ProviderFlags): Promise<void> {
  const url = urlOf(flags.url)
  await withAdmin(flags, async (admin) => {
    if (!(await admin.store.deleteOidcProvider(admin.config.accountId, url))) throw new AdminError(`no provider for https://${url} in account ${admin.config.accountId}`)
    process.stdout.write(`deleted the provider for https://${url}\n`)
  })
}
