// OpenID Connect ID tokens for AssumeRoleWithWebIdentity, verified with jose: the signature under
// the provider's keys (a JWKS given at creation, or the issuer's discovery document fetched over
// HTTPS, cached and refreshed), `iss`, `aud` among the provider's client ids, `exp`, `nbf` and
// `iat` within a bounded clock skew, asymmetric algorithms only (never `none` or HMAC).
// AWS's texts, each with its source and confidence: test/fixtures/aws-texts.json.
import type * as Jose from 'jose'
import type { JWTPayload, JWTVerifyGetKey } from 'jose'
import type { OidcProviderRecord } from '../store/store.js'
import { StsError } from './query.js'

/** Accepted signature algorithms: RS256 and ES256 at least, as the issue and AWS require. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']
/** How far `exp`, `nbf` and `iat` may be off the server's clock. */
export const CLOCK_SKEW_SECONDS = 60
/** Discovery documents and key sets: at most this big, this slow, and re-read this often. */
const MAX_DOCUMENT_BYTES = 64 * 1024
const FETCH_TIMEOUT_MS = 5000
const DISCOVERY_MAX_AGE_MS = 10 * 60_000
const FAILURE_BACKOFF_MS = 30_000
/** Key sets remembered at the most (one per provider URL and JWKS text). */
const MAX_KEY_SETS = 1000

export const NOT_VALIDATED =
  'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.'
const IDP_UNREACHABLE = "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"

/** jose, loaded on the first web identity: most deployments never see one (it costs ~75 ms to load). */
let joseModule: Promise<typeof Jose> | undefined
const jose = (): Promise<typeof Jose> => (joseModule ??= import('jose'))

export interface VerifiedToken {
  readonly issuer: string
  readonly subject: string
  readonly audience: string
  readonly claims: JWTPayload
}

/**
 * The `iss` a token claims, read without verifying it (to find its provider); undefined if it is
 * not a JWS compact serialisation with a JSON payload. The token is at most 20,000 characters.
 */
export function claimedIssuer(token: string): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const payload = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown } | null
    const iss = payload?.iss
    return typeof iss === 'string' && iss.length <= 2048 ? iss : undefined
  } catch {
    return undefined
  }
}

/** The provider URL (as stored and in ARNs) for an issuer: without `https://` and a trailing slash. */
export function providerUrl(issuer: string): string | undefined {
  if (!issuer.startsWith('https://')) return undefined
  const url = issuer.slice('https://'.length).replace(/\/$/, '')
  return /^[\w.:/-]{1,255}$/.test(url) ? url : undefined
}

export class WebIdentityVerifier {
  private readonly keySets = new Map<string, JWTVerifyGetKey>()
  private readonly discovered = new Map<string, { jwksUri: string; at: number }>()
  /** Issuers whose discovery failed lately: not asked again for FAILURE_BACKOFF_MS (floods of unsigned requests). */
  private readonly failed = new Map<string, number>()
  private readonly now: () => number

  constructor(now: () => number) {
    this.now = now
  }

  /** Verifies a token issued by `provider`; StsError with AWS's code otherwise. */
  async verify(token: string, provider: OidcProviderRecord): Promise<VerifiedToken> {
    const issuer = `https://${provider.url}`
    const { jwtVerify, errors } = await jose()
    let payload: JWTPayload
    try {
      const keys = await this.keySet(provider)
      ;({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: [...provider.clientIds],
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'sub', 'aud', 'iss'],
      }))
    } catch (err) {
      throw this.refusal(err, errors)
    }
    const iat = payload.iat
    if (typeof iat === 'number' && iat > this.now() / 1000 + CLOCK_SKEW_SECONDS) throw new StsError('InvalidIdentityToken', 400, NOT_VALIDATED)
    const aud = Array.isArray(payload.aud) ? payload.aud.find((a) => provider.clientIds.includes(a)) : payload.aud
    return { issuer, subject: String(payload.sub), audience: aud ?? '', claims: payload }
  }

  private refusal(err: unknown, errors: typeof Jose.errors): StsError {
    if (err instanceof errors.JWTExpired) {
      const exp = typeof err.payload.exp === 'number' ? new Date(err.payload.exp * 1000).toISOString() : 'unknown'
      return new StsError('ExpiredTokenException', 400, `Token expired: current date/time ${new Date(this.now()).toISOString()} must be before the expiration date/time ${exp}`)
    }
    if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') return new StsError('InvalidIdentityToken', 400, 'Incorrect token audience')
    if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'iss') return new StsError('InvalidIdentityToken', 400, 'Incorrect token issuer')
    if (err instanceof errors.JWKSTimeout || err instanceof ProviderUnreachable) return new StsError('IDPCommunicationError', 400, IDP_UNREACHABLE)
    return new StsError('InvalidIdentityToken', 400, NOT_VALIDATED)
  }

  /** The provider's keys: its stored JWKS, or the key set its discovery document names. */
  private async keySet(provider: OidcProviderRecord): Promise<JWTVerifyGetKey> {
    const local = provider.jwks
    const jwksUri = local === undefined ? await this.discover(provider.url) : undefined
    const id = `${provider.url}\0${local ?? ''}\0${jwksUri ?? ''}`
    const known = this.keySets.get(id)
    if (known !== undefined) return known
    const { createLocalJWKSet, createRemoteJWKSet } = await jose()
    let keys: JWTVerifyGetKey
    if (jwksUri !== undefined) {
      keys = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: 30_000, cacheMaxAge: DISCOVERY_MAX_AGE_MS })
    } else {
      try {
        keys = createLocalJWKSet(JSON.parse(local ?? '') as Parameters<typeof createLocalJWKSet>[0])
      } catch {
        throw new StsError('InvalidIdentityToken', 400, NOT_VALIDATED)
      }
    }
    remember(this.keySets, id, keys)
    return keys
  }

  /** The jwks_uri of `https://<url>/.well-known/openid-configuration`, cached for ten minutes. */
  private async discover(url: string): Promise<string> {
    const cached = this.discovered.get(url)
    if (cached !== undefined && this.now() - cached.at < DISCOVERY_MAX_AGE_MS) return cached.jwksUri
    const failedAt = this.failed.get(url)
    if (failedAt !== undefined && this.now() - failedAt < FAILURE_BACKOFF_MS) throw new ProviderUnreachable('discovery failed moments ago')
    try {
      return await this.fetchDiscovery(url)
    } catch (err) {
      remember(this.failed, url, this.now())
      throw err
    }
  }

  private async fetchDiscovery(url: string): Promise<string> {
    let doc: { issuer?: unknown; jwks_uri?: unknown }
    try {
      const response = await fetch(`https://${url}/.well-known/openid-configuration`, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
      const text = await response.text()
      if (!response.ok || text.length > MAX_DOCUMENT_BYTES) throw new Error(`discovery answered ${response.status}`)
      doc = JSON.parse(text) as typeof doc
    } catch (err) {
      throw new ProviderUnreachable(String(err))
    }
    const jwksUri = doc.jwks_uri
    if (doc.issuer !== `https://${url}` || typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) {
      throw new ProviderUnreachable('the discovery document names another issuer or no https jwks_uri')
    }
    remember(this.discovered, url, { jwksUri, at: this.now() })
    this.failed.delete(url)
    return jwksUri
  }
}

class ProviderUnreachable extends Error {}

/** Sets an entry, first evicting the oldest one if the map is full (MAX_KEY_SETS per map). */
function remember<V>(map: Map<string, V>, id: string, value: V): void {
  map.delete(id)
  if (map.size >= MAX_KEY_SETS) map.delete(map.keys().next().value as string)
  map.set(id, value)
}
