// What a benchmark run records and prints: per-round measurements, per-scenario medians and
// macaw/baseline ratios, the machine it ran on, and the Markdown table on stdout.
import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus, release } from 'node:os'
import { REPO_ROOT } from './procs.js'
import { fmt, median, spread, type Spread } from './stats.js'
import { targetTable, threadSplit, type TargetResult } from './targets.js'

export interface Measurement {
  readonly reqPerS: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly ok: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  readonly durationS: number
  readonly cpuUsPerReq: number
  /** Of cpuUsPerReq, the processes' main threads (the request threads); the rest is their other threads. */
  readonly mainCpuUsPerReq: number
  readonly loadCpuPct: number
  readonly firstFailure?: string
}

export interface RoundRecord {
  readonly round: number
  readonly baseline?: Measurement
  readonly macaw: Measurement
  /** macaw req/s ÷ baseline req/s in this round. */
  readonly ratio?: number
}

export interface SetupInfo {
  readonly keysRequested: number
  readonly keysCreated: number
  readonly creationSeconds: number
  readonly creationKeysPerS: number
  readonly creationFailures: number
  readonly firstFailure?: string
  /** macaw's resident memory after the rounds (all its processes), MiB. */
  readonly rssMiB?: number
  /** How long a fresh macaw took to listen on the same data directory, seconds. */
  readonly restartSeconds?: number
}

export interface ServerSummary {
  readonly reqPerS: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuUsPerReq: number
  readonly mainCpuUsPerReq: number
  readonly loadCpuPct: number
  /** non-2xx answers, connection errors and timeouts over all rounds; anything but 0 is a bug. */
  readonly failures: number
}

export interface Summary {
  readonly baseline?: ServerSummary
  readonly macaw: ServerSummary
  readonly ratio?: Spread
}

export interface ScenarioReport {
  readonly name: string
  readonly description: string
  readonly operation: string
  readonly connections: number
  readonly messageBytes: number
  readonly setup?: SetupInfo
  readonly rounds: readonly RoundRecord[]
  readonly summary: Summary
}

export interface MachineInfo {
  readonly nproc: number
  readonly cpuModel: string
  readonly node: string
  readonly kernel: string
  readonly commit: string
  readonly macawMain: string
}

function summarizeServer(ms: readonly Measurement[]): ServerSummary {
  return {
    reqPerS: median(ms.map((m) => m.reqPerS)),
    p50Ms: median(ms.map((m) => m.p50Ms)),
    p99Ms: median(ms.map((m) => m.p99Ms)),
    cpuUsPerReq: median(ms.map((m) => m.cpuUsPerReq)),
    mainCpuUsPerReq: median(ms.map((m) => m.mainCpuUsPerReq)),
    loadCpuPct: median(ms.map((m) => m.loadCpuPct)),
    failures: ms.reduce((sum, m) => sum + m.non2xx + m.errors + m.timeouts, 0),
  }
}

export function summarize(rounds: readonly RoundRecord[]): Summary {
  const baselines = rounds.flatMap((r) => (r.baseline === undefined ? [] : [r.baseline]))
  const ratios = rounds.flatMap((r) => (r.ratio === undefined ? [] : [r.ratio]))
  return {
    macaw: summarizeServer(rounds.map((r) => r.macaw)),
    ...(baselines.length === 0 ? {} : { baseline: summarizeServer(baselines) }),
    ...(ratios.length === 0 ? {} : { ratio: spread(ratios) }),
  }
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim()
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      }).trim() !== ''
    return dirty ? `${commit} (src/ modified)` : commit
  } catch {
    return 'unknown'
  }
}

export function machineInfo(macawMain: string): MachineInfo {
  // A --macaw build from elsewhere is not described by this checkout's commit.
  const ownBuild = macawMain.startsWith(REPO_ROOT)
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: release(),
    commit: ownBuild ? gitCommit() : `build at ${macawMain}`,
    macawMain,
  }
}

const latency = (s: ServerSummary | undefined): string =>
  s === undefined ? '–' : `${fmt(s.p50Ms)} / ${fmt(s.p99Ms)}`
const rate = (s: ServerSummary | undefined): string =>
  s === undefined ? '–' : fmt(Math.round(s.reqPerS), 6)
const ratioText = (r: Spread | undefined): string =>
  r === undefined ? '–' : `${r.median.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)})`

function row(report: ScenarioReport): string {
  const { baseline, macaw, ratio } = report.summary
  const cpu = `${baseline === undefined ? '–' : fmt(baseline.cpuUsPerReq)} / ${fmt(macaw.cpuUsPerReq)} (${threadSplit(macaw)})`
  const failures = macaw.failures + (baseline?.failures ?? 0)
  return `| ${report.name} | ${rate(baseline)} | ${rate(macaw)} | ${ratioText(ratio)} | ${latency(baseline)} | ${latency(macaw)} | ${cpu} | ${failures} |`
}

/** Notes under the table: key creation, failures and a saturated load generator. */
function notes(reports: readonly ScenarioReport[]): string[] {
  const out: string[] = []
  for (const r of reports) {
    if (r.setup !== undefined) {
      const s = r.setup
      out.push(
        `${r.name}: created ${s.keysCreated} of ${s.keysRequested} keys in ${fmt(s.creationSeconds)} s (${Math.round(s.creationKeysPerS)} keys/s, ${s.creationFailures} failures)` +
          (s.rssMiB === undefined ? '' : `; macaw RSS after the rounds ${fmt(s.rssMiB)} MiB`) +
          (s.restartSeconds === undefined ? '' : `; a fresh macaw on those keys listened after ${fmt(s.restartSeconds)} s`),
      )
    }
    for (const round of r.rounds) {
      for (const [server, m] of [
        ['baseline', round.baseline],
        ['macaw', round.macaw],
      ] as const) {
        if (m !== undefined && m.non2xx + m.errors + m.timeouts > 0) {
          out.push(
            `${r.name} round ${round.round} ${server}: ${m.non2xx} non-2xx, ${m.errors} errors, ${m.timeouts} timeouts; first: ${m.firstFailure ?? '-'}`,
          )
        }
      }
    }
    const loadCpu = Math.max(r.summary.baseline?.loadCpuPct ?? 0, r.summary.macaw.loadCpuPct)
    if (loadCpu > 90)
      out.push(
        `${r.name}: the load generator used ${Math.round(loadCpu)} % of its core; the faster server's req/s is a lower bound`,
      )
  }
  return out
}

/** Prints the Markdown table on stdout; returns the number of failed requests in all scenarios. */
export function printTable(
  reports: readonly ScenarioReport[],
  targetResults: readonly TargetResult[],
  machine: MachineInfo,
  pinning: string,
): number {
  const lines = [
    `macaw ${machine.commit}, node ${machine.node}, ${machine.nproc} CPUs (${machine.cpuModel}); ${pinning}`,
    '',
    '| scenario | baseline req/s | macaw req/s | macaw/baseline median (min–max) | baseline p50 / p99 ms | macaw p50 / p99 ms | CPU µs/req baseline / macaw (macaw request threads + other threads) | failures |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...reports.map(row),
    '',
    ...notes(reports).map((n) => `- ${n}`),
    '',
    ...targetTable(targetResults),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  return reports.reduce(
    (sum, r) => sum + r.summary.macaw.failures + (r.summary.baseline?.failures ?? 0),
    0,
  )
}
