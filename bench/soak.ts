// The soak test (`npm run soak`): macaw with a conditional key policy, grants and the audit trail
// on, driven at about 80% of its measured peak GenerateMac rate for 10 minutes (MACAW_SOAK_MINUTES)
// in 30-second slices. Reports per slice: throughput, p50/p99 latency, failures, and the server's
// resident memory, then start/end RSS. Writes bench/results/soak.json.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKey, kmsCall } from './call.js'
import { LoadGenerator, REPO_ROOT, startServerChild } from './procs.js'
import { BENCH_ACCOUNT, SERVER_ENV } from './sign.js'

const MINUTES = Number(process.env['MACAW_SOAK_MINUTES'] ?? 10)
const SLICE_S = 30

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'macaw-soak-'))
  const server = await startServerChild('macaw', [join(REPO_ROOT, 'dist/src/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], '1', {
    ...SERVER_ENV,
    MACAW_AUDIT: 'on',
  })
  const load = await LoadGenerator.start('0')
  try {
    const keyId = await createKey(server.url)
    // Every request is evaluated against a policy with a conditional Deny and a key with grants.
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${BENCH_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'only sha256', Effect: 'Deny', Principal: '*', Action: 'kms:GenerateMac', Resource: '*', Condition: { StringNotEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } } },
      ],
    }
    await kmsCall(server.url, 'PutKeyPolicy', { KeyId: keyId, Policy: JSON.stringify(policy) })
    for (let i = 0; i < 5; i++) {
      await kmsCall(server.url, 'CreateGrant', { KeyId: keyId, GranteePrincipal: `arn:aws:iam::${BENCH_ACCOUNT}:user/app${i}`, Operations: ['GenerateMac'] })
    }
    const job = {
      url: server.url,
      target: 'TrentService.GenerateMac',
      fields: { Message: Buffer.alloc(64, 7).toString('base64'), MacAlgorithm: 'HMAC_SHA_256' },
      keyIds: [keyId],
      connections: 64,
      collectKeyIds: false,
    }
    await load.run({ ...job, durationS: 5 })
    const peak = await load.run({ ...job, durationS: 15 })
    const rate = Math.round(peak.reqPerS * 0.8)
    process.stderr.write(`peak ${peak.reqPerS.toFixed(0)} req/s; soaking at ${rate} req/s for ${MINUTES} min\n`)
    const slices = []
    const startRss = await rssMb(server.child.pid ?? 0)
    for (let i = 0; i < (MINUTES * 60) / SLICE_S; i++) {
      const r = await load.run({ ...job, durationS: SLICE_S, overallRate: rate })
      const rss = await rssMb(server.child.pid ?? 0)
      const slice = { minute: ((i + 1) * SLICE_S) / 60, reqPerS: Math.round(r.reqPerS), p50Ms: r.p50Ms, p99Ms: r.p99Ms, failures: r.non2xx + r.errors + r.timeouts, rssMb: Math.round(rss) }
      slices.push(slice)
      process.stderr.write(`${JSON.stringify(slice)}\n`)
    }
    const endRss = slices.at(-1)?.rssMb ?? 0
    const failures = slices.reduce((n, s) => n + s.failures, 0)
    const report = { date: new Date().toISOString(), peakReqPerS: Math.round(peak.reqPerS), rate, minutes: MINUTES, startRssMb: Math.round(startRss), endRssMb: endRss, failures, slices }
    await mkdir(join(REPO_ROOT, 'bench/results'), { recursive: true })
    await writeFile(join(REPO_ROOT, 'bench/results/soak.json'), JSON.stringify(report, null, 2))
    process.stdout.write(
      `soak: ${MINUTES} min at ${rate} req/s (80% of peak ${report.peakReqPerS}); failures ${failures}; RSS ${report.startRssMb} -> ${endRss} MB; p99 per slice ${slices.map((s) => s.p99Ms.toFixed(1)).join(' ')} ms\n`,
    )
    if (failures > 0) process.exitCode = 1
  } finally {
    await load.stop()
    await server.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

await main()
