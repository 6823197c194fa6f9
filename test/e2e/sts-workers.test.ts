// Roles operated as an operator would: `macaw serve` with its default two workers, boto3 as the
// client (a new connection per call, so the workers take turns), and the `roles` commands run
// while it serves. A revocation or a deletion holds on the next request, whichever worker answers;
// the audit trail shows the STS calls and the role sessions behind the KMS calls.
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { PutKeyPolicyCommand } from '@aws-sdk/client-kms'
import { hmacKey } from '../helpers/keys.js'
import { createRole, createUser, hostedMacaw, removeDataDir, spawnServer } from '../helpers/process.js'
import { ACCOUNT, kmsClient } from '../helpers/server.js'
import { NEEDS_BOTO3, pythonSession } from '../helpers/python.js'
import { waitFor } from '../helpers/wait.js'

/** assume: the session's credentials; mac: 6 GenerateMac calls, each on a new client (a new connection). */
const SCRIPT = `
import boto3, botocore
cfg = botocore.config.Config(retries={'max_attempts': 1})
def session(access, secret, token):
    return boto3.session.Session(aws_access_key_id=access, aws_secret_access_key=secret,
                                 aws_session_token=token or None, region_name='us-east-1')
def handle(mode, url, key_id, access, secret, token):
    if mode == 'assume':
        sts = session(access, secret, token).client('sts', endpoint_url=url, config=cfg)
        c = sts.assume_role(RoleArn=key_id, RoleSessionName='worker-test', DurationSeconds=900)['Credentials']
        return [c['AccessKeyId'], c['SecretAccessKey'], c['SessionToken']]
    out = []
    for _ in range(6):
        kms = session(access, secret, token).client('kms', endpoint_url=url, config=cfg)
        try:
            out.append(kms.generate_mac(KeyId=key_id, Message=b'x', MacAlgorithm='HMAC_SHA_256')['KeyId'].split(':')[2])
        except botocore.exceptions.ClientError as e:
            out.append(e.response['Error']['Code'])
    return out
`

describe('roles on the default deployment (two workers, boto3)', () => {
  it('holds a revocation and a role deletion on the next request of every worker, and audits the sessions', { skip: NEEDS_BOTO3, timeout: 120_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-sts-workers-'))
    t.after(() => removeDataDir(dir))
    const server = await spawnServer(dir, { MACAW_WORKERS: '2' })
    const root = kmsClient(server.url)
    t.after(() => root.destroy())
    const alice = await createUser(dir, ACCOUNT, 'alice')
    const role = await createRole(dir, ACCOUNT, 'app', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: alice.Arn }, Action: 'sts:AssumeRole' }] })
    const key = await hmacKey(root)
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: role }, Action: 'kms:GenerateMac', Resource: '*' },
      ],
    })
    await root.send(new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy }))
    // One python process for every call (each call still makes new clients and connections).
    const py = pythonSession(SCRIPT)
    t.after(() => py.close())
    const run = (...args: string[]): Promise<unknown> => py.call(...args)
    const assume = async () => (await run('assume', server.url, role, alice.AccessKeyId, alice.SecretAccessKey, '')) as [string, string, string]
    const macs = (creds: [string, string, string]) => run('mac', server.url, key.arn, ...creds)
    const six = (what: string) => Array.from({ length: 6 }, () => what)

    const first = await assume()
    assert.deepEqual(await macs(first), six('kms'))
    await new Promise((resolve) => setTimeout(resolve, 5))
    await hostedMacaw(dir, ['roles', 'revoke-sessions', '--name', 'app'])
    assert.deepEqual(await macs(first), six('AccessDeniedException'), 'revoked on both workers at once')
    await new Promise((resolve) => setTimeout(resolve, 5))
    const second = await assume()
    assert.deepEqual(await macs(second), six('kms'), 'a session issued after the revocation works on both workers')
    await hostedMacaw(dir, ['roles', 'delete', '--name', 'app'])
    assert.deepEqual(await macs(second), six('UnrecognizedClientException'), 'deleted on both workers at once')

    type Event = { eventSource: string; eventName: string; errorCode?: string; userIdentity: { type: string; arn?: string; sessionContext?: { sessionIssuer?: { arn?: string } } }; responseElements?: { credentials?: Record<string, unknown> } | null }
    let events: Event[] = []
    await waitFor(
      'the audit records of the STS calls and the session calls',
      async () => {
        events = (await hostedMacaw(dir, ['audit', 'query'])).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event)
        return events.filter((e) => e.eventName === 'GenerateMac').length >= 24
      },
      { timeoutMs: 20_000, everyMs: 200 },
    )
    const assumed = events.filter((e) => e.eventSource === 'sts.amazonaws.com' && e.eventName === 'AssumeRole')
    assert.equal(assumed.length, 2)
    assert.equal(assumed[0]?.userIdentity.arn, alice.Arn)
    assert.deepEqual(Object.keys(assumed[0]?.responseElements?.credentials ?? {}).sort(), ['accessKeyId', 'expiration'], 'never the secret or the token')
    const bySession = events.filter((e) => e.eventName === 'GenerateMac' && e.userIdentity.type === 'AssumedRole')
    assert.equal(bySession.length, 18, 'the unrecognized ones have no identity')
    assert.ok(bySession.every((e) => e.userIdentity.arn === `arn:aws:sts::${ACCOUNT}:assumed-role/app/worker-test` && e.userIdentity.sessionContext?.sessionIssuer?.arn === role))
    assert.equal(bySession.filter((e) => e.errorCode === 'AccessDeniedException').length, 6)
    await server.stop()
    assert.match(await hostedMacaw(dir, ['audit', 'verify']), /audit chain ok/)
  })
})
