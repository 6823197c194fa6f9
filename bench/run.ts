// Benchmark driver: macaw (built, from dist/) against a bare node:http baseline (baseline.ts), in
// alternating rounds on the same pinned core, for the scenarios in scenarios.ts. Prints a table
// and writes bench/results/latest.json. Usage: npm run bench -- [--quick] [--scenario NAME]...
// (docs/performance.md).
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { benchIdentities, createKey, generateMac } from './call.js'
import type { LoadJob, LoadResult } from './load.js'
import {
  LoadGenerator,
  REPO_ROOT,
  choosePinning,
  cpuMicros,
  rssKiB,
  pinProcess,
  startServerChild,
  type Pinning,
  type ServerChild,
} from './procs.js'
import {
  machineInfo,
  printTable,
  type Measurement,
  type RoundRecord,
  type ScenarioReport,
  type SetupInfo,
  summarize,
} from './report.js'
import {
  CREATE_KEY_FIELDS,
  SCENARIOS,
  SCENARIO_NAMES,
  isScenarioName,
  type Scenario,
  type ScenarioName,
} from './scenarios.js'
import { SERVER_ENV } from './sign.js'
import { targets } from './targets.js'

interface Options {
  readonly scenarios: readonly ScenarioName[]
  readonly quick: boolean
  readonly rounds: number
  readonly durationS: number
  readonly warmupS: number
  readonly keys: number
  /** Key creation for keys100k stops here even if fewer than `keys` exist. */
  readonly keyBudgetS: number
  readonly macawMain: string
  readonly baselineWorkers: number
  readonly serverCpus: string
  readonly loadCpus: string
  readonly out: string
}

const USAGE = `npm run bench -- [options]
  --scenario NAME      run only this scenario (repeatable, or comma-separated); default: all of
                       ${SCENARIO_NAMES.join(', ')}
  --quick              2 rounds of 3 s, 1 s warm-up, 10,000 keys for keys100k
  --rounds N           measured rounds per server (default 5)
  --duration S         seconds per round (default 8)
  --warmup S           warm-up seconds per server before the rounds (default 3)
  --keys N             keys for keys100k (default 100000), created within 300 s
  --macaw PATH         macaw entry point (default dist/src/main.js)
  --baseline-workers N node:cluster workers for the baseline (default 1, like macaw)
  --server-cpus LIST   taskset CPU list for both servers (default 1)
  --load-cpus LIST     taskset CPU list for the load generator and this driver (default 0)
  --out FILE           JSON results (default bench/results/latest.json)`

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, got '${text}'`)
  return n
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      keys: { type: 'string' },
      macaw: { type: 'string' },
      'baseline-workers': { type: 'string' },
      'server-cpus': { type: 'string', default: '1' },
      'load-cpus': { type: 'string', default: '0' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return undefined
  const names = (values.scenario ?? [...SCENARIO_NAMES])
    .flatMap((s) => s.split(','))
    .filter((s) => s !== '')
  const unknown = names.filter((n) => !isScenarioName(n))
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`)
  const quick = values.quick
  const keys = positiveInt('keys', values.keys, quick ? 10_000 : 100_000)
  // autocannon refuses an `amount` smaller than its connection count.
  if (keys < 64) throw new Error('--keys must be at least 64')
  return {
    scenarios: SCENARIO_NAMES.filter((n) => names.includes(n)),
    quick,
    rounds: positiveInt('rounds', values.rounds, quick ? 2 : 5),
    durationS: positiveInt('duration', values.duration, quick ? 3 : 8),
    warmupS: positiveInt('warmup', values.warmup, quick ? 1 : 3),
    keys,
    keyBudgetS: 300,
    macawMain: resolve(values.macaw ?? join(REPO_ROOT, 'dist/src/main.js')),
    baselineWorkers: positiveInt('baseline-workers', values['baseline-workers'], 1),
    serverCpus: values['server-cpus'],
    loadCpus: values['load-cpus'],
    out: resolve(values.out ?? join(REPO_ROOT, 'bench/results/latest.json')),
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`)
}


interface Servers {
  readonly macaw: ServerChild
  readonly baseline: ServerChild | undefined
}

async function startServers(
  options: Options,
  scenario: Scenario,
  pinning: Pinning,
  dataDir: string,
): Promise<Servers> {
  const macawArgs = [
    options.macawMain,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data-dir',
    dataDir,
  ]
  const cpus = scenario.workers !== undefined && scenario.workers > 1 ? undefined : pinning.serverCpus
  const env: NodeJS.ProcessEnv = { ...SERVER_ENV, ...scenario.macawEnv }
  if (scenario.workers !== undefined) env['MACAW_WORKERS'] = String(scenario.workers)
  if (scenario.postgres === true) env['MACAW_STORE'] = process.env['MACAW_BENCH_POSTGRES_URL'] ?? ''
  const macaw = await startServerChild('macaw', macawArgs, cpus, env)
  if (!scenario.compared) return { macaw, baseline: undefined }
  const baselineArgs = [
    '--import',
    'tsx',
    fileURLToPath(new URL('baseline.ts', import.meta.url)),
    '--workers',
    String(scenario.workers ?? options.baselineWorkers),
  ]
  try {
    return {
      macaw,
      baseline: await startServerChild('baseline', baselineArgs, cpus, SERVER_ENV),
    }
  } catch (err) {
    await macaw.stop()
    throw err
  }
}

/** Creates the keys for keys100k through macaw itself, with concurrent signed CreateKey requests. */
async function createManyKeys(
  load: LoadGenerator,
  url: string,
  options: Options,
): Promise<{ keyIds: readonly string[]; setup: SetupInfo }> {
  log(`  creating ${options.keys} keys (at most ${options.keyBudgetS} s)...`)
  const job: LoadJob = {
    url,
    target: 'TrentService.CreateKey',
    fields: CREATE_KEY_FIELDS,
    keyIds: [],
    connections: 64,
    durationS: options.keyBudgetS,
    amount: options.keys,
    collectKeyIds: true,
  }
  const result = await load.run(job)
  const failures = result.non2xx + result.errors + result.timeouts
  if (result.keyIds.length === 0)
    throw new Error(`no keys created: ${result.firstFailure ?? 'no answer'}`)
  log(
    `  created ${result.keyIds.length} keys in ${result.durationS} s (${Math.round(result.reqPerS)} keys/s)`,
  )
  const setup: SetupInfo = {
    keysRequested: options.keys,
    keysCreated: result.keyIds.length,
    creationSeconds: result.durationS,
    creationKeysPerS: result.reqPerS,
    creationFailures: failures,
    ...(result.firstFailure === undefined ? {} : { firstFailure: result.firstFailure }),
  }
  return { keyIds: result.keyIds, setup }
}

/** The load job for each server: same message and keys; for VerifyMac, each server's own MAC. */
async function prepareJobs(
  scenario: Scenario,
  servers: Servers,
  load: LoadGenerator,
  options: Options,
  dataDir: string,
): Promise<{ macaw: LoadJob; baseline: LoadJob | undefined; setup: SetupInfo | undefined }> {
  const base = {
    connections: scenario.connections,
    durationS: options.durationS,
    collectKeyIds: false,
  }
  if (scenario.operation === 'CreateKey') {
    return {
      macaw: {
        ...base,
        url: servers.macaw.url,
        target: 'TrentService.CreateKey',
        fields: CREATE_KEY_FIELDS,
        keyIds: [],
      },
      baseline: undefined,
      setup: undefined,
    }
  }
  const many =
    scenario.keys === 'many' ? await createManyKeys(load, servers.macaw.url, options) : undefined
  const keyIds = many?.keyIds ?? [await createKey(servers.macaw.url)]
  const firstKey = keyIds[0] ?? ''
  const message = randomBytes(scenario.messageBytes).toString('base64')
  // The bare baseline signs as root either way: its request cost is the floor both are measured on.
  const identities = scenario.signer === undefined ? undefined : await benchIdentities(servers.macaw.url, dataDir, options.macawMain)
  const signer = scenario.signer === undefined ? undefined : identities?.[scenario.signer]
  const jobFor = async (server: ServerChild): Promise<LoadJob> => {
    const fields: Record<string, string> = { Message: message, MacAlgorithm: 'HMAC_SHA_256' }
    if (scenario.operation === 'VerifyMac')
      fields.Mac = await generateMac(server.url, firstKey, message)
    return {
      ...base,
      url: server.url,
      target: `TrentService.${scenario.operation}`,
      fields,
      keyIds,
      ...(signer !== undefined && server === servers.macaw ? { credentials: signer } : {}),
    }
  }
  return {
    macaw: await jobFor(servers.macaw),
    baseline: servers.baseline === undefined ? undefined : await jobFor(servers.baseline),
    setup: many?.setup,
  }
}

/** One load run with the server's CPU time (all its processes) read before and after. */
async function measure(
  load: LoadGenerator,
  server: ServerChild,
  job: LoadJob,
): Promise<Measurement> {
  const cpuBefore = cpuMicros(server.pids)
  const mainBefore = cpuMicros(server.pids, 'main')
  const r: LoadResult = await load.run(job)
  const served = r.ok + r.non2xx
  return {
    reqPerS: r.reqPerS,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    ok: r.ok,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    durationS: r.durationS,
    cpuUsPerReq: served === 0 ? Number.NaN : (cpuMicros(server.pids) - cpuBefore) / served,
    mainCpuUsPerReq: served === 0 ? Number.NaN : (cpuMicros(server.pids, 'main') - mainBefore) / served,
    loadCpuPct: r.loadCpuPct,
    ...(r.firstFailure === undefined ? {} : { firstFailure: r.firstFailure }),
  }
}

function describeRound(m: Measurement): string {
  const failures = m.non2xx + m.errors + m.timeouts
  const tail =
    failures === 0
      ? ''
      : ` FAILURES ${failures}: ${m.firstFailure ?? 'connection errors or timeouts'}`
  return `${Math.round(m.reqPerS)} req/s p50 ${m.p50Ms.toFixed(2)} ms p99 ${m.p99Ms.toFixed(2)} ms ${m.cpuUsPerReq.toFixed(1)} µs/req (request threads ${m.mainCpuUsPerReq.toFixed(1)})${tail}`
}

/** Warm-up (discarded), then rounds alternating baseline (A) and macaw (B). */
async function runRounds(
  load: LoadGenerator,
  servers: Servers,
  jobs: { macaw: LoadJob; baseline: LoadJob | undefined },
  options: Options,
  name: string,
): Promise<RoundRecord[]> {
  const warm = (job: LoadJob): LoadJob => ({ ...job, durationS: options.warmupS })
  if (servers.baseline !== undefined && jobs.baseline !== undefined)
    await load.run(warm(jobs.baseline))
  await load.run(warm(jobs.macaw))
  if (jobs.macaw.keyIds.length > 1) {
    // Many keys: one request per key first (the pool walks a shuffled list once), so the rounds
    // measure macaw warm, as the one-key scenarios do, rather than its first read of each key.
    log(`  warming macaw: one request for each of the ${jobs.macaw.keyIds.length} keys...`)
    await load.run({ ...jobs.macaw, durationS: 600, amount: jobs.macaw.keyIds.length })
  }
  const rounds: RoundRecord[] = []
  for (let round = 1; round <= options.rounds; round++) {
    const baseline =
      servers.baseline !== undefined && jobs.baseline !== undefined
        ? await measure(load, servers.baseline, jobs.baseline)
        : undefined
    const macaw = await measure(load, servers.macaw, jobs.macaw)
    const ratio = baseline === undefined ? undefined : macaw.reqPerS / baseline.reqPerS
    log(`[${name}] round ${round}/${options.rounds}`)
    if (baseline !== undefined) log(`    baseline ${describeRound(baseline)}`)
    log(
      `    macaw    ${describeRound(macaw)}${ratio === undefined ? '' : `  ratio ${ratio.toFixed(3)}`}`,
    )
    rounds.push({
      round,
      macaw,
      ...(baseline === undefined ? {} : { baseline }),
      ...(ratio === undefined ? {} : { ratio }),
    })
  }
  return rounds
}

async function runScenario(
  scenario: Scenario,
  options: Options,
  pinning: Pinning,
  load: LoadGenerator,
): Promise<ScenarioReport> {
  log(`[${scenario.name}] ${scenario.description}`)
  const dataDir = await mkdtemp(join(tmpdir(), 'macaw-bench-'))
  try {
    const servers = await startServers(options, scenario, pinning, dataDir)
    try {
      const jobs = await prepareJobs(scenario, servers, load, options, dataDir)
      const rounds = await runRounds(load, servers, jobs, options, scenario.name)
      let setup = jobs.setup
      if (setup !== undefined) {
        // With many keys: what macaw holds once every key has been used, and how fast a new
        // process starts on that store.
        const rssMiB = rssKiB(servers.macaw.pids) / 1024
        await servers.macaw.stop()
        const started = performance.now()
        const again = await startServers(options, { ...scenario, compared: false }, pinning, dataDir)
        const restartSeconds = (performance.now() - started) / 1000
        await again.macaw.stop()
        setup = { ...setup, rssMiB, restartSeconds }
        log(`  macaw RSS ${rssMiB.toFixed(0)} MiB; restarted on ${setup.keysCreated} keys in ${restartSeconds.toFixed(2)} s`)
      }
      return {
        name: scenario.name,
        description: scenario.description,
        operation: scenario.operation,
        connections: scenario.connections,
        messageBytes: scenario.messageBytes,
        ...(setup === undefined ? {} : { setup }),
        rounds,
        summary: summarize(rounds),
      }
    } finally {
      await servers.baseline?.stop()
      await servers.macaw.stop()
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const machine = machineInfo(options.macawMain)
  const { pinning, note } = choosePinning(options.serverCpus, options.loadCpus, machine.nproc)
  // The driver is idle during a round, but keep it off the servers' core all the same.
  pinProcess(process.pid, pinning.loadCpus)
  log(
    `macaw bench: ${options.scenarios.join(', ')}; ${options.rounds} rounds x ${options.durationS} s; ${note}`,
  )
  const startedAt = new Date().toISOString()
  const load = await LoadGenerator.start(pinning.loadCpus)
  const reports: ScenarioReport[] = []
  try {
    for (const name of options.scenarios) {
      if (SCENARIOS[name].postgres === true && !process.env['MACAW_BENCH_POSTGRES_URL']) {
        log(`[${name}] skipped: set MACAW_BENCH_POSTGRES_URL=postgres://user:password@host/db to run it`)
        continue
      }
      reports.push(await runScenario(SCENARIOS[name], options, pinning, load))
    }
  } finally {
    await load.stop()
  }
  const targetResults = targets(reports)
  const results = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    settings: {
      quick: options.quick,
      rounds: options.rounds,
      durationS: options.durationS,
      warmupS: options.warmupS,
      keys: options.keys,
      baselineWorkers: options.baselineWorkers,
      pinning: note,
    },
    scenarios: reports,
    targets: targetResults,
  }
  await mkdir(dirname(options.out), { recursive: true })
  await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`)
  const failures = printTable(reports, targetResults, machine, note)
  log(`results written to ${options.out}`)
  return failures === 0 ? 0 : 1
}

process.exitCode = await main()
