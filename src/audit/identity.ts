// Who made a request, as CloudTrail's userIdentity shows it: the root user, an IAM user, or a
// role session with its issuer (the role) and when it was issued.
import type { Caller } from '../auth/principals.js'
import type { AuditIdentity } from './event.js'

/**
 * Identities already built, by caller: the resolver keeps one caller per access key and per
 * session, so each record of the same caller shares one identity (and event.ts its JSON text).
 */
const identities = new WeakMap<Caller, AuditIdentity>()

/** A caller as CloudTrail's userIdentity shows it, with its session's issuer for temporary credentials. */
export function auditIdentityOf(caller: Caller): AuditIdentity {
  let identity = identities.get(caller)
  if (identity === undefined) identities.set(caller, (identity = identityOf(caller)))
  return identity
}

function identityOf(caller: Caller): AuditIdentity {
  const session = caller.session
  const base = {
    type: caller.type,
    arn: caller.arn,
    accountId: caller.accountId,
    accessKeyId: caller.accessKeyId,
    ...(caller.userName === undefined ? {} : { userName: caller.userName }),
  }
  if (session === undefined) return base
  const { claims } = session
  const attributes = { creationDate: new Date(claims.issuedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'), mfaAuthenticated: 'false' }
  const issuer =
    session.roleArn === undefined
      ? undefined
      : { type: 'Role', principalId: claims.roleId, arn: session.roleArn, accountId: caller.accountId, userName: claims.name }
  const web = claims.webIdentity === undefined ? {} : { federatedProvider: claims.webIdentity.provider, attributes: {} }
  return {
    ...base,
    principalId: session.userId,
    sessionContext: { ...(issuer === undefined ? {} : { sessionIssuer: issuer }), webIdFederationData: web, attributes },
  }
}

