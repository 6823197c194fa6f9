// The hostile-tenant figures (docs/limits.md): the slowest adversarial 32 KB policy evaluation,
// the resident memory of a default server (one worker per core) holding keys with distinct 32 KB
// policies, and a legitimate client's latency idle vs during an anonymous flood from another
// process, and the cost of CreateGrant, RevokeGrant and a MAC with many grants on one key.
// Usage: npm run bench:tenant -- [--only policy|flood|keys|grants] [--keys N] [--grants N] [--flood-seconds S]
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CreateGrantCommand, CreateKeyCommand, GenerateMacCommand, KMSClient, RevokeGrantCommand } from '@aws-sdk/client-kms'
import { allowMatch, compilePolicy } from '../src/auth/policy.js'
import { spawnServer, treeRss } from '../test/helpers/process.js'
import { ROOT } from '../test/helpers/server.js'

const { values } = parseArgs({
  options: {
    keys: { type: 'string' },
    grants: { type: 'string' },
    'flood-seconds': { type: 'string' },
    flood: { type: 'string' },
    'heap-mb': { type: 'string' },
    only: { type: 'string' },
  },
})
const GRANTS = Number(values.grants ?? 10_000)
const KEYS = Number(values.keys ?? 20_000)
const FLOOD_SECONDS = Number(values['flood-seconds'] ?? 10)

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
}

/** Statement lists that fill 32 KB with the most expensive patterns we know. */
function adversarialPolicies(): Record<string, string> {
  const fill = (make: (n: number) => object): string => {
    const statements: object[] = []
    for (let n = 0; JSON.stringify(statements).length < 31_500; n++) statements.push(make(n))
    statements.pop()
    return JSON.stringify({ Version: '2012-10-17', Statement: statements })
  }
  const resources = (pattern: string): string => {
    const list: string[] = []
    while (JSON.stringify(list).length < 31_000) list.push(pattern)
    return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: list }] })
  }
  return {
    'one Resource list of arn:*?*?...! (60 wildcards each)': resources(`arn:${'*?'.repeat(30)}!`),
    'one Resource list of arn:*a*b*...*! ': resources('arn:*a*b*c*d*e*f*g*h*i*j*k*l*m*!'),
    'statements with StringLike and ArnLike conditions': fill((n) => ({
      Effect: 'Allow',
      Principal: '*',
      Action: ['kms:Gen*', 'kms:?erify*'],
      Resource: `arn:aws:kms:*:*:key/*-${n}-*`,
      Condition: {
        StringLike: { 'aws:PrincipalArn': `arn:aws:iam::*:user/app-*-*-*-${n}` },
        ArnLike: { 'aws:PrincipalArn': `arn:aws:*:*:*:user/*?*?*?${n}` },
      },
    })),
  }
}

function policyEvaluation(): void {
  const subject = { accountId: '111122223333', arn: `arn:aws:iam::111122223333:user/app-${'-'.repeat(200)}x`, isRoot: false }
  const lookup = (key: string): string[] | undefined => (key === 'aws:principalarn' ? [subject.arn] : undefined)
  console.log('\nPolicy evaluation, 32 KB adversarial policies (one evaluation, µs):')
  for (const [name, text] of Object.entries(adversarialPolicies())) {
    const policy = compilePolicy(text, 'key')
    const times: number[] = []
    for (let i = 0; i < 2000; i++) {
      const started = performance.now()
      allowMatch(policy, subject, 'kms:GenerateMac', ARN, lookup)
      times.push((performance.now() - started) * 1000)
    }
    const sorted = times.slice(500).sort((a, b) => a - b)
    console.log(`  ${name} (${text.length} B): median ${quantile(sorted, 0.5).toFixed(0)}, p99 ${quantile(sorted, 0.99).toFixed(0)}, max ${(sorted[sorted.length - 1] ?? 0).toFixed(0)}`)
  }
}

function distinctPolicy(i: number): string {
  const statements: object[] = [{ Sid: 'Root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }]
  for (let n = 0; JSON.stringify(statements).length < 31_000; n++) {
    statements.push({ Sid: `K${i}S${n}`, Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*', Condition: { StringLike: { 'aws:PrincipalArn': `arn:aws:iam::*:user/k${i}-${n}-*` } } })
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements })
}

async function keysWithDistinctPolicies(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'macaw-bench-tenant-'))
  // A heap limit (--heap-mb) shows the live set is bounded: the old cache crashed a 600 MB heap at 1,600 keys.
  const heap = values['heap-mb'] === undefined ? {} : { NODE_OPTIONS: `--max-old-space-size=${values['heap-mb']}` }
  const server = await spawnServer(dataDir, { MACAW_LOG_LEVEL: 'error', ...heap })
  const kms = new KMSClient({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 3 })
  try {
    const pid = server.child.pid ?? 0
    const idle = treeRss(pid)
    const arns: string[] = []
    const started = performance.now()
    for (let i = 0; i < KEYS; i += 16) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(16, KEYS - i) }, (_, j) =>
          kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy: distinctPolicy(i + j) })),
        ),
      )
      for (const k of batch) arns.push(k.KeyMetadata?.Arn ?? '')
    }
    const created = performance.now()
    let most = 0
    for (let i = 0; i < arns.length; i += 16) {
      await Promise.all(arns.slice(i, i + 16).map((KeyId) => kms.send(new GenerateMacCommand({ KeyId, Message: Buffer.from('x'), MacAlgorithm: 'HMAC_SHA_256' }))))
      if (i % 2048 === 0) most = Math.max(most, treeRss(pid))
    }
    most = Math.max(most, treeRss(pid))
    console.log(`\n${arns.length} keys with distinct 32 KB policies, default workers, --cache-max-mb 256, heap limit ${values['heap-mb'] ?? 'default'} MB:`)
    console.log(`  created in ${((created - started) / 1000).toFixed(0)} s, each used once in ${((performance.now() - created) / 1000).toFixed(0)} s`)
    console.log(`  RSS of the primary and its workers: idle ${(idle / 1048576).toFixed(0)} MiB, at most ${(most / 1048576).toFixed(0)} MiB while every key was used`)
  } finally {
    kms.destroy()
    await server.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** The flooding child: anonymous requests with made-up ids and big bodies, until killed. */
async function floodChild(url: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  const body = JSON.stringify({ KeyId: 'x'.repeat(50_000) })
  let n = 0
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      n++
      const req = request(new URL(url), {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'TrentService.GenerateMac',
          authorization: `AWS4-HMAC-SHA256 Credential=AKIA${String(n).padStart(16, '0')}/20200101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
          'x-amz-date': new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''),
        },
      }, (res) => {
        res.resume()
        res.on('end', () => resolve())
      })
      req.on('error', () => resolve())
      req.end(body)
    })
  setInterval(() => process.send?.({ sent: n }), 1000)
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (;;) await one()
  }))
}

async function latency(kms: KMSClient, keyId: string, seconds: number): Promise<number[]> {
  const times: number[] = []
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    const started = performance.now()
    await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: Buffer.from('hello'), MacAlgorithm: 'HMAC_SHA_256' }))
    times.push(performance.now() - started)
  }
  return times.sort((a, b) => a - b)
}

async function floodLatency(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'macaw-bench-flood-'))
  const server = await spawnServer(dataDir, { MACAW_LOG_LEVEL: 'error' })
  const kms = new KMSClient({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 })
  try {
    const key = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
    const keyId = key.KeyMetadata?.Arn ?? ''
    await latency(kms, keyId, 1)
    const idle = await latency(kms, keyId, FLOOD_SECONDS)
    const rssBefore = treeRss(server.child.pid ?? 0)
    const flooder = fork(fileURLToPath(import.meta.url), ['--flood', server.url], { execArgv: ['--import', 'tsx'] })
    let sent = 0
    flooder.on('message', (m: { sent: number }) => (sent = m.sent))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const flooded = await latency(kms, keyId, FLOOD_SECONDS)
    flooder.kill()
    const rssAfter = treeRss(server.child.pid ?? 0)
    console.log(`\nLegitimate GenerateMac on one connection, default workers, ${FLOOD_SECONDS} s each (ms):`)
    console.log(`  idle:           p50 ${quantile(idle, 0.5).toFixed(2)}, p99 ${quantile(idle, 0.99).toFixed(2)} (${idle.length} calls)`)
    console.log(`  during a flood: p50 ${quantile(flooded, 0.5).toFixed(2)}, p99 ${quantile(flooded, 0.99).toFixed(2)} (${flooded.length} calls; ${sent} anonymous requests of 50 KB sent by another process)`)
    console.log(`  RSS of the server processes: ${(rssBefore / 1048576).toFixed(0)} -> ${(rssAfter / 1048576).toFixed(0)} MiB`)
  } finally {
    kms.destroy()
    await server.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** 10,000 grants on one key: creation rate as they pile up, and MAC latency right after a revoke. */
async function manyGrants(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'macaw-bench-grants-'))
  const server = await spawnServer(dataDir, { MACAW_LOG_LEVEL: 'error' })
  const kms = new KMSClient({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 3 })
  const ms = (from: number): number => performance.now() - from
  try {
    const KeyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata?.KeyId ?? ''
    const bare = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata?.KeyId ?? ''
    const mac = (id: string) => kms.send(new GenerateMacCommand({ KeyId: id, Message: Buffer.from('x'), MacAlgorithm: 'HMAC_SHA_256' }))
    const ids: string[] = []
    const perThousand: number[] = []
    const started = performance.now()
    let lap = started
    for (let i = 0; i < GRANTS; i += 16) {
      const made = await Promise.all(
        Array.from({ length: Math.min(16, GRANTS - i) }, (_, j) =>
          kms.send(new CreateGrantCommand({ KeyId, GranteePrincipal: `arn:aws:iam::111122223333:user/u${i + j}`, Operations: ['GenerateMac'] })),
        ),
      )
      for (const g of made) ids.push(g.GrantId ?? '')
      if (ids.length % 1008 === 0 || ids.length === GRANTS) {
        perThousand.push((ms(lap) / 1008) * 1000)
        lap = performance.now()
      }
    }
    const created = ms(started)
    const sample = async (id: string, n: number, before?: (i: number) => Promise<unknown>): Promise<number[]> => {
      const out: number[] = []
      for (let i = 0; i < n; i++) {
        await before?.(i)
        const t0 = performance.now()
        await mac(id)
        out.push(ms(t0))
      }
      return out.sort((a, b) => a - b)
    }
    const idleBare = await sample(bare, 200)
    const idleMany = await sample(KeyId, 200)
    const afterRevoke = await sample(KeyId, 50, (i) => kms.send(new RevokeGrantCommand({ KeyId, GrantId: ids[i] })))
    const fmt = (xs: number[]) => `p50 ${quantile(xs, 0.5).toFixed(2)} ms, p99 ${quantile(xs, 0.99).toFixed(2)} ms`
    console.log(`\n${GRANTS} grants on one key, default workers:`)
    console.log(`  created in ${(created / 1000).toFixed(1)} s (${(GRANTS / (created / 1000)).toFixed(0)}/s; ms per 1,000, first to last: ${perThousand.map((x) => x.toFixed(0)).join(', ')})`)
    console.log(`  GenerateMac on a key without grants: ${fmt(idleBare)}`)
    console.log(`  GenerateMac on the key with ${GRANTS} grants: ${fmt(idleMany)}`)
    console.log(`  GenerateMac right after each of 50 RevokeGrant: ${fmt(afterRevoke)}`)
  } finally {
    kms.destroy()
    await server.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

if (values.flood !== undefined) await floodChild(values.flood)
else {
  const only = values.only
  if (only === undefined || only === 'policy') policyEvaluation()
  if (only === undefined || only === 'flood') await floodLatency()
  if (only === undefined || only === 'keys') await keysWithDistinctPolicies()
  if (only === undefined || only === 'grants') await manyGrants()
}
