// Who may use a key, end to end: users made with `macaw users create` while the server runs, in
// two accounts, against a real server through @aws-sdk/client-kms (reference §9, §6.12, §6.13).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GenerateMacCommand,
  GetKeyPolicyCommand,
  ListGrantsCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  VerifyMacCommand,
  type KMSClient,
} from '@aws-sdk/client-kms'
import { ACCOUNT, REGION, ROOT, startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, refusedOnceChanged, rejectsWith } from '../helpers/keys.js'
import { createUser, credentialsOf, hostedMacaw } from '../helpers/process.js'

const OTHER = '444455556666'
const rootArn = (account: string) => `arn:aws:iam::${account}:root`
const mac = (kms: KMSClient, KeyId: string, GrantTokens?: string[]) =>
  kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', ...(GrantTokens ? { GrantTokens } : {}) }))
const denied = (who: string, action: string, arn: string, why = `because no resource-based policy allows the ${action} action`) =>
  `User: ${who} is not authorized to perform: ${action} on resource: ${arn} ${why}`
const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements })
const rootStatement = (account = ACCOUNT) => ({ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: rootArn(account) }, Action: 'kms:*', Resource: '*' })

describe('authorization', { concurrency: true }, () => {
  it('no access -> grant -> access -> revoke -> no access', async (t) => {
    const { kms, dataDir, client } = await startKms(t)
    const key = await hmacKey(kms)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    assert.equal(alice.Arn, `arn:aws:iam::${ACCOUNT}:user/alice`)
    const asAlice = client(REGION, credentialsOf(alice))

    // The default key policy delegates to IAM, and alice has no identity policy.
    await rejectsWith(mac(asAlice, key.keyId), 'AccessDeniedException', denied(alice.Arn, 'kms:GenerateMac', key.arn, 'because no identity-based policy allows the kms:GenerateMac action'))

    const grant = await kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: alice.Arn, Operations: ['GenerateMac', 'VerifyMac'] }))
    assert.match(grant.GrantId ?? '', /^[0-9a-f]{64}$/)
    assert.ok(grant.GrantToken)
    const made = await mac(asAlice, key.arn, [grant.GrantToken])
    assert.equal(made.KeyId, key.arn)
    await asAlice.send(new VerifyMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac: made.Mac }))
    // The grant gives GenerateMac and VerifyMac, not DescribeKey or DisableKey.
    await rejectsWith(asAlice.send(new DescribeKeyCommand({ KeyId: key.keyId })), 'AccessDeniedException')
    await rejectsWith(asAlice.send(new DisableKeyCommand({ KeyId: key.keyId })), 'AccessDeniedException')

    const listed = await kms.send(new ListGrantsCommand({ KeyId: key.keyId }))
    assert.equal(listed.Truncated, false)
    assert.deepEqual(
      listed.Grants?.map((g) => ({ ...g, CreationDate: undefined })),
      [{ KeyId: key.arn, GrantId: grant.GrantId, CreationDate: undefined, GranteePrincipal: alice.Arn, IssuingAccount: rootArn(ACCOUNT), Operations: ['GenerateMac', 'VerifyMac'] }],
    )

    await kms.send(new RevokeGrantCommand({ KeyId: key.keyId, GrantId: grant.GrantId }))
    await rejectsWith(mac(asAlice, key.keyId), 'AccessDeniedException')
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.keyId }))).Grants, [])
    await rejectsWith(kms.send(new RevokeGrantCommand({ KeyId: key.keyId, GrantId: grant.GrantId })), 'InvalidGrantIdException')
  })

  it('gives an IAM user what its identity policy allows, and nothing once the user is deleted', async (t) => {
    const { kms, dataDir, client } = await startKms(t)
    const key = await hmacKey(kms)
    const bob = await createUser(dataDir, ACCOUNT, 'bob', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['kms:GenerateMac', 'kms:CreateKey'], Resource: '*' }],
    })
    const asBob = client(REGION, credentialsOf(bob))
    await mac(asBob, key.keyId)
    const own = await asBob.send(new CreateKeyCommand({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' }))
    assert.equal(own.KeyMetadata?.AWSAccountId, ACCOUNT)
    await rejectsWith(asBob.send(new DisableKeyCommand({ KeyId: key.keyId })), 'AccessDeniedException', denied(bob.Arn, 'kms:DisableKey', key.arn, 'because no identity-based policy allows the kms:DisableKey action'))

    // A stricter identity policy takes effect on the next request.
    const strict = `${dataDir}/strict.json`
    await import('node:fs/promises').then((fs) => fs.writeFile(strict, policyOf({ Effect: 'Deny', Action: 'kms:*', Resource: '*' })))
    await hostedMacaw(dataDir, ['users', 'put-policy', '--account-id', ACCOUNT, '--name', 'bob', '--policy', strict])
    await refusedOnceChanged(() => mac(asBob, key.keyId), 'AccessDeniedException', denied(bob.Arn, 'kms:GenerateMac', key.arn, 'with an explicit deny in an identity-based policy'))

    const listed = JSON.parse(await hostedMacaw(dataDir, ['users', 'list', '--account-id', ACCOUNT])) as { UserName: string; AccessKeyIds: string[] }[]
    assert.deepEqual(listed.map((u) => [u.UserName, u.AccessKeyIds]), [['bob', [bob.AccessKeyId]]])
    assert.ok(!JSON.stringify(listed).includes(bob.SecretAccessKey))
    await hostedMacaw(dataDir, ['users', 'delete', '--account-id', ACCOUNT, '--name', 'bob'])
    await refusedOnceChanged(() => mac(asBob, key.keyId), 'UnrecognizedClientException')
  })

  it('enforces a key policy with a condition', async (t) => {
    const { kms, dataDir, client } = await startKms(t)
    const key = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: key.keyId }))
    const carl = await createUser(dataDir, ACCOUNT, 'carl')
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: key.keyId,
        Policy: policyOf(rootStatement(), {
          Sid: 'carl through the alias only',
          Effect: 'Allow',
          Principal: { AWS: carl.Arn },
          Action: 'kms:GenerateMac',
          Resource: '*',
          Condition: { StringEquals: { 'kms:RequestAlias': 'alias/app', 'kms:MacAlgorithm': 'HMAC_SHA_256' } },
        }),
      }),
    )
    const asCarl = client(REGION, credentialsOf(carl))
    await mac(asCarl, 'alias/app')
    // The root statement still delegates to carl's (empty) identity policy.
    await rejectsWith(mac(asCarl, key.keyId), 'AccessDeniedException', denied(carl.Arn, 'kms:GenerateMac', key.arn, 'because no identity-based policy allows the kms:GenerateMac action'))
    const stored = await kms.send(new GetKeyPolicyCommand({ KeyId: key.keyId }))
    assert.equal((JSON.parse(stored.Policy ?? '{}') as { Statement: { Sid: string }[] }).Statement[1]?.Sid, 'carl through the alias only')
  })

  it('lets an explicit deny beat a grant, and checks DryRun permissions', async (t) => {
    const { kms, dataDir, client } = await startKms(t)
    const key = await hmacKey(kms)
    const dana = await createUser(dataDir, ACCOUNT, 'dana')
    const asDana = client(REGION, credentialsOf(dana))
    await kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: dana.Arn, Operations: ['GenerateMac'] }))
    await rejectsWith(
      asDana.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', DryRun: true })),
      'DryRunOperationException',
    )
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: key.keyId,
        Policy: policyOf(rootStatement(), { Effect: 'Deny', Principal: { AWS: dana.Arn }, Action: 'kms:GenerateMac', Resource: '*' }),
      }),
    )
    await rejectsWith(mac(asDana, key.keyId), 'AccessDeniedException', denied(dana.Arn, 'kms:GenerateMac', key.arn, 'with an explicit deny in a resource-based policy'))
    // A denied dry run is denied, not "would have succeeded".
    await rejectsWith(
      asDana.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', DryRun: true })),
      'AccessDeniedException',
    )
  })

  it('refuses policies that lock the caller out, unless told to bypass the check', async (t) => {
    const { kms, dataDir } = await startKms(t)
    const key = await hmacKey(kms)
    const erin = await createUser(dataDir, ACCOUNT, 'erin')
    const onlyErin = policyOf({ Effect: 'Allow', Principal: { AWS: erin.Arn }, Action: 'kms:*', Resource: '*' })
    const lockout = 'The new key policy will not allow you to update the key policy in the future.'
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: onlyErin })), 'MalformedPolicyDocumentException', lockout)
    await rejectsWith(kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy: onlyErin })), 'MalformedPolicyDocumentException', lockout)
    // Principals must exist.
    const ghost = policyOf(rootStatement(), { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/ghost` }, Action: 'kms:*', Resource: '*' })
    await rejectsWith(
      kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: ghost })),
      'MalformedPolicyDocumentException',
      'Policy contains a statement with one or more invalid principals.',
    )
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps"}]}' })), 'MalformedPolicyDocumentException')
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: policyOf(rootStatement()).padEnd(32769, ' ') })), 'LimitExceededException')
    // Nothing was stored by the refused requests.
    assert.equal((JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: key.keyId }))).Policy ?? '') as { Id: string }).Id, 'key-default-1')

    await kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: onlyErin, BypassPolicyLockoutSafetyCheck: true }))
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: policyOf(rootStatement()) })), 'AccessDeniedException')
    await rejectsWith(mac(kms, key.keyId), 'AccessDeniedException')
  })

  it('serves another account by key ARN or alias ARN when both policies allow it, never by bare id', async (t) => {
    const { kms, dataDir, client } = await startKms(t)
    const otherRoot = JSON.parse(await hostedMacaw(dataDir, ['access-keys', 'create', '--account-id', OTHER])) as { AccessKeyId: string; SecretAccessKey: string; Arn: string }
    assert.equal(otherRoot.Arn, rootArn(OTHER))
    const asOther = client(REGION, { accessKeyId: otherRoot.AccessKeyId, secretAccessKey: otherRoot.SecretAccessKey })
    const frank = await createUser(dataDir, OTHER, 'frank')
    const asFrank = client(REGION, credentialsOf(frank))
    const gina = await createUser(dataDir, OTHER, 'gina', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }] })
    const asGina = client(REGION, credentialsOf(gina))

    const key = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/shared', TargetKeyId: key.keyId }))
    await rejectsWith(mac(asOther, key.arn), 'AccessDeniedException', denied(rootArn(OTHER), 'kms:GenerateMac', key.arn))
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: key.keyId,
        Policy: policyOf(rootStatement(), { Effect: 'Allow', Principal: { AWS: rootArn(OTHER) }, Action: ['kms:GenerateMac', 'kms:DisableKey'], Resource: '*' }),
      }),
    )
    assert.equal((await mac(asOther, key.arn)).KeyId, key.arn)
    assert.equal((await mac(asOther, `arn:aws:kms:${REGION}:${ACCOUNT}:alias/shared`)).KeyId, key.arn)
    // A bare key id or alias name resolves in the caller's own account.
    await rejectsWith(mac(asOther, key.keyId), 'NotFoundException', `Key 'arn:aws:kms:${REGION}:${OTHER}:key/${key.keyId}' does not exist`)
    await rejectsWith(mac(asOther, 'alias/shared'), 'NotFoundException', `Alias arn:aws:kms:${REGION}:${OTHER}:alias/shared is not found.`)
    // DisableKey is not a cross-account operation, whatever the policy says.
    await rejectsWith(asOther.send(new DisableKeyCommand({ KeyId: key.arn })), 'AccessDeniedException')
    // A user of the other account also needs its own identity policy.
    await rejectsWith(mac(asFrank, key.arn), 'AccessDeniedException', denied(frank.Arn, 'kms:GenerateMac', key.arn, 'because no identity-based policy allows the kms:GenerateMac action'))
    assert.equal((await mac(asGina, key.arn)).KeyId, key.arn)
  })

  it('creates grants the way AWS does: operations, names, tokens, retiring and listing', async (t) => {
    const { kms, dataDir, client } = await startKms(t)
    const key = await hmacKey(kms)
    const hank = await createUser(dataDir, ACCOUNT, 'hank')
    const ivy = await createUser(dataDir, ACCOUNT, 'ivy')
    const asHank = client(REGION, credentialsOf(hank))
    const asIvy = client(REGION, credentialsOf(ivy))

    await rejectsWith(kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: hank.Arn, Operations: ['Encrypt'] })), 'ValidationException')
    await rejectsWith(
      kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: hank.Arn, Operations: ['GenerateMac'], Constraints: { EncryptionContextEquals: { a: 'b' } } })),
      'ValidationException',
    )
    // AWS's text (test/fixtures/aws-texts.json); CreateGrant beside another operation is fine.
    await rejectsWith(
      kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: hank.Arn, Operations: ['CreateGrant', 'CreateGrant'] })),
      'ValidationException',
      'Grants must not contain only the CreateGrant operation.',
    )
    await rejectsWith(kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: hank.Arn, Operations: ['GenerateMac'], DryRun: true })), 'DryRunOperationException')
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: key.keyId }))).Grants, [])

    const params = { KeyId: key.keyId, GranteePrincipal: hank.Arn, RetiringPrincipal: ivy.Arn, Operations: ['GenerateMac' as const, 'CreateGrant' as const], Name: 'hank-mac' }
    const first = await kms.send(new CreateGrantCommand(params))
    const again = await kms.send(new CreateGrantCommand(params))
    assert.equal(again.GrantId, first.GrantId)
    assert.notEqual(again.GrantToken, first.GrantToken)
    await mac(asHank, key.keyId, [again.GrantToken ?? ''])
    await rejectsWith(mac(asHank, key.keyId, ['not-a-token']), 'InvalidGrantTokenException')

    // Hank may pass on what his grant holds, and nothing more.
    await rejectsWith(asHank.send(new CreateGrantCommand({ KeyId: key.arn, GranteePrincipal: ivy.Arn, Operations: ['VerifyMac'] })), 'AccessDeniedException')
    const delegated = await asHank.send(new CreateGrantCommand({ KeyId: key.arn, GranteePrincipal: ivy.Arn, Operations: ['GenerateMac'] }))
    await mac(asIvy, key.keyId)

    const retirable = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: ivy.Arn }))
    assert.deepEqual(retirable.Grants?.map((g) => g.GrantId), [first.GrantId])
    assert.equal(retirable.Grants?.[0]?.Name, 'hank-mac')
    // Hank is the grantee but his grant does not include RetireGrant; ivy is the retiring principal.
    await rejectsWith(asHank.send(new RetireGrantCommand({ GrantToken: first.GrantToken })), 'AccessDeniedException')
    await rejectsWith(asIvy.send(new RetireGrantCommand({ GrantToken: first.GrantToken, DryRun: true })), 'DryRunOperationException')
    await asIvy.send(new RetireGrantCommand({ GrantToken: first.GrantToken }))
    await rejectsWith(mac(asHank, key.keyId), 'AccessDeniedException')
    await rejectsWith(asIvy.send(new RetireGrantCommand({ GrantToken: first.GrantToken })), 'InvalidGrantIdException')
    // The issuing account's root may retire by key and grant id.
    await kms.send(new RetireGrantCommand({ KeyId: key.keyId, GrantId: delegated.GrantId }))
    await rejectsWith(mac(asIvy, key.keyId), 'AccessDeniedException')
    await rejectsWith(kms.send(new RetireGrantCommand({})), 'ValidationException')

    // Paging.
    for (let i = 0; i < 3; i++) await kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: ivy.Arn, Operations: ['DescribeKey'] }))
    const page1 = await kms.send(new ListGrantsCommand({ KeyId: key.keyId, Limit: 2 }))
    assert.equal(page1.Truncated, true)
    const page2 = await kms.send(new ListGrantsCommand({ KeyId: key.keyId, Limit: 2, Marker: page1.NextMarker }))
    assert.equal(page2.Truncated, false)
    assert.equal((page1.Grants?.length ?? 0) + (page2.Grants?.length ?? 0), 3)
    await asIvy.send(new DescribeKeyCommand({ KeyId: key.keyId }))
  })

  it('keeps the default account root working as before', async (t) => {
    const { kms } = await startKms(t)
    const key = await hmacKey(kms)
    await mac(kms, key.keyId)
    assert.equal(ROOT.accessKeyId.length > 0, true)
  })
})
