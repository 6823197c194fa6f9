// Instructions per request, without timing noise: each server runs under valgrind's callgrind with
// instrumentation off; after a warm-up (so V8 has compiled the hot path) instrumentation is
// switched on for a fixed number of requests and off again, and the instructions executed in that
// window (every thread of the process: the audit writer thread counts too), divided by the number
// of requests, are its cost. On a shared machine this is the figure that tells whether a change
// to the hot path made it cheaper; docs/performance.md explains how to read it.
//
//   npm run build && node --import tsx bench/callgrind.ts [--requests N] [--warmup N] [--scenario NAME]...
//     [--macaw PATH (another build's dist/src/main.js)] [--no-baseline] [--cache-sim]
// --cache-sim also simulates the caches (valgrind's model of this CPU's L1 and last level) and
// gives each request's misses: instructions alone miss what a larger working set costs
// (docs/performance.md, "Cache misses").
// MACAW_CALLGRIND_KEEP=1 keeps the callgrind files (for callgrind_annotate) and prints where. The
// server then runs with --perf-basic-prof, and the JIT-compiled code callgrind knows only by address
// (`???:0x...`) is renamed after V8's own map of it (`JS[*handle file:///.../kms.js:150:17]`), so
// that callgrind_annotate --inclusive=yes gives each JavaScript function's instructions.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request, Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { benchIdentities, createKey } from './call.js'
import { REPO_ROOT } from './procs.js'
import { Presigner, SERVER_ENV, type PresignedRequest } from './sign.js'

interface Case {
  readonly name: string
  readonly messageBytes: number
  readonly macawEnv?: Readonly<Record<string, string>>
  /** macaw's requests signed by an IAM user (long-term key) or a role session of the same policy. */
  readonly signer?: 'user' | 'session'
}

const CASES: readonly Case[] = [
  { name: 'gm64', messageBytes: 64 },
  { name: 'gm64-audit-off', messageBytes: 64, macawEnv: { MACAW_AUDIT: 'off' } },
  { name: 'gm4k', messageBytes: 4096 },
  // AWS's default request quotas, far above what callgrind's pace can reach: only their bookkeeping counts.
  { name: 'gm64-throttle', messageBytes: 64, macawEnv: { MACAW_THROTTLE: 'aws' } },
  { name: 'gm64-user', messageBytes: 64, signer: 'user' },
  { name: 'gm64-session', messageBytes: 64, signer: 'session' },
  { name: 'gm64-user-audit-off', messageBytes: 64, signer: 'user', macawEnv: { MACAW_AUDIT: 'off' } },
  { name: 'gm64-session-audit-off', messageBytes: 64, signer: 'session', macawEnv: { MACAW_AUDIT: 'off' } },
]

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    // 3,000 left the baseline (loaded through tsx) unwarmed: 390,000 instructions a request
    // against 240,000 after 9,000 (docs/performance.md, 2026-12-07 night).
    warmup: { type: 'string', default: '9000' },
    concurrency: { type: 'string', default: '8' },
    scenario: { type: 'string', multiple: true },
    macaw: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    'cache-sim': { type: 'boolean', default: false },
  },
})
const CACHE_SIM = values['cache-sim'] === true
const REQUESTS = Number(values.requests)
const WARMUP = Number(values.warmup)
const CONCURRENCY = Number(values.concurrency)
/** Warm-up requests per signature. */
const WARMUP_SLICE = 3000
const MACAW_MAIN = values.macaw ?? join(REPO_ROOT, 'dist/src/main.js')
const chosen = values.scenario === undefined ? CASES : CASES.filter((c) => values.scenario?.includes(c.name))

interface Server {
  readonly child: ChildProcess
  readonly url: string
  readonly outDir: string
}

/** Starts `node args` under callgrind with instrumentation off; resolves once it listens. */
async function startUnderCallgrind(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const outDir = mkdtempSync(join(tmpdir(), `macaw-callgrind-${name}-`))
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', ...(CACHE_SIM ? ['--cache-sim=yes'] : []), `--callgrind-out-file=${join(outDir, 'callgrind.out.%p')}`, process.execPath, ...args],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start under valgrind within 300 s:\n${output}`)), 300_000)
    const pattern = new RegExp(`${name} listening on (http://\\S+)`)
    const seen = (chunk: Buffer): void => {
      output += chunk.toString()
      const found = pattern.exec(output)?.[1]
      if (found !== undefined) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    child.stdout?.on('data', seen)
    child.stderr?.on('data', seen)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code ?? 'a signal'} before listening:\n${output}`))
    })
  })
  return { child, url, outDir }
}

/** Sends `count` requests, `CONCURRENCY` at a time, from the pre-signed list; every one must be 200. */
async function drive(url: string, signed: readonly PresignedRequest[], count: number): Promise<void> {
  const u = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  let next = 0
  const one = (req: PresignedRequest): Promise<void> =>
    new Promise((resolve, reject) => {
      const r = request({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: req.headers, agent }, (res) => {
        res.resume()
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`answered ${String(res.statusCode)}`))))
      })
      r.on('error', reject)
      r.end(req.body)
    })
  const lane = async (): Promise<void> => {
    while (next < count) {
      const req = signed[next++ % signed.length]
      if (req !== undefined) await one(req)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  agent.destroy()
}

function callgrindControl(pid: number, ...args: string[]): void {
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' })
}

/** A window's cost per request: instructions, and with --cache-sim the simulated misses. */
interface Cost {
  readonly ir: number
  /** First-level instruction cache misses (I1mr). */
  readonly i1: number
  /** First-level data cache misses, reads and writes (D1mr + D1mw). */
  readonly d1: number
  /** Last-level misses, instructions and data (ILmr + DLmr + DLmw). */
  readonly ll: number
}

/** The events of the dump files callgrind wrote (one per thread), summed by name. */
function totalEvents(outDir: string): Map<string, number> {
  const totals = new Map<string, number>()
  for (const file of readdirSync(outDir)) {
    const text = readFileSync(join(outDir, file), 'utf8')
    const names = /^events:\s+(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? []
    const counts = /^totals:\s+(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? []
    names.forEach((name, i) => totals.set(name, (totals.get(name) ?? 0) + Number(counts[i] ?? 0)))
  }
  return totals
}

function costOf(totals: ReadonlyMap<string, number>, requests: number): Cost {
  const sum = (...names: string[]): number => names.reduce((n, name) => n + (totals.get(name) ?? 0), 0) / requests
  return { ir: sum('Ir'), i1: sum('I1mr'), d1: sum('D1mr', 'D1mw'), ll: sum('ILmr', 'DLmr', 'DLmw') }
}

const KEEP = process.env['MACAW_CALLGRIND_KEEP'] !== undefined

/**
 * Renames the JIT-compiled code in the kept callgrind files after V8's perf map of the process
 * (`/tmp/perf-<pid>.map`: start, size and name of each code object, in the order V8 made them).
 * Where code was made again at the same address, the later name wins.
 */
function nameJitCode(outDir: string, pid: number): void {
  const mapFile = `/tmp/perf-${String(pid)}.map`
  let map: string
  try {
    map = readFileSync(mapFile, 'utf8')
  } catch {
    return
  }
  const entries: { start: number; end: number; name: string }[] = []
  for (const line of map.split('\n')) {
    const first = line.indexOf(' ')
    const second = line.indexOf(' ', first + 1)
    if (first < 0 || second < 0) continue
    const start = parseInt(line.slice(0, first), 16)
    entries.push({ start, end: start + parseInt(line.slice(first + 1, second), 16), name: line.slice(second + 1).replace(/[()]/g, '') })
  }
  // Stable: of entries with the same start, the later stays later.
  entries.sort((a, b) => a.start - b.start)
  const nameOf = (address: number): string | undefined => {
    let lo = 0
    let hi = entries.length - 1
    let found: (typeof entries)[number] | undefined
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const entry = entries[mid]
      if (entry !== undefined && entry.start <= address) {
        found = entry
        lo = mid + 1
      } else hi = mid - 1
    }
    return found !== undefined && address < found.end ? found.name : undefined
  }
  for (const file of readdirSync(outDir)) {
    const path = join(outDir, file)
    const text = readFileSync(path, 'utf8').replace(/0x([0-9a-f]{16})/g, (whole, hex: string) => {
      const name = nameOf(parseInt(hex, 16))
      return name === undefined ? whole : `JS[${name}]`
    })
    writeFileSync(path, text)
  }
  rmSync(mapFile, { force: true })
}

/** Instructions (and with --cache-sim misses) per request of one server for one case. */
async function measure(name: string, args: readonly string[], env: NodeJS.ProcessEnv, c: Case, dataDir?: string): Promise<Cost> {
  const server = await startUnderCallgrind(name, KEEP ? ['--perf-basic-prof', ...args] : args, env)
  try {
    // The baseline has one key for every KeyId (it keeps none); macaw needs a real one.
    const keyId = name === 'macaw' ? await createKey(server.url) : '1234abcd-12ab-34cd-56ef-1234567890ab'
    const identities = c.signer !== undefined && dataDir !== undefined ? await benchIdentities(server.url, dataDir, MACAW_MAIN) : undefined
    const credentials = c.signer === undefined ? undefined : identities?.[c.signer]
    const presigner = new Presigner(new URL(server.url).host, credentials)
    const message = Buffer.alloc(c.messageBytes, 7).toString('base64')
    // Signed again for every slice of the warm-up and for the window: a signature is valid for
    // 5 minutes, and under valgrind 15,000 requests take longer than that.
    const signed = (): PresignedRequest[] => [presigner.sign('TrentService.GenerateMac', JSON.stringify({ KeyId: keyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))]
    for (let done = 0; done < WARMUP; done += WARMUP_SLICE) await drive(server.url, signed(), Math.min(WARMUP_SLICE, WARMUP - done))
    const pid = server.child.pid ?? 0
    const window = signed()
    callgrindControl(pid, '--instr=on')
    await drive(server.url, window, REQUESTS)
    callgrindControl(pid, '--instr=off')
    // Let the audit trail's flush (up to its interval) and the writer thread run, counted.
    await new Promise((r) => setTimeout(r, 0))
    callgrindControl(pid, '--dump')
    return costOf(totalEvents(server.outDir), REQUESTS)
  } finally {
    server.child.kill('SIGTERM')
    await once(server.child, 'exit')
    if (!KEEP) rmSync(server.outDir, { recursive: true, force: true })
    else {
      nameJitCode(server.outDir, server.child.pid ?? 0)
      process.stderr.write(`kept ${server.outDir}\n`)
    }
  }
}

const rows: string[] = []
for (const c of chosen) {
  const dataDir = mkdtempSync(join(tmpdir(), 'macaw-callgrind-data-'))
  try {
    const macaw = await measure(
      'macaw',
      [MACAW_MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir],
      // The running chain check is not a request's cost: every 30 s it re-reads the whole trail
      // (20,000 records at most), which under valgrind lands in the window or not.
      { ...SERVER_ENV, MACAW_AUDIT_VERIFY_SECONDS: '0', ...c.macawEnv },
      c,
      dataDir,
    )
    const none: Cost = { ir: Number.NaN, i1: Number.NaN, d1: Number.NaN, ll: Number.NaN }
    const baseline = values['no-baseline'] ? none : await measure('baseline', ['--import', 'tsx', fileURLToPath(new URL('baseline.ts', import.meta.url))], SERVER_ENV, c)
    const n = (x: number): string => Math.round(x).toLocaleString('en-US')
    const misses = (x: Cost): string => `${n(x.i1)} / ${n(x.d1)} / ${n(x.ll)}`
    const row = `| ${c.name} | ${n(baseline.ir)} | ${n(macaw.ir)} | ${(baseline.ir / macaw.ir).toFixed(3)} |${CACHE_SIM ? ` ${misses(baseline)} | ${misses(macaw)} |` : ''}`
    process.stderr.write(`${row}\n`)
    rows.push(row)
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
process.stdout.write(
  `Instructions per request under callgrind (${REQUESTS} requests after ${WARMUP} of warm-up, ${CONCURRENCY} at a time):\n\n` +
    (CACHE_SIM
      ? '| case | baseline Ir/req | macaw Ir/req | baseline/macaw | baseline misses/req I1 / D1 / LL | macaw misses/req I1 / D1 / LL |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
      : '| case | baseline Ir/req | macaw Ir/req | baseline/macaw |\n| --- | ---: | ---: | ---: |\n') +
    rows.join('\n') +
    '\n',
)
