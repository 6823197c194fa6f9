// Attacks on authorization: reaching another account's key by id, alias and ARN; forged and
// borrowed grant tokens; requests from deleted users and access keys (signed before the deletion
// and replayed after it); and key policies that would lock their writer out.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { send, signedSend, type RawResponse } from '../helpers/raw.js'
import { ACCOUNT, ROOT, startKms } from '../helpers/server.js'
import { createUser, credentialsOf, hostedMacaw } from '../helpers/process.js'
import { sign } from './sign.js'

const OTHER = '444455556666'
type Credentials = { accessKeyId: string; secretAccessKey: string }

async function call(url: string, op: string, body: object, credentials: Credentials = ROOT): Promise<RawResponse> {
  return signedSend(url, `TrentService.${op}`, JSON.stringify(body), { credentials })
}

async function macKey(url: string, credentials: Credentials = ROOT): Promise<{ keyId: string; arn: string }> {
  const res = await call(url, 'CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }, credentials)
  assert.equal(res.status, 200, res.body)
  const meta = res.json?.['KeyMetadata'] as { KeyId: string; Arn: string }
  return { keyId: meta.KeyId, arn: meta.Arn }
}

const mac = (keyId: string, extra: object = {}): object => ({ KeyId: keyId, Message: 'aGk=', MacAlgorithm: 'HMAC_SHA_256', ...extra })

function assertType(res: RawResponse, type: string): void {
  assert.equal(res.status, 400, res.body)
  assert.equal(res.json?.['__type'], type, res.body)
}

describe('attacks on authorization', { concurrency: true }, () => {
  it("cannot reach another account's key by bare key id, alias name or alias ARN (NotFoundException)", async (t) => {
    const { server, dataDir } = await startKms(t)
    const victim = await macKey(server.url)
    assert.equal((await call(server.url, 'CreateAlias', { AliasName: 'alias/victim', TargetKeyId: victim.keyId })).status, 200)
    const attacker = JSON.parse(await hostedMacaw(dataDir, ['access-keys', 'create', '--account-id', OTHER])) as { AccessKeyId: string; SecretAccessKey: string }
    const creds = { accessKeyId: attacker.AccessKeyId, secretAccessKey: attacker.SecretAccessKey }
    assertType(await call(server.url, 'GenerateMac', mac(victim.keyId), creds), 'NotFoundException')
    assertType(await call(server.url, 'DescribeKey', { KeyId: victim.keyId }, creds), 'NotFoundException')
    assertType(await call(server.url, 'GenerateMac', mac('alias/victim'), creds), 'NotFoundException')
    assertType(await call(server.url, 'DisableKey', { KeyId: victim.keyId }, creds), 'NotFoundException')
    // By alias ARN: the key policy does not name the other account.
    const aliasArn = `arn:aws:kms:us-east-1:${ACCOUNT}:alias/victim`
    const byAliasArn = await call(server.url, 'GenerateMac', mac(aliasArn), creds)
    assert.equal(byAliasArn.status, 400)
    assert.match(String(byAliasArn.json?.['__type']), /^(AccessDeniedException|NotFoundException)$/)
  })

  it("is denied another account's key by ARN when the key policy does not allow it (AccessDeniedException)", async (t) => {
    const { server, dataDir } = await startKms(t)
    const victim = await macKey(server.url)
    const attacker = JSON.parse(await hostedMacaw(dataDir, ['access-keys', 'create', '--account-id', OTHER])) as { AccessKeyId: string; SecretAccessKey: string }
    const creds = { accessKeyId: attacker.AccessKeyId, secretAccessKey: attacker.SecretAccessKey }
    for (const [op, body] of [
      ['GenerateMac', mac(victim.arn)],
      ['VerifyMac', mac(victim.arn, { Mac: Buffer.alloc(32).toString('base64') })],
      ['DescribeKey', { KeyId: victim.arn }],
      ['CreateGrant', { KeyId: victim.arn, GranteePrincipal: `arn:aws:iam::${OTHER}:root`, Operations: ['GenerateMac'] }],
    ] as const) {
      assertType(await call(server.url, op, body, creds), 'AccessDeniedException')
    }
    // Operations AWS never allows across accounts are denied too, and change nothing.
    const disabled = await call(server.url, 'DisableKey', { KeyId: victim.arn }, creds)
    assert.equal(disabled.status, 400)
    const state = await call(server.url, 'DescribeKey', { KeyId: victim.keyId })
    assert.equal((state.json?.['KeyMetadata'] as { KeyState: string }).KeyState, 'Enabled')
  })

  it('refuses a forged grant token with InvalidGrantTokenException', async (t) => {
    const { server, dataDir } = await startKms(t)
    const key = await macKey(server.url)
    const eve = credentialsOf(await createUser(dataDir, ACCOUNT, 'eve'))
    const grant = await call(server.url, 'CreateGrant', { KeyId: key.keyId, GranteePrincipal: `arn:aws:iam::${ACCOUNT}:user/someone-else`, Operations: ['GenerateMac'] })
    const real = String(grant.json?.['GrantToken'])
    const raw = Buffer.from(real, 'base64url')
    raw[5] = (raw[5] ?? 0) ^ 0xff // another grant id, same length: the checksum no longer fits
    for (const token of [raw.toString('base64url'), 'A'.repeat(real.length), real.slice(0, -2), `${real}AA`, 'not a token']) {
      assertType(await call(server.url, 'GenerateMac', mac(key.keyId, { GrantTokens: [token] }), eve), 'InvalidGrantTokenException')
    }
  })

  it("gains nothing from another key's grant token, nor from someone else's grant (AccessDeniedException)", async (t) => {
    const { server, dataDir } = await startKms(t)
    const target = await macKey(server.url)
    const other = await macKey(server.url)
    const eve = await createUser(dataDir, ACCOUNT, 'eve')
    const creds = credentialsOf(eve)
    // A real grant for eve, but on the other key.
    const onOther = await call(server.url, 'CreateGrant', { KeyId: other.keyId, GranteePrincipal: eve.Arn, Operations: ['GenerateMac'] })
    assert.equal(onOther.status, 200, onOther.body)
    assert.equal((await call(server.url, 'GenerateMac', mac(other.keyId), creds)).status, 200)
    assertType(await call(server.url, 'GenerateMac', mac(target.keyId, { GrantTokens: [String(onOther.json?.['GrantToken'])] }), creds), 'AccessDeniedException')
    // A grant on the target key, but for somebody else.
    const forMallory = await call(server.url, 'CreateGrant', { KeyId: target.keyId, GranteePrincipal: `arn:aws:iam::${ACCOUNT}:user/mallory`, Operations: ['GenerateMac'] })
    assertType(await call(server.url, 'GenerateMac', mac(target.keyId, { GrantTokens: [String(forMallory.json?.['GrantToken'])] }), creds), 'AccessDeniedException')
    // A grant for eve that allows VerifyMac only does not allow GenerateMac.
    const verifyOnly = await call(server.url, 'CreateGrant', { KeyId: target.keyId, GranteePrincipal: eve.Arn, Operations: ['VerifyMac'] })
    assertType(await call(server.url, 'GenerateMac', mac(target.keyId, { GrantTokens: [String(verifyOnly.json?.['GrantToken'])] }), creds), 'AccessDeniedException')
  })

  it("refuses a deleted user's request, even one signed before the deletion (UnrecognizedClientException)", async (t) => {
    const { server, dataDir } = await startKms(t)
    const key = await macKey(server.url)
    const ann = await createUser(dataDir, ACCOUNT, 'ann', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] })
    const body = JSON.stringify(mac(key.keyId))
    const captured = await sign(server.url, 'TrentService.GenerateMac', body, { credentials: credentialsOf(ann) })
    assert.equal((await send(server.url, { headers: captured, body })).status, 200)
    await hostedMacaw(dataDir, ['users', 'delete', '--account-id', ACCOUNT, '--name', 'ann'])
    assertType(await send(server.url, { headers: captured, body }), 'UnrecognizedClientException')
    // Re-creating a user of the same name gives a new key; the old one stays dead.
    await createUser(dataDir, ACCOUNT, 'ann', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] })
    assertType(await send(server.url, { headers: captured, body }), 'UnrecognizedClientException')
  })

  it("refuses a deleted access key's requests while the user's other key keeps working", async (t) => {
    const { server, dataDir } = await startKms(t)
    const key = await macKey(server.url)
    const bo = await createUser(dataDir, ACCOUNT, 'bo', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] })
    const second = JSON.parse(await hostedMacaw(dataDir, ['access-keys', 'create', '--account-id', ACCOUNT, '--user-name', 'bo'])) as { AccessKeyId: string; SecretAccessKey: string }
    const secondCreds = { accessKeyId: second.AccessKeyId, secretAccessKey: second.SecretAccessKey }
    const body = JSON.stringify(mac(key.keyId))
    const captured = await sign(server.url, 'TrentService.GenerateMac', body, { credentials: credentialsOf(bo) })
    await hostedMacaw(dataDir, ['access-keys', 'delete', '--account-id', ACCOUNT, '--access-key-id', bo.AccessKeyId])
    assertType(await send(server.url, { headers: captured, body }), 'UnrecognizedClientException')
    assertType(await call(server.url, 'ListKeys', {}, credentialsOf(bo)), 'UnrecognizedClientException')
    assert.equal((await call(server.url, 'GenerateMac', mac(key.keyId), secondCreds)).status, 200)
    // The deleted id with the surviving key's secret is still unknown.
    assertType(await call(server.url, 'ListKeys', {}, { accessKeyId: bo.AccessKeyId, secretAccessKey: second.SecretAccessKey }), 'UnrecognizedClientException')
  })

  it('refuses key policies that would lock the caller out (MalformedPolicyDocumentException) and keeps the old one', async (t) => {
    const { server, dataDir } = await startKms(t)
    const key = await macKey(server.url)
    const before = await call(server.url, 'GetKeyPolicy', { KeyId: key.keyId })
    const someone = await createUser(dataDir, ACCOUNT, 'someone')
    const lockouts = [
      // Only another user may manage the key.
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: someone.Arn }, Action: 'kms:*', Resource: '*' }] },
      // Everything but PutKeyPolicy.
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, NotAction: 'kms:PutKeyPolicy', Resource: '*' }] },
      // Allowed, then denied to everyone.
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Principal: '*', Action: 'kms:PutKeyPolicy', Resource: '*' }] },
      // Allowed only under a condition the caller's request does not meet.
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalArn': someone.Arn } } }] },
    ]
    for (const policy of lockouts) {
      const res = await call(server.url, 'PutKeyPolicy', { KeyId: key.keyId, PolicyName: 'default', Policy: JSON.stringify(policy) })
      assertType(res, 'MalformedPolicyDocumentException')
    }
    assert.equal((await call(server.url, 'GetKeyPolicy', { KeyId: key.keyId })).body, before.body)
    // The same at CreateKey: no key is left behind with a policy nobody can change.
    const created = await call(server.url, 'CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy: JSON.stringify(lockouts[0]) })
    assertType(created, 'MalformedPolicyDocumentException')
    assert.equal(((await call(server.url, 'ListKeys', {})).json?.['Keys'] as unknown[]).length, 1)
  })

  it("refuses a user's PutKeyPolicy that would remove that user", async (t) => {
    const { server, dataDir } = await startKms(t)
    const admin = await createUser(dataDir, ACCOUNT, 'admin')
    const other = await createUser(dataDir, ACCOUNT, 'other')
    const key = await macKey(server.url)
    const own = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: admin.Arn }, Action: 'kms:*', Resource: '*' }] }
    assert.equal((await call(server.url, 'PutKeyPolicy', { KeyId: key.keyId, PolicyName: 'default', Policy: JSON.stringify(own), BypassPolicyLockoutSafetyCheck: true })).status, 200)
    const handover = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: other.Arn }, Action: 'kms:*', Resource: '*' }] }
    assertType(await call(server.url, 'PutKeyPolicy', { KeyId: key.keyId, PolicyName: 'default', Policy: JSON.stringify(handover) }, credentialsOf(admin)), 'MalformedPolicyDocumentException')
    assert.equal((await call(server.url, 'GenerateMac', mac(key.keyId), credentialsOf(admin))).status, 200)
  })
})
