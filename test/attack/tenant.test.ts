// A hostile or careless tenant, replayed: each attack that once took the service down or blinded
// its audit trail, bounded in count and time, with the bound it must now keep. The flood is
// MACAW_ATTACK_FLOOD requests (1,000 in `npm test`, 20,000 with MACAW_TEST_FULL=1 as CI runs it;
// the figure is 100,000).
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import {
  CreateGrantCommand,
  CreateKeyCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  KMSClient,
  ListRetirableGrantsCommand,
  RevokeGrantCommand,
} from '@aws-sdk/client-kms'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { hmacKey, MESSAGE } from '../helpers/keys.js'
import { createUser, credentialsOf, spawnServer, treeRss, type ServerProcess, removeDataDir } from '../helpers/process.js'
import { PYTHON, python } from '../helpers/python.js'
import { ACCOUNT, REGION, ROOT, startKms } from '../helpers/server.js'
import { WrappingKeyGenerator } from '../../src/keys/wrapping-keys.js'
import { rounds } from '../helpers/scale.js'
import { repoPath } from '../helpers/repo.js'
import { cloudTrailText } from '../../src/audit/event.js'

const FLOOD = rounds('MACAW_ATTACK_FLOOD', 1000, 20_000)
/** Grants on one key for the grants-at-scale check (the bench creates 10,000). */
const GRANTS = rounds('MACAW_ATTACK_GRANTS', 300, 1000)
const TEXTS = (JSON.parse(readFileSync(repoPath('test', 'fixtures', 'aws-texts.json'), 'utf8')) as { texts: Record<string, { message: string }> }).texts
const THROTTLED = TEXTS['ThrottlingException']?.message
const OTHER = '444455556666'

/** A `serve` process with two workers (the default on this machine) and a root client. */
async function twoWorkers(t: TestContext): Promise<{ dataDir: string; server: ServerProcess; kms: KMSClient }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'macaw-tenant-'))
  const server = await spawnServer(dataDir, { MACAW_WORKERS: '2' })
  const kms = client(server.url)
  t.after(async () => {
    kms.destroy()
    await server.stop()
    await removeDataDir(dataDir)
  })
  return { dataDir, server, kms }
}

function client(url: string, credentials = ROOT): KMSClient {
  return new KMSClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 })
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

/** `n` TCP connections to the server that send nothing; destroyed after the test. */
function openConnections(t: TestContext, url: string, n: number): Socket[] {
  const u = new URL(url)
  const sockets = Array.from({ length: n }, () => connect(Number(u.port), u.hostname).on('error', () => {}))
  t.after(() => sockets.forEach((s) => s.destroy()))
  return sockets
}

function get(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('a hostile tenant', { timeout: 180_000 }, () => {
  it('cannot freeze a worker with an adversarial key policy; /healthz answers meanwhile', async (t) => {
    const { server, kms } = await twoWorkers(t)
    const root = `arn:aws:iam::${ACCOUNT}:root`
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Root', Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*', Resource: '*' },
        // Froze a worker for 15-39 s per request as a RegExp.
        { Sid: 'Glob', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: 'arn:*?*?*?*?*?*?*?!' },
        // Took 5 s against a 235-character grantee.
        {
          Sid: 'Grantee',
          Effect: 'Deny',
          Principal: '*',
          Action: 'kms:CreateGrant',
          Resource: '*',
          Condition: { StringLike: { 'kms:GranteePrincipal': `arn:aws:iam::${ACCOUNT}:user/app-*-*-*-*-*-svc` } },
        },
      ],
    })
    const key = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy, BypassPolicyLockoutSafetyCheck: true }))
    const KeyId = key.KeyMetadata?.Arn ?? ''
    const grantee = `arn:aws:iam::${ACCOUNT}:user/app-${'-'.repeat(200)}x`
    let healthy = 0
    let probing = true
    const probe = (async () => {
      while (probing) {
        const started = performance.now()
        const r = await get(server.url, '/healthz')
        if (r.status === 200 && performance.now() - started < 1000) healthy++
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    for (let i = 0; i < 20; i++) {
      await kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
      await kms.send(new CreateGrantCommand({ KeyId, GranteePrincipal: grantee, Operations: ['GenerateMac'] }))
    }
    probing = false
    await probe
    assert.ok(healthy > 0, '/healthz answered within a second while the policy was evaluated')
  })

  it('gets LimitExceededException beyond the key quota', async (t) => {
    const { kms } = await startKms(t, { settings: { quotaKeys: 3 } })
    for (let i = 0; i < 3; i++) await hmacKey(kms)
    await assert.rejects(kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })), {
      name: 'LimitExceededException',
      message: TEXTS['LimitExceededException (key quota)']?.message.replace('{quota}', '3').replace('{usage}', '3'),
    })
  })

  it(`floods anonymously (${FLOOD} requests) within the documented disk and memory bounds`, async (t) => {
    const { dataDir, server, kms } = await twoWorkers(t)
    const { arn } = await hmacKey(kms)
    await kms.send(new GenerateMacCommand({ KeyId: arn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    await new Promise((resolve) => setTimeout(resolve, 500))
    const diskBefore = await dirBytes(dataDir)
    const rssBefore = treeRss(server.child.pid ?? 0)
    const agent = new Agent({ keepAlive: true, maxSockets: 32 })
    const body = JSON.stringify({ KeyId: 'x'.repeat(100_000), Message: 'y'.repeat(100_000) })
    let sent = 0
    let refused = 0
    const worker = async (): Promise<void> => {
      while (sent < FLOOD) {
        sent++
        // A different made-up access key id and signing scope every time.
        const id = `AKIA${String(sent).padStart(16, '0')}`
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(
            new URL(server.url),
            {
              method: 'POST',
              agent,
              headers: {
                'content-type': 'application/x-amz-json-1.1',
                'x-amz-target': 'TrentService.GenerateMac',
                'user-agent': 'u'.repeat(8000),
                'x-amz-date': new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''),
                authorization: `AWS4-HMAC-SHA256 Credential=${id}/20200101/xx-made-up-${sent % 1000}/kms/aws4_request, SignedHeaders=host;x-amz-target, Signature=${'0'.repeat(64)}`,
              },
            },
            (res) => {
              res.resume()
              res.on('end', () => resolve(res.statusCode ?? 0))
            },
          )
          req.on('error', reject)
          req.end(body)
        })
        if (status === 400) refused++
      }
    }
    await Promise.all(Array.from({ length: 32 }, () => worker()))
    agent.destroy()
    assert.equal(refused, sent)
    // Legitimate requests still work, and are recorded.
    await kms.send(new GenerateMacCommand({ KeyId: arn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    await new Promise((resolve) => setTimeout(resolve, 500))
    const diskGrowth = (await dirBytes(dataDir)) - diskBefore
    const rssGrowth = treeRss(server.child.pid ?? 0) - rssBefore
    // docs/limits.md: one source's anonymous requests are 10 records and a few summaries a minute
    // (the WAL may grow to its 4 MB checkpoint first); caches hold nothing for them.
    assert.ok(diskGrowth <= 8 * 1024 * 1024, `data dir grew ${diskGrowth} bytes`)
    assert.ok(rssGrowth <= 128 * 1024 * 1024, `RSS grew ${rssGrowth} bytes`)
    t.diagnostic(`flood of ${sent}: data dir +${(diskGrowth / 1024).toFixed(0)} KiB, RSS +${(rssGrowth / 1048576).toFixed(1)} MiB`)
  })

  it('may not list the retirable grants of another account', async (t) => {
    const { server, dataDir } = await startKms(t)
    const user = await createUser(dataDir, OTHER, 'lister', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'kms:ListRetirableGrants', Resource: '*' }],
    })
    const kms = client(server.url, credentialsOf(user))
    t.after(() => kms.destroy())
    await assert.rejects(kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: `arn:aws:iam::${ACCOUNT}:root` })), {
      name: 'AccessDeniedException',
    })
    const own = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: user.Arn }))
    assert.deepEqual(own.Grants, [])
  })

  it(`keeps CreateGrant and RevokeGrant from re-reading every grant of a key (${GRANTS} grants)`, async (t) => {
    const { server, dataDir, kms, client: clientFor } = await startKms(t)
    const key = await hmacKey(kms)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const asAlice = clientFor(REGION, credentialsOf(alice))
    const mac = () => asAlice.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    let aliceGrant = ''
    for (let i = 0; i < GRANTS; i += 20) {
      const made = await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          kms.send(new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: i + j === 7 ? alice.Arn : `arn:aws:iam::${ACCOUNT}:user/u${i + j}`, Operations: ['GenerateMac'] })),
        ),
      )
      if (i === 0) aliceGrant = made[7]?.GrantId ?? ''
      // Each batch is followed by a use of the key, which sees the batch.
      await mac()
    }
    await kms.send(new RevokeGrantCommand({ KeyId: key.keyId, GrantId: aliceGrant }))
    await assert.rejects(mac(), { name: 'AccessDeniedException' })
    // Whole reads of the key's grants: the first use of the key only (a reload would read them all).
    const metrics = await get(server.url, '/metrics')
    const line = metrics.body.split('\n').find((l) => l.startsWith('macaw_store_operation_duration_seconds_count{method="grantsOfKey"}'))
    // No series at all: not one whole read (the key had no grants when it was first used).
    const reads = line === undefined ? 0 : Number(line.split(' ')[1])
    assert.ok(reads <= 2, line)
  })

  it('makes no RSA key for GetParametersForImport before the key is found and the caller allowed', async (t) => {
    const { server, kms, dataDir } = await startKms(t)
    let made = 0
    const generator = server.kms.services.wrappingKeys
    const original = generator.newKeyPair.bind(generator)
    generator.newKeyPair = (account, bits) => {
      made++
      return original(account, bits)
    }
    const request = { WrappingAlgorithm: 'RSAES_OAEP_SHA_256' as const, WrappingKeySpec: 'RSA_4096' as const }
    await assert.rejects(kms.send(new GetParametersForImportCommand({ KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', ...request })), {
      name: 'NotFoundException',
    })
    const key = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Origin: 'EXTERNAL' }))
    const nobody = await createUser(dataDir, ACCOUNT, 'nobody')
    const denied = client(server.url, credentialsOf(nobody))
    t.after(() => denied.destroy())
    await assert.rejects(denied.send(new GetParametersForImportCommand({ KeyId: key.KeyMetadata?.Arn, ...request })), { name: 'AccessDeniedException' })
    assert.equal(made, 0)
  })

  it('bounds RSA key generation: 2 at once, 16 waiting, 4 per account', async () => {
    let running = 0
    let most = 0
    const releases: (() => void)[] = []
    const gen = new WrappingKeyGenerator(() => {
      running++
      most = Math.max(most, running)
      return new Promise((resolve) =>
        releases.push(() => {
          running--
          resolve({ publicKey: Buffer.alloc(0), privateKey: Buffer.alloc(0) })
        }),
      )
    })
    const calls: Promise<unknown>[] = []
    for (let i = 0; i < 4; i++) calls.push(gen.newKeyPair('A', 2048))
    await assert.rejects(gen.newKeyPair('A', 2048), { name: 'ThrottlingException' })
    // 2 running and 2 waiting for A; 14 more waiting for others fill the 16 places.
    for (let account = 0; account < 4; account++) for (let i = 0; i < (account < 3 ? 4 : 2); i++) calls.push(gen.newKeyPair(`B${account}`, 2048))
    await assert.rejects(gen.newKeyPair('C', 2048), { name: 'ThrottlingException' })
    while (releases.length > 0 || running > 0) {
      releases.shift()?.()
      await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(calls)
    assert.equal(most, 2)
  })

  it('closes idle connections first when the connection cap is reached', async (t) => {
    const { kms, server } = await startKms(t, { settings: { maxConnections: 20 } })
    const { arn } = await hmacKey(kms)
    const idle = openConnections(t, server.url, 60)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const fresh = client(server.url)
    t.after(() => fresh.destroy())
    const mac = await fresh.send(new GenerateMacCommand({ KeyId: arn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.equal(mac.KeyId, arn)
    assert.ok(idle.filter((s) => s.destroyed || s.readyState === 'closed').length >= 40, 'the oldest idle connections were closed')
  })

  it('sheds TLS connections stuck before their handshake, and does not wait for them to stop', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-tls-shed-'))
    t.after(() => removeDataDir(dir))
    const cert = join(dir, 'cert.pem')
    const key = join(dir, 'key.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
    const { server } = await startKms(t, { settings: { maxConnections: 20, tlsCert: cert, tlsKey: key } })
    // TCP connections that never start TLS.
    const stuck = openConnections(t, server.url, 60)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const kms = new KMSClient({
      endpoint: server.url,
      region: REGION,
      credentials: ROOT,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: readFileSync(cert) }) }),
    })
    t.after(() => kms.destroy())
    const made = await hmacKey(kms)
    assert.ok(made.arn)
    assert.ok(stuck.filter((s) => s.destroyed || s.readyState === 'closed').length >= 40, 'the stuck handshakes were closed first')
    // Those still open do not hold the shutdown until the handshake timeout.
    const closing = server.close()
    const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))])
    assert.equal(outcome, 'closed')
  })
})

describe('request quotas', { timeout: 120_000 }, () => {
  it('answers ThrottlingException over the rate, counts it, and boto3 standard retries succeed', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-throttle-'))
    t.after(() => removeDataDir(dir))
    const file = join(dir, 'quotas.yaml')
    await writeFile(file, 'base: none\ncryptographic: 5\noperations:\n  CreateKey: 4\n')
    const { kms, server } = await startKms(t, { settings: { throttle: file } })
    const { arn } = await hmacKey(kms)
    let throttled = 0
    for (let i = 0; i < 20; i++) {
      try {
        await kms.send(new GenerateMacCommand({ KeyId: arn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
      } catch (err) {
        const e = err as { name: string; message: string; $metadata: { httpStatusCode: number } }
        assert.equal(e.name, 'ThrottlingException')
        assert.equal(e.message, THROTTLED)
        assert.equal(e.$metadata.httpStatusCode, 400)
        throttled++
      }
    }
    assert.ok(throttled >= 10, `${throttled} of 20 throttled`)
    const metrics = await get(server.url, '/metrics')
    assert.match(metrics.body, /macaw_throttled_requests_total \d+/)
    assert.match(metrics.body, /macaw_requests_total\{operation="GenerateMac",outcome="client_error",error="ThrottlingException"\} \d+/)

    if (PYTHON === undefined) {
      t.diagnostic('SKIPPED the boto3 half: python3 with boto3 is not installed')
      return
    }
    const script = `
import sys, boto3, botocore
kms = boto3.client('kms', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                   config=botocore.config.Config(retries={'mode': 'standard', 'max_attempts': 10}))
for i in range(8):
    kms.create_key(KeySpec='HMAC_256', KeyUsage='GENERATE_VERIFY_MAC')
print('ok')
`
    const stdout = await python(script, [server.url, ROOT.accessKeyId, ROOT.secretAccessKey], { timeout: 90_000 })
    assert.equal(stdout.trim(), 'ok')
    // Eight CreateKeys at 4 per second: some were throttled and retried, and all succeeded.
    const after = await get(server.url, '/metrics')
    assert.match(after.body, /macaw_requests_total\{operation="CreateKey",outcome="client_error",error="ThrottlingException"\} [1-9]/)
    assert.match(after.body, /macaw_requests_total\{operation="CreateKey",outcome="success",error=""\} 9\b/)
  })
})

describe('audit trail on a full disk', { timeout: 120_000 }, () => {
  const isRoot = process.getuid?.() === 0
  it('answers no 200 without a stored record, says not ready, and recovers', { skip: isRoot ? false : 'SKIPPED: mounting a small tmpfs needs root' }, async (t) => {
    const mount = await mkdtemp(join(tmpdir(), 'macaw-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mount])
    t.after(async () => {
      execFileSync('umount', ['-l', mount])
      await removeDataDir(mount)
    })
    const dataDir = join(mount, 'data')
    const { kms, server } = await startKms(t, { dataDir, keepDataDir: true, settings: { auditFlushMs: 5 } })
    const { arn } = await hmacKey(kms)
    const mac = (): Promise<{ ok: boolean; requestId: string | undefined }> =>
      kms.send(new GenerateMacCommand({ KeyId: arn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })).then(
        (r) => ({ ok: true, requestId: r.$metadata.requestId }),
        (err: { name: string; $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(err.$metadata?.httpStatusCode, 500, `${err.name} while the disk is full`)
          return { ok: false, requestId: undefined }
        },
      )
    // Fill the disk.
    const filler = join(mount, 'filler')
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' })
    const answered: string[] = []
    let refusedAt = -1
    for (let i = 0; i < 400 && refusedAt < 0; i++) {
      const r = await mac()
      if (r.ok && r.requestId) answered.push(r.requestId)
      else refusedAt = i
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    assert.ok(refusedAt >= 0, 'requests were refused once records could not be stored')
    for (let i = 0; i < 20; i++) assert.equal((await mac()).ok, false, 'no 200 while records cannot be stored')
    const ready = await get(server.url, '/readyz')
    assert.equal(ready.status, 503)
    assert.match(ready.body, /audit: records cannot be stored/)
    assert.doesNotMatch(ready.body, /SQLITE|disk/i)
    // Free the disk: the service recovers by itself.
    await rm(filler)
    let back = false
    for (let i = 0; i < 100 && !back; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const r = await mac()
      if (r.ok && r.requestId) {
        answered.push(r.requestId)
        back = true
      }
    }
    assert.ok(back, 'the service recovered once the disk had room')
    await server.kms.audit.flush()
    const stored = new Set((await server.kms.store.queryAudit({ eventName: 'GenerateMac', limit: 10_000 })).map((r) => (JSON.parse(cloudTrailText(r)) as { requestID: string }).requestID))
    for (const id of answered) assert.ok(stored.has(id), `the record of answered request ${id} is stored`)
  })
})
