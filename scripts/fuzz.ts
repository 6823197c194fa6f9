// `npm run fuzz`: the long fuzz run (default 100,000 generated requests plus the raw-socket cases)
// against a spawned dist/ server, sampling its VmRSS every 2 s. Prints counts, violations, elapsed
// time and RSS start/end; exits 1 on any violation, a server that stopped working, a key left by a
// rejected request, or RSS growth beyond the bound below. Needs `npm run build` first.
// MACAW_FUZZ_COUNT, MACAW_FUZZ_SEED and MACAW_FUZZ_CONCURRENCY override the defaults.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { send } from '../test/helpers/raw.js'
import { spawnServer } from '../test/helpers/process.js'
import { assertStillWorks, formatReport, fuzzRaw, fuzzRequests, listAllKeys, newReport, processTree, treeRssMb, unexpectedKeys } from '../test/fuzz/run.js'
import { closeAgent } from '../test/fuzz/wire.js'

const COUNT = Number(process.env['MACAW_FUZZ_COUNT'] ?? 100_000)
const SEED = Number(process.env['MACAW_FUZZ_SEED'] ?? Date.now() % 1_000_000)
const CONCURRENCY = Number(process.env['MACAW_FUZZ_CONCURRENCY'] ?? 16)
/** RSS may grow by this much over the run: caches and the heap settle, a leak keeps going. */
/** Growth allowed over the second half of the run: caches and the heap fill up in the first half; a
 * leak keeps growing. */
const RSS_BOUND_MB = 100

// The primary and its workers (--workers defaults to the number of CPUs): RSS is their sum.
const rssMb = treeRssMb

const dataDir = await mkdtemp(join(tmpdir(), 'macaw-fuzz-'))
const server = await spawnServer(dataDir)
const pid = server.child.pid ?? 0
let failed = false
try {
  const started = performance.now()
  // Warm up first so that the start figure is the server at work, not the bare process.
  await assertStillWorks(server.url)
  const before = await listAllKeys(server.url)
  const samples: number[] = [rssMb(pid)]
  const sampler = setInterval(() => samples.push(rssMb(pid)), 2000)
  const report = newReport()
  let lastPrint = performance.now()
  await fuzzRequests(server.url, report, COUNT, {
    seed: SEED,
    concurrency: CONCURRENCY,
    onBatch: () => {
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now()
        console.log(`  ${report.sent} requests, ${((performance.now() - started) / 1000).toFixed(0)} s, RSS ${rssMb(pid).toFixed(1)} MB, violations ${report.problemCount}`)
      }
    },
  })
  const probe = async (): Promise<void> => {
    const res = await send(server.url, { method: 'GET', path: '/healthz' })
    if (res.status !== 200) throw new Error(`healthz answered ${res.status}`)
  }
  const raw = await fuzzRaw(server.url, report, probe)
  clearInterval(sampler)
  samples.push(rssMb(pid))
  const own = new Set([await assertStillWorks(server.url)])
  const extra = unexpectedKeys(before, await listAllKeys(server.url), report, own)
  const elapsed = (performance.now() - started) / 1000
  const start = samples[0] ?? 0
  const end = samples[samples.length - 1] ?? 0
  const peak = Math.max(...samples)
  console.log(formatReport(report))
  console.log(`seed ${SEED}, concurrency ${CONCURRENCY}, ${raw} raw-socket cases`)
  console.log(`elapsed ${elapsed.toFixed(1)} s (${(report.sent / elapsed).toFixed(0)} requests/s)`)
  console.log(`server RSS: start ${start.toFixed(1)} MB, end ${end.toFixed(1)} MB, peak ${peak.toFixed(1)} MB (${samples.length} samples)`)
  console.log(`keys created by accepted requests: ${report.created.size}; keys nobody accepted: ${extra.length}`)
  if (report.problemCount > 0) failed = true
  if (extra.length > 0) {
    console.log(`unexpected keys: ${extra.join(', ')}`)
    failed = true
  }
  const middle = samples[Math.floor(samples.length / 2)] ?? start
  console.log(`server RSS growth: first half ${(middle - start).toFixed(1)} MB, second half ${(end - middle).toFixed(1)} MB`)
  if (end - middle > RSS_BOUND_MB) {
    console.log(`RSS grew by ${(end - middle).toFixed(1)} MB over the second half of the run, more than ${RSS_BOUND_MB} MB`)
    failed = true
  }
} catch (err) {
  console.error(err)
  failed = true
} finally {
  closeAgent()
  const tree = processTree(pid)
  const stopped = await Promise.race([server.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))])
  if (!stopped) {
    console.log(`the server did not exit within 15 s of SIGTERM; killing ${tree.join(', ')}`)
    for (const p of tree) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
  await rm(dataDir, { recursive: true, force: true })
}
console.log(failed ? 'FUZZ FAILED' : 'fuzz passed')
process.exit(failed ? 1 : 0)
