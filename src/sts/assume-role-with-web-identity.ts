// AWS STS API Reference > AssumeRoleWithWebIdentity: temporary credentials for a role, in exchange
// for an OpenID Connect ID token from a provider the role's account trusts (`macaw oidc-providers`)
// and a trust policy naming that provider (Federated principal, conditions on <provider>:sub and
// <provider>:aud). The request is not signed: the token is the credential.
// AWS's texts, each with its source and confidence: test/fixtures/aws-texts.json.
import { decideKeyAccess } from '../auth/authorize.js'
import { conditionLookup } from '../auth/context.js'
import { GrantIndex } from '../auth/grants.js'
import { roleArn } from '../auth/principals.js'
import type { StsOperation } from './operation.js'
import { StsError, validationError } from './query.js'
import { issueRoleSession, parseRoleArn, ROLE_ARN, SESSION_NAME, SESSION_POLICY } from './sessions.js'
import { claimedIssuer, providerUrl } from './web-identity.js'

const WEB_IDENTITY_TOKEN = { min: 4, max: 20000, sensitive: true }
const NOT_AUTHORIZED = 'Not authorized to perform sts:AssumeRoleWithWebIdentity'

export const assumeRoleWithWebIdentity: StsOperation = {
  name: 'AssumeRoleWithWebIdentity',
  readOnly: false,
  signed: false,
  audited: ['RoleArn', 'RoleSessionName', 'DurationSeconds'],
  async run(ctx, params) {
    const arn = params.required('RoleArn', ROLE_ARN)
    const sessionName = params.required('RoleSessionName', SESSION_NAME)
    const token = params.required('WebIdentityToken', WEB_IDENTITY_TOKEN)
    const duration = params.integer('DurationSeconds', 900, 43200)
    const policy = params.string('Policy', SESSION_POLICY)
    params.check()
    if (params.has('ProviderId')) throw validationError('ProviderId is for OAuth 2.0 providers, which macaw does not support; use an OpenID Connect ID token.')
    if (params.has('PolicyArns.member.1.arn')) throw validationError('PolicyArns is not supported: macaw has no managed policies; pass the session policy as Policy.')
    const { partition, identities, webIdentity } = ctx.services
    const target = parseRoleArn(partition, arn)
    const role = target === undefined ? undefined : await ctx.services.credentials.role(target.accountId, target.roleName)
    if (target === undefined || role === undefined) throw new StsError('AccessDenied', 403, NOT_AUTHORIZED)
    const canonical = roleArn(partition, target.accountId, role.record.roleName)
    ctx.role = { arn: canonical, accountId: target.accountId }
    const issuer = claimedIssuer(token)
    const url = issuer === undefined ? undefined : providerUrl(issuer)
    const provider = url === undefined ? undefined : await identities.getOidcProvider(target.accountId, url)
    if (provider === undefined) {
      throw new StsError('InvalidIdentityToken', 400, `No OpenIDConnect provider found in your account for ${(issuer ?? '').slice(0, 256)}`)
    }
    const verified = await webIdentity.verify(token, provider)
    const providerArn = `arn:${partition}:iam::${target.accountId}:oidc-provider/${provider.url}`
    ctx.webIdentity = { provider: provider.url, subject: verified.subject, audience: verified.audience }
    let trust
    try {
      trust = ctx.services.policies.get(role.record.trustPolicy, 'trust')
    } catch {
      throw new StsError('AccessDenied', 403, NOT_AUTHORIZED)
    }
    const key = provider.url.toLowerCase()
    const values = new Map<string, readonly string[]>([
      [`${key}:sub`, [verified.subject]],
      [`${key}:aud`, [verified.audience]],
      ['sts:rolesessionname', [sessionName]],
    ])
    const amr = verified.claims['amr']
    if (Array.isArray(amr)) values.set(`${key}:amr`, amr.filter((v): v is string => typeof v === 'string'))
    const subject = { accountId: target.accountId, arn: providerArn, isRoot: false }
    const decision = decideKeyAccess(
      subject,
      { accountId: target.accountId, arn: canonical, policy: trust, grants: GrantIndex.EMPTY },
      { action: 'sts:AssumeRoleWithWebIdentity', crossAccount: false, lookup: conditionLookup(ctx.facts, undefined, values) },
    )
    if (!decision.allowed) throw new StsError('AccessDenied', 403, NOT_AUTHORIZED)
    const session = issueRoleSession(ctx, {
      role: role.record,
      sessionName,
      seconds: duration ?? 3600,
      policy,
      extra: { webIdentity: { provider: providerArn, subject: verified.subject, audience: verified.audience } },
    })
    return { ...session, SubjectFromWebIdentityToken: verified.subject, Provider: verified.issuer, Audience: verified.audience }
  },
}
