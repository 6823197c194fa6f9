// Two `macaw serve` processes sharing one PostgreSQL database: what one node writes, the other
// uses on its next request; revocations reach the other node well within the cache TTL (1 s);
// races between nodes stay consistent; a node killed mid-load does not disturb the other.
// Needs MACAW_TEST_POSTGRES_URL and a built dist/; skipped without the URL.
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { after, before, describe, it } from 'node:test'
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GenerateMacCommand,
  ListAliasesCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
  UpdateAliasCommand,
  type KMSClient,
} from '@aws-sdk/client-kms'
import { ACCOUNT } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'
import { macaw, type CreatedUser } from '../helpers/process.js'
import { NEEDS_POSTGRES, POSTGRES_SKIP_REASON } from '../helpers/postgres.js'
import { formatStats, measureDisable, measureOnce, startCluster, stats, type Cluster } from '../../scripts/measure-propagation.js'
import { waitFor } from '../helpers/wait.js'

/**
 * `call`'s result once it succeeds, retried for at most BOUND_MS: a change (not a new object)
 * reaches another node by its notice, a few milliseconds after the commit; the guarantee is the bound.
 */
async function withinBound<T>(call: () => Promise<T>): Promise<T> {
  const started = performance.now()
  for (;;) {
    try {
      return await call()
    } catch (err) {
      if (performance.now() - started > BOUND_MS) throw err
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}

const SAMPLES = 20
/** The promise: a revocation stops working on every node within the cache TTL (default 1 s). */
const BOUND_MS = 1000

const mac = (kms: KMSClient, KeyId: string) => kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
const credentialsOf = (u: CreatedUser) => ({ accessKeyId: u.AccessKeyId, secretAccessKey: u.SecretAccessKey })
const rootStatement = { Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }

/** `macaw users create` against the cluster's database (the servers are running). */
async function createUser(cluster: Cluster, name: string): Promise<CreatedUser> {
  return JSON.parse(await macaw(cluster.a.dataDir, ['users', 'create', '--name', name], cluster.env)) as CreatedUser
}

/** The worker processes of a `serve --workers N` primary (Linux /proc; none elsewhere). */
async function workersOf(pid: number | undefined): Promise<number[]> {
  if (pid === undefined) return []
  try {
    return (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function assertWithinBound(samples: readonly number[], what: string, diagnostic: (message: string) => void): void {
  const s = stats(samples)
  diagnostic(`${what}: ${formatStats(s, samples.length)}`)
  assert.equal(samples.length, SAMPLES)
  assert.ok(s.max <= BOUND_MS, `${what}: slowest sample took ${s.max.toFixed(1)} ms (all: ${samples.map((x) => x.toFixed(0)).join(', ')})`)
}

describe('two nodes on one PostgreSQL database', () => {
  let cluster: Cluster
  before(async () => {
    if (POSTGRES_SKIP_REASON !== undefined) return
    cluster = await startCluster()
  })
  after(async () => {
    if (POSTGRES_SKIP_REASON !== undefined) return
    await cluster.close()
  })

  it('uses on node B the key, alias, grant, user and key policy made on node A: new ones on the next request, changes within the bound', NEEDS_POSTGRES, async () => {
    const { a, b } = cluster
    // A key B has never seen.
    const key = await hmacKey(a.kms)
    await mac(b.kms, key.keyId)

    // An alias B has already looked up and found missing.
    const alias = `alias/multinode-${key.keyId}`
    await rejectsWith(mac(b.kms, alias), 'NotFoundException')
    await a.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.keyId }))
    // B cached its absence: the notice tells it, usually before this request (docs/multinode.md).
    assert.equal((await withinBound(() => mac(b.kms, alias))).KeyId, key.arn)

    // A user made by the admin CLI while both nodes run.
    const user = await createUser(cluster, `multinode-${key.keyId.slice(0, 8)}`)
    const userOnA = a.client(credentialsOf(user))
    const userOnB = b.client(credentialsOf(user))
    // No identity policy: denied on B (which now holds the key and the user in its caches).
    await rejectsWith(mac(userOnB, key.keyId), 'AccessDeniedException')

    // A grant made on A lets the user in on B.
    // B holds the key (and its grants) in its cache: the grant reaches it by the notice.
    const grant = await a.kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: user.Arn, Operations: ['GenerateMac'] }))
    await withinBound(() => mac(userOnB, key.keyId))
    await a.kms.send(new RevokeGrantCommand({ KeyId: key.keyId, GrantId: grant.GrantId }))
    await withinBound(() => rejectsWith(mac(userOnB, key.keyId), 'AccessDeniedException'))

    // A key policy put on A lets the user in on B.
    const policy = { Version: '2012-10-17', Statement: [rootStatement, { Sid: 'user', Effect: 'Allow', Principal: { AWS: user.Arn }, Action: 'kms:GenerateMac', Resource: '*' }] }
    await a.kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: JSON.stringify(policy) }))
    assert.equal((await withinBound(() => mac(userOnB, key.keyId))).KeyId, key.arn)
    // And the user works on A too (both nodes read the same secret under the shared root key).
    await mac(userOnA, key.keyId)
  })

  it(`stops GenerateMac on node B within ${BOUND_MS} ms of DisableKey on node A (${SAMPLES} samples)`, NEEDS_POSTGRES, async (t) => {
    assertWithinBound(await measureDisable(cluster, SAMPLES), 'DisableKey propagation', (m) => t.diagnostic(m))
  })

  it(`denies on node B within ${BOUND_MS} ms of RevokeGrant on node A (${SAMPLES} samples)`, NEEDS_POSTGRES, async (t) => {
    const { a, b } = cluster
    const user = await createUser(cluster, 'multinode-grantee')
    const userOnB = b.client(credentialsOf(user))
    const samples: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      const key = await hmacKey(a.kms)
      const grant = await a.kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: user.Arn, Operations: ['GenerateMac'] }))
      samples.push(
        await measureOnce({
          probe: () => mac(userOnB, key.keyId),
          change: () => a.kms.send(new RevokeGrantCommand({ KeyId: key.keyId, GrantId: grant.GrantId })),
          expected: 'AccessDeniedException',
        }),
      )
    }
    assertWithinBound(samples, 'RevokeGrant propagation', (m) => t.diagnostic(m))
  })

  it(`refuses on node B within ${BOUND_MS} ms an access key deleted by \`macaw access-keys delete\` (${SAMPLES} samples)`, NEEDS_POSTGRES, async (t) => {
    const { a, b } = cluster
    const userName = 'multinode-keyholder'
    const user = await createUser(cluster, userName)
    const key = await hmacKey(a.kms)
    const policy = { Version: '2012-10-17', Statement: [rootStatement, { Sid: 'user', Effect: 'Allow', Principal: { AWS: user.Arn }, Action: 'kms:GenerateMac', Resource: '*' }] }
    await a.kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: JSON.stringify(policy) }))
    // The access keys first, in parallel (each is one CLI run); then one measured delete each.
    const created = await Promise.all(
      Array.from({ length: SAMPLES - 1 }, async () => JSON.parse(await macaw(a.dataDir, ['access-keys', 'create', '--user-name', userName], cluster.env)) as CreatedUser),
    )
    const samples: number[] = []
    for (const accessKey of [user, ...created]) {
      const onB = b.client(credentialsOf(accessKey))
      samples.push(
        await measureOnce({
          probe: () => mac(onB, key.keyId),
          change: () => macaw(a.dataDir, ['access-keys', 'delete', '--access-key-id', accessKey.AccessKeyId], cluster.env),
          expected: 'UnrecognizedClientException',
        }),
      )
    }
    assertWithinBound(samples, 'access key deletion propagation', (m) => t.diagnostic(m))
  })

  it(`ends on node B within ${BOUND_MS} ms the sessions of a role revoked with \`macaw roles revoke-sessions\` (${SAMPLES} samples)`, NEEDS_POSTGRES, async (t) => {
    const { a, b } = cluster
    const user = await createUser(cluster, 'multinode-assumer')
    const trust = join(a.dataDir, 'multinode-trust.json')
    const perms = join(a.dataDir, 'multinode-role-policy.json')
    await writeFile(trust, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: user.Arn }, Action: 'sts:AssumeRole' }] }))
    await writeFile(perms, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: '*' }] }))
    const role = (JSON.parse(await macaw(a.dataDir, ['roles', 'create', '--name', 'multinode', '--trust-policy', trust, '--policy', perms], cluster.env)) as { Role: { Arn: string } }).Role.Arn
    const key = await hmacKey(a.kms)
    const sts = new STSClient({ endpoint: a.process.url, region: 'us-east-1', credentials: credentialsOf(user), maxAttempts: 1 })
    t.after(() => sts.destroy())
    const samples: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      // A session issued on node A, used on node B, revoked through the shared database.
      const c = (await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: `s${i}` }))).Credentials
      const onB = b.client({ accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' })
      await mac(onB, key.keyId)
      await new Promise((resolve) => setTimeout(resolve, 2))
      samples.push(
        await measureOnce({
          probe: () => mac(onB, key.keyId),
          change: () => macaw(a.dataDir, ['roles', 'revoke-sessions', '--name', 'multinode'], cluster.env),
          expected: 'AccessDeniedException',
        }),
      )
    }
    assertWithinBound(samples, 'session revocation propagation', (m) => t.diagnostic(m))
  })

  it('keeps an alias unique and on one of its targets while both nodes race to create and move it', NEEDS_POSTGRES, async () => {
    const { a, b } = cluster
    const targets = await Promise.all(Array.from({ length: 4 }, () => hmacKey(a.kms)))
    const ids = new Set(targets.map((k) => k.keyId))
    const nodes = [a.kms, b.kms]
    for (let round = 0; round < 5; round++) {
      const alias = `alias/race-${round}-${targets[0]?.keyId ?? ''}`
      // Every node and target tries to create the alias at once: exactly one wins.
      const creates = await Promise.allSettled(
        targets.flatMap((k) => nodes.map((kms) => kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: k.keyId })))),
      )
      assert.equal(creates.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: one CreateAlias succeeds`)
      for (const r of creates) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'AlreadyExistsException')
      // Then both nodes move it around concurrently: every UpdateAlias succeeds (last writer wins).
      await Promise.all(
        Array.from({ length: 3 }, () => targets.flatMap((k) => nodes.map((kms) => kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: k.keyId }))))).flat(),
      )
      const listed = (await b.kms.send(new ListAliasesCommand({ Limit: 1000 }))).Aliases?.filter((x) => x.AliasName === alias) ?? []
      assert.equal(listed.length, 1)
      const target = listed[0]?.TargetKeyId
      assert.ok(target !== undefined && ids.has(target), `alias points at ${String(target)}`)
      // Both nodes resolve it to that one key.
      for (const kms of nodes) assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: alias }))).KeyMetadata?.KeyId, target)
    }
  })
})


describe('a node killed with SIGKILL mid-load', () => {
  it('leaves the other node serving without a single error', NEEDS_POSTGRES, async (t) => {
    const cluster = await startCluster()
    t.after(() => cluster.close())
    const { a, b } = cluster
    const key = await hmacKey(a.kms)
    await mac(b.kms, key.keyId)
    const errors: string[] = []
    let served = 0
    let stop = false
    const load = async (record: boolean, work: () => Promise<unknown>): Promise<void> => {
      while (!stop) {
        try {
          await work()
          if (record) served++
        } catch (err) {
          if (record) errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
          // Node A's requests fail once it is dead; only pace them.
          else await new Promise((resolve) => setTimeout(resolve, 10))
        }
      }
    }
    // Writes on both nodes (CreateKey, audit records) so that A dies with transactions in flight.
    const loops = [
      load(false, () => mac(a.kms, key.keyId)),
      load(false, () => a.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))),
      load(true, () => mac(b.kms, key.keyId)),
      load(true, () => mac(b.kms, key.keyId)),
      load(true, () => b.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))),
    ]
    // Under way on both nodes before the kill (a count, not a time: this machine is shared).
    await waitFor('node B has served 50 requests under load', () => served >= 50, { timeoutMs: 30_000 })
    // The whole node at once, workers included: a dead machine gives nobody time to clean up.
    // The primary first (it would fork replacements for dead workers), then its workers.
    const workers = await workersOf(a.process.child.pid)
    const killed = a.process.kill9()
    for (const pid of workers) process.kill(pid, 'SIGKILL')
    await killed
    const before = served
    // Node B goes on serving: 100 more requests, each without an error.
    await waitFor('node B serves 100 requests after the kill', () => served - before >= 100 || errors.length > 0, { timeoutMs: 30_000 }).finally(() => (stop = true))
    await Promise.all(loops)
    t.diagnostic(`node B served ${served} requests (${served - before} after node A and its ${workers.length} workers were killed)`)
    assert.deepEqual(errors, [])
    assert.ok(served - before >= 100)
  })
})
