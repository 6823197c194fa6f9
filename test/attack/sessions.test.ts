// Attacks on temporary credentials: tokens of another deployment, made-up and oversized tokens in
// bulk, a session policy that tries to widen its role, session tags that would not fit a header,
// and STS requests that are not what they claim.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { GenerateMacCommand, KMSClient, ListKeysCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'
import { createRole, createUser, credentialsOf } from '../helpers/process.js'
import { ACCOUNT, REGION, startKms } from '../helpers/server.js'
import { rounds } from '../helpers/scale.js'

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
const trustUser = (arn: string): object => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: arn }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] })
const INVALID = 'The security token included in the request is invalid.'

async function deployment(t: Parameters<typeof startKms>[0]) {
  const { server, dataDir } = await startKms(t)
  const clients: { destroy(): void }[] = []
  t.after(() => clients.forEach((c) => c.destroy()))
  const sts = (credentials: Creds) => {
    const c = new STSClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 })
    clients.push(c)
    return c
  }
  const kms = (credentials: Creds) => {
    const c = new KMSClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 })
    clients.push(c)
    return c
  }
  const alice = await createUser(dataDir, ACCOUNT, 'alice')
  return { server, dataDir, sts, kms, alice }
}

function creds(c: { AccessKeyId?: string | undefined; SecretAccessKey?: string | undefined; SessionToken?: string | undefined } | undefined): Creds {
  return { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' }
}

describe('attacks on temporary credentials', { timeout: 120_000, concurrency: true }, () => {
  it('gains nothing from a token another deployment sealed, for the same account and role name', async (t) => {
    const a = await deployment(t)
    const b = await deployment(t)
    const roleA = await createRole(a.dataDir, ACCOUNT, 'app', trustUser(a.alice.Arn), { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } })
    await createRole(b.dataDir, ACCOUNT, 'app', trustUser(b.alice.Arn))
    const fromB = creds((await b.sts(credentialsOf(b.alice)).send(new AssumeRoleCommand({ RoleArn: roleA, RoleSessionName: 'elsewhere' }))).Credentials)
    await rejectsWith(a.kms(fromB).send(new ListKeysCommand({})), 'UnrecognizedClientException', INVALID)
  })

  it('answers made-up and oversized tokens alike, and keeps nothing for them', async (t) => {
    const { server, kms } = await deployment(t)
    const before = server.kms.credentials.size
    const n = rounds('MACAW_TEST_TOKEN_FLOOD', 100, 1000)
    for (let i = 0; i < n; i++) {
      const id = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`
      // Up to 12,000 characters: the headers stay under node's 16 KiB limit.
      const sessionToken = randomBytes(1 + (i * 97) % 9000).toString('base64')
      await rejectsWith(kms({ accessKeyId: id, secretAccessKey: 'x'.repeat(40), sessionToken }).send(new ListKeysCommand({})), 'UnrecognizedClientException', INVALID)
    }
    assert.equal(server.kms.credentials.size, before, 'no cache entry for a token that does not open')
  })

  it('refuses a token that ends like a live session’s, which keeps working', async (t) => {
    const { server, dataDir, sts, kms, alice } = await deployment(t)
    const role = await createRole(dataDir, ACCOUNT, 'app', trustUser(alice.Arn), { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } })
    const session = creds((await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'live' }))).Credentials)
    // Verified once: the session is cached, by the end of its token.
    await kms(session).send(new ListKeysCommand({}))
    const cached = server.kms.credentials.size
    const token = session.sessionToken ?? ''
    for (const forged of [`${token.slice(0, 40).split('').reverse().join('')}${token.slice(40)}`, `AAAA${token.slice(-22)}`, token.slice(-60)]) {
      assert.equal(forged.slice(-22), token.slice(-22))
      assert.notEqual(forged, token)
      await rejectsWith(kms({ ...session, sessionToken: forged }).send(new ListKeysCommand({})), 'UnrecognizedClientException', INVALID)
    }
    assert.equal(server.kms.credentials.size, cached, 'the live session was not evicted')
    await kms(session).send(new ListKeysCommand({}))
  })

  it('cannot widen its role with a session policy, nor pass session tags that would not fit a header', async (t) => {
    const { dataDir, sts, kms, alice } = await deployment(t)
    const root = kms({ accessKeyId: 'AKIAMACAWTESTROOT001', secretAccessKey: 'macaw-test-root-secret-0123456789abcdef' })
    const key = await hmacKey(root)
    const role = await createRole(dataDir, ACCOUNT, 'narrow', trustUser(alice.Arn), {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }] },
    })
    const wide = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] })
    const session = creds((await sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'wide', Policy: wide }))).Credentials)
    await rejectsWith(
      kms(session).send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })),
      'AccessDeniedException',
      /because no identity-based policy allows the kms:GenerateMac action$/,
    )
    // Tags that would make a token too big for a request header are refused up front.
    const Tags = Array.from({ length: 20 }, (_, i) => ({ Key: `k${i}`, Value: 'v'.repeat(250) }))
    await rejectsWith(
      sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'tags', Tags })),
      'PackedPolicyTooLargeException',
      /^Packed policy consumes \d+% of allotted space, please use smaller policy\.$/,
    )
    // Tags that fit become principal tags the key policy can test.
    await root.send(
      new PutKeyPolicyCommand({
        KeyId: key.keyId,
        PolicyName: 'default',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
            { Effect: 'Allow', Principal: { AWS: role }, Action: 'kms:GenerateMac', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } } },
          ],
        }),
      }),
    )
    const tagged = (team: string) => sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: `team-${team}`, Tags: [{ Key: 'team', Value: team }] }))
    const blue = creds((await tagged('blue')).Credentials)
    const red = creds((await tagged('red')).Credentials)
    assert.ok(await kms(blue).send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })))
    await rejectsWith(kms(red).send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'AccessDeniedException')
  })

  it('refuses session tags when the trust policy does not allow sts:TagSession', async (t) => {
    const { dataDir, sts, alice } = await deployment(t)
    const role = await createRole(dataDir, ACCOUNT, 'untagged', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: alice.Arn }, Action: 'sts:AssumeRole' }] })
    await rejectsWith(
      sts(credentialsOf(alice)).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'tags', Tags: [{ Key: 'team', Value: 'blue' }] })),
      'AccessDenied',
      `User: ${alice.Arn} is not authorized to perform: sts:TagSession on resource: ${role}`,
      403,
    )
  })

  it('routes only form bodies to STS, and answers a Query request for an unknown action with InvalidAction', async (t) => {
    const { server } = await deployment(t)
    const post = (body: string, type: string) => fetch(server.url, { method: 'POST', headers: { 'content-type': type }, body })
    const unknown = await post('Action=GetFederationToken&Version=2011-06-15&Name=x', 'application/x-www-form-urlencoded')
    assert.equal(unknown.status, 400)
    assert.match(await unknown.text(), /<Code>InvalidAction<\/Code><Message>Could not find operation GetFederationToken for version 2011-06-15<\/Message>/)
    const unsigned = await post('Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::111122223333:role/x&RoleSessionName=ab', 'application/x-www-form-urlencoded')
    assert.equal(unsigned.status, 403)
    assert.match(await unsigned.text(), /<Code>MissingAuthenticationToken<\/Code>/)
    // A JSON body is KMS's, whatever it says.
    const json = await post('{"Action":"AssumeRole"}', 'application/x-amz-json-1.1')
    assert.equal(json.status, 400)
    assert.match(await json.text(), /"__type":"(UnknownOperationException|MissingAuthenticationTokenException)"/)
  })
})
