// Roles and temporary credentials through the JS v3 SDK's STS and KMS clients against a real
// server: AssumeRole under trust policies, sessions under key policies, session policies, expiry,
// revocation, deletion, cross-account use, GetSessionToken and GetCallerIdentity.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
  type Credentials,
} from '@aws-sdk/client-sts'
import { CreateGrantCommand, GenerateMacCommand, KMSClient, PutKeyPolicyCommand, VerifyMacCommand } from '@aws-sdk/client-kms'
import { hmacKey, MESSAGE, refusedOnceChanged, rejectsWith } from '../helpers/keys.js'
import { createRole, createUser, credentialsOf, macaw, type CreatedUser } from '../helpers/process.js'
import { ACCOUNT, REGION, ROOT, startKms } from '../helpers/server.js'

const OTHER = '444455556666'
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

const trustUser = (arn: string): object => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: arn }, Action: 'sts:AssumeRole' }],
})
const allow = (action: string | string[], resource = '*'): object => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
})

function session(c: Credentials | undefined): Creds {
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken)
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }
}

/** A server (with a clock the test moves), an STS and a KMS client factory closed with the test. */
async function setUp(t: TestContext) {
  let offset = 0
  const { server, dataDir } = await startKms(t, { now: () => Date.now() + offset })
  const clients: { destroy(): void }[] = []
  t.after(() => {
    for (const c of clients) c.destroy()
  })
  const sts = (credentials: Creds = ROOT): STSClient => {
    const c = new STSClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 })
    clients.push(c)
    return c
  }
  const kms = (credentials: Creds = ROOT): KMSClient => {
    const c = new KMSClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 })
    clients.push(c)
    return c
  }
  return { server, dataDir, sts, kms, advance: (ms: number) => (offset += ms) }
}

const mac = (kms: KMSClient, KeyId: string) => kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))

/** A key whose policy lets the account's root administer it and `principal` MAC with it. */
async function keyFor(kms: KMSClient, principal: string): Promise<{ keyId: string; arn: string }> {
  const key = await hmacKey(kms)
  const Policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: principal }, Action: ['kms:GenerateMac', 'kms:VerifyMac'], Resource: '*' },
    ],
  })
  await kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy }))
  return key
}

describe('STS: roles and temporary credentials', { concurrency: true }, () => {
  it('answers GetCallerIdentity for the root user, an IAM user and a role session', async (t) => {
    const { dataDir, sts } = await setUp(t)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const role = await createRole(dataDir, ACCOUNT, 'app', trustUser(alice.Arn))
    const root = await sts().send(new GetCallerIdentityCommand({}))
    assert.deepEqual([root.Account, root.Arn, root.UserId], [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`, ACCOUNT])
    const user = await sts(credentialsOf(alice)).send(new GetCallerIdentityCommand({}))
    assert.equal(user.Arn, alice.Arn)
    assert.match(user.UserId ?? '', /^AIDA[A-Z2-7]{17}$/)
    const assumed = await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'build-42' }))
    assert.match(assumed.Credentials?.AccessKeyId ?? '', /^ASIA[A-Z2-7]{16}$/)
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/app/build-42`)
    assert.match(assumed.AssumedRoleUser?.AssumedRoleId ?? '', /^AROA[A-Z2-7]{17}:build-42$/)
    const expires = assumed.Credentials?.Expiration?.getTime() ?? 0
    assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 60_000, 'an hour by default')
    const me = await sts(session(assumed.Credentials)).send(new GetCallerIdentityCommand({}))
    assert.deepEqual([me.Account, me.Arn, me.UserId], [ACCOUNT, assumed.AssumedRoleUser?.Arn, assumed.AssumedRoleUser?.AssumedRoleId])
  })

  it('lets a session use a key whose policy names its role, and nothing its role may not', async (t) => {
    const { dataDir, sts, kms } = await setUp(t)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const role = await createRole(dataDir, ACCOUNT, 'app', trustUser(alice.Arn))
    const named = await keyFor(kms(), role)
    // Principals must exist: a role that does not, no; a session of one that does, yes.
    await rejectsWith(keyFor(kms(), `arn:aws:iam::${ACCOUNT}:role/nobody`), 'MalformedPolicyDocumentException', 'Policy contains a statement with one or more invalid principals.')
    await rejectsWith(keyFor(kms(), `arn:aws:sts::${ACCOUNT}:assumed-role/nobody/s1`), 'MalformedPolicyDocumentException', 'Policy contains a statement with one or more invalid principals.')
    assert.ok(await keyFor(kms(), `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`))
    const other = await hmacKey(kms())
    const out = await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 's1' }))
    const asRole = kms(session(out.Credentials))
    assert.equal((await mac(asRole, named.keyId)).KeyId, named.arn)
    const who = `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`
    // The default key policy delegates to the account's identity policies; the role has none.
    await rejectsWith(
      mac(asRole, other.keyId),
      'AccessDeniedException',
      `User: ${who} is not authorized to perform: kms:GenerateMac on resource: ${other.arn} because no identity-based policy allows the kms:GenerateMac action`,
    )
    // A grant to the role is a grant to each of its sessions.
    await kms().send(new CreateGrantCommand({ KeyId: other.keyId, GranteePrincipal: role, Operations: ['GenerateMac'] }))
    assert.equal((await mac(asRole, other.keyId)).KeyId, other.arn)
    // The role's identity policy, through a key policy that names the account.
    const delegated = await hmacKey(kms())
    const withPolicy = await createRole(dataDir, ACCOUNT, 'app2', trustUser(alice.Arn), { policy: allow('kms:GenerateMac', delegated.arn) })
    const out2 = await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: withPolicy, RoleSessionName: 's2' }))
    assert.equal((await mac(kms(session(out2.Credentials)), delegated.keyId)).KeyId, delegated.arn)
    await rejectsWith(mac(kms(session(out2.Credentials)), other.keyId), 'AccessDeniedException', /because no identity-based policy allows the kms:GenerateMac action$/)
  })

  it('narrows a session to its session policy', async (t) => {
    const { dataDir, sts, kms } = await setUp(t)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const role = await createRole(dataDir, ACCOUNT, 'app', trustUser(alice.Arn))
    const key = await keyFor(kms(), role)
    const Policy = JSON.stringify(allow('kms:GenerateMac'))
    const out = await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'narrow', Policy }))
    assert.ok((out.PackedPolicySize ?? 0) > 0)
    const asRole = kms(session(out.Credentials))
    const { Mac } = await mac(asRole, key.keyId)
    await rejectsWith(
      asRole.send(new VerifyMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac })),
      'AccessDeniedException',
      /is not authorized to perform: kms:VerifyMac/,
    )
    await rejectsWith(
      sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'bad', Policy: '{"Statement":[' })),
      'MalformedPolicyDocumentException',
      undefined,
      400,
    )
  })

  it('refuses an expired session, a forged token, a token with long-term keys and temporary keys without their token', async (t) => {
    const { dataDir, sts, kms, advance } = await setUp(t)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const role = await createRole(dataDir, ACCOUNT, 'app', trustUser(alice.Arn))
    const key = await keyFor(kms(), role)
    const creds = session((await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'first', DurationSeconds: 900 }))).Credentials)
    assert.ok(await mac(kms(creds), key.keyId))
    const invalid = 'The security token included in the request is invalid.'
    const token = creds.sessionToken ?? ''
    const forged = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21)
    await rejectsWith(mac(kms({ ...creds, sessionToken: forged }), key.keyId), 'UnrecognizedClientException', invalid)
    await rejectsWith(mac(kms({ ...creds, sessionToken: token.slice(0, -10) }), key.keyId), 'UnrecognizedClientException', invalid)
    await rejectsWith(mac(kms({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }), key.keyId), 'UnrecognizedClientException', invalid)
    await rejectsWith(mac(kms({ ...credentialsOf(alice), sessionToken: token }), key.keyId), 'UnrecognizedClientException', invalid)
    // Another session's token with this session's keys.
    const second = session((await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'second' }))).Credentials)
    await rejectsWith(mac(kms({ ...creds, sessionToken: second.sessionToken ?? '' }), key.keyId), 'UnrecognizedClientException', invalid)
    advance(901_000)
    await rejectsWith(mac(kms(creds), key.keyId), 'ExpiredTokenException', 'The security token included in the request is expired')
    await assert.rejects(sts(creds).send(new GetCallerIdentityCommand({})), (err: Error) => err.name === 'ExpiredToken' || err.name === 'ExpiredTokenException')
    assert.ok(await mac(kms(second), key.keyId), 'the hour-long session still works')
  })

  it('ends sessions on revoke-sessions and on role deletion, and a re-created role does not revive them', async (t) => {
    const { dataDir, sts, kms } = await setUp(t)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const role = await createRole(dataDir, ACCOUNT, 'app', trustUser(alice.Arn))
    const key = await keyFor(kms(), role)
    const assume = async (name: string) =>
      session((await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: name }))).Credentials)
    const before = await assume('before')
    assert.ok(await mac(kms(before), key.keyId))
    // Issued-at times are in milliseconds; make sure the revocation falls strictly after them.
    await new Promise((resolve) => setTimeout(resolve, 5))
    await macaw(dataDir, ['roles', 'revoke-sessions', '--name', 'app', '--account-id', ACCOUNT])
    await refusedOnceChanged(() => mac(kms(before), key.keyId), 'AccessDeniedException', /with an explicit deny in an identity-based policy$/)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const after = await assume('after')
    assert.ok(await mac(kms(after), key.keyId), 'a session issued after the revocation works')
    await macaw(dataDir, ['roles', 'delete', '--name', 'app', '--account-id', ACCOUNT])
    await refusedOnceChanged(() => mac(kms(after), key.keyId), 'UnrecognizedClientException', 'The security token included in the request is invalid.')
    await createRole(dataDir, ACCOUNT, 'app', trustUser(alice.Arn))
    await rejectsWith(mac(kms(after), key.keyId), 'UnrecognizedClientException', 'The security token included in the request is invalid.')
  })

  it('assumes a role of another account when both the trust policy and the caller’s own policy allow it', async (t) => {
    const { dataDir, sts, kms } = await setUp(t)
    const alice = await createUser(dataDir, ACCOUNT, 'alice', allow('sts:AssumeRole', `arn:aws:iam::${OTHER}:role/*`))
    const bob = await createUser(dataDir, ACCOUNT, 'bob')
    const trustAccount = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] }
    const role = await createRole(dataDir, OTHER, 'shared', trustAccount, { policy: allow('kms:*') })
    const out = await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'xa' }))
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${OTHER}:assumed-role/shared/xa`)
    const asShared = kms(session(out.Credentials))
    const key = await hmacKey(asShared)
    assert.match(key.arn, new RegExp(`^arn:aws:kms:${REGION}:${OTHER}:key/`))
    await rejectsWith(
      sts(credentialsOf(bob)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'xa' })),
      'AccessDenied',
      `User: ${bob.Arn} is not authorized to perform: sts:AssumeRole on resource: ${role}`,
      403,
    )
  })

  it('refuses AssumeRole as AWS does: root, unknown role, untrusted caller, external id, durations, names', async (t) => {
    const { dataDir, sts } = await setUp(t)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const bob: CreatedUser = await createUser(dataDir, ACCOUNT, 'bob')
    const trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: alice.Arn }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'ext-123' } } }],
    }
    const role = await createRole(dataDir, ACCOUNT, 'app', trust, { maxSessionSeconds: 7200 })
    const asAlice = sts(credentialsOf(alice))
    const assume = (input: Partial<ConstructorParameters<typeof AssumeRoleCommand>[0]>, client = asAlice) =>
      client.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'ss', ExternalId: 'ext-123', ...input }))
    await rejectsWith(assume({}, sts()), 'AccessDenied', 'Roles may not be assumed by root accounts.', 403)
    const denied = `User: ${alice.Arn} is not authorized to perform: sts:AssumeRole on resource: `
    await rejectsWith(assume({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/nope` }), 'AccessDenied', `${denied}arn:aws:iam::${ACCOUNT}:role/nope`, 403)
    await rejectsWith(assume({ ExternalId: 'wrong-1' }), 'AccessDenied', `${denied}${role}`, 403)
    await rejectsWith(assume({}, sts(credentialsOf(bob))), 'AccessDenied', `User: ${bob.Arn} is not authorized to perform: sts:AssumeRole on resource: ${role}`, 403)
    assert.ok((await assume({ DurationSeconds: 7200 })).Credentials)
    await rejectsWith(assume({ DurationSeconds: 7201 }), 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
    await rejectsWith(assume({ DurationSeconds: 899 }), 'ValidationError', "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
    await rejectsWith(
      assume({ RoleSessionName: 'has space' }),
      'ValidationError',
      "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    )
    // Role chaining: an hour at most.
    const chainTrust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: role }, Action: 'sts:AssumeRole' }] }
    const next = await createRole(dataDir, ACCOUNT, 'next', chainTrust, { maxSessionSeconds: 7200 })
    const asApp = sts(session((await assume({})).Credentials))
    await rejectsWith(
      asApp.send(new AssumeRoleCommand({ RoleArn: next, RoleSessionName: 'cc', DurationSeconds: 3601 })),
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    )
    const chained = await asApp.send(new AssumeRoleCommand({ RoleArn: next, RoleSessionName: 'cc' }))
    assert.equal(chained.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/next/cc`)
  })

  it('gives an IAM user session credentials with its own permissions, once', async (t) => {
    const { dataDir, sts, kms } = await setUp(t)
    const key = await hmacKey(kms())
    const alice = await createUser(dataDir, ACCOUNT, 'alice', allow('kms:GenerateMac', key.arn))
    const out = await sts(credentialsOf(alice)).send(new GetSessionTokenCommand({ DurationSeconds: 900 }))
    const creds = session(out.Credentials)
    assert.equal((await mac(kms(creds), key.keyId)).KeyId, key.arn)
    const me = await sts(creds).send(new GetCallerIdentityCommand({}))
    assert.equal(me.Arn, alice.Arn)
    await rejectsWith(sts(creds).send(new GetSessionTokenCommand({})), 'AccessDenied', 'Cannot call GetSessionToken with session credentials', 403)
    const rootSession = await sts().send(new GetSessionTokenCommand({ DurationSeconds: 7200 }))
    const hour = (rootSession.Credentials?.Expiration?.getTime() ?? 0) - Date.now()
    assert.ok(hour <= 3600_000 && hour > 3500_000, 'a root session lasts an hour at most')
  })
})
