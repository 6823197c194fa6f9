// The performance targets, each computed from the scenarios of one run: a ratio to the bare
// baseline, a cost against another scenario, or a figure of its own. Costs and own-rate ratios pair
// the scenarios round by round (round i of one with round i of the other). Those that compare two
// macaw configurations under the same load divide their macaw/baseline ratios, so that the machine
// slowing down between scenarios cancels out; the 4 KiB target divides macaw's own rates, since
// the baseline's 4 KiB rate is not its 64 B one. Each shows its median and its spread (min–max).
import type { RoundRecord, ScenarioReport, ServerSummary } from './report.js'
import { fmt, spread, type Spread } from './stats.js'

export interface TargetResult {
  /** What is asked, as the target states it. */
  readonly target: string
  /** The figure and where it comes from. */
  readonly measured: string
  /** `not run`: a scenario it needs was not part of this run. */
  readonly verdict: 'met' | 'missed' | 'not run'
}

/** 100,000 keys, as the 100k targets are stated. */
const TARGET_KEYS = 100_000
const MB_PER_MIB = 1.048576

type Reports = ReadonlyMap<string, ScenarioReport>

/** f over the rounds that both scenarios have, by round number. */
function paired(a: ScenarioReport, b: ScenarioReport, f: (x: RoundRecord, y: RoundRecord) => number | undefined): Spread {
  const values: number[] = []
  for (const x of a.rounds) {
    const y = b.rounds.find((r) => r.round === x.round)
    const v = y === undefined ? undefined : f(x, y)
    if (v !== undefined) values.push(v)
  }
  return spread(values)
}

const ratioOf = (r: RoundRecord): number | undefined => r.ratio
const quotient = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b

const times = (s: Spread): string => `${s.median.toFixed(3)}× (${s.min.toFixed(3)}–${s.max.toFixed(3)})`
const percent = (s: Spread): string => `${(100 * s.median).toFixed(1)} % (${(100 * s.min).toFixed(1)}–${(100 * s.max).toFixed(1)})`
const ms = (s: Spread): string => `${fmt(s.median)} ms (${fmt(s.min)}–${fmt(s.max)})`
const verdict = (ok: boolean): 'met' | 'missed' => (ok ? 'met' : 'missed')

function notRun(target: string, ...names: string[]): TargetResult {
  return { target, measured: `needs ${names.join(' and ')}`, verdict: 'not run' }
}

/** A ratio to the baseline of one scenario, at least `min`. */
function ratioTarget(reports: Reports, target: string, name: string, min: number): TargetResult {
  const ratio = reports.get(name)?.summary.ratio
  if (ratio === undefined) return notRun(target, name)
  return { target, measured: `${times(ratio)} (${name})`, verdict: verdict(ratio.median >= min) }
}

/** A server's CPU per request on its request threads + its other threads (macaw's audit writer among them). */
export const threadSplit = (s: ServerSummary): string => `${fmt(s.mainCpuUsPerReq)} + ${fmt(s.cpuUsPerReq - s.mainCpuUsPerReq)}`

/** What `name` costs against `reference` in throughput (1 − the quotient of their ratios), at most `max`. */
function costTarget(reports: Reports, target: string, name: string, reference: string, max: number): TargetResult {
  const a = reports.get(name)
  const b = reports.get(reference)
  if (a === undefined || b === undefined) return notRun(target, name, reference)
  const cost = paired(a, b, (x, y) => {
    const q = quotient(ratioOf(x), ratioOf(y))
    return q === undefined ? undefined : 1 - q
  })
  const cpu = `CPU ${fmt(a.summary.macaw.cpuUsPerReq)} against ${fmt(b.summary.macaw.cpuUsPerReq)} µs/req (request threads + other threads: ${threadSplit(a.summary.macaw)} against ${threadSplit(b.summary.macaw)})`
  return { target, measured: `${percent(cost)} fewer req/s (${name} against ${reference}); ${cpu}`, verdict: verdict(cost.median <= max) }
}

/** `name` against `reference`'s rate, at least `min`: through the baseline ratios, or macaw's own rates. */
function ownRateTarget(reports: Reports, target: string, name: string, reference: string, min: number, through: 'baseline' | 'macaw'): TargetResult {
  const a = reports.get(name)
  const b = reports.get(reference)
  if (a === undefined || b === undefined) return notRun(target, name, reference)
  const q = paired(a, b, (x, y) => (through === 'baseline' ? quotient(ratioOf(x), ratioOf(y)) : quotient(x.macaw.reqPerS, y.macaw.reqPerS)))
  return { target, measured: `${times(q)} (${name} against ${reference})`, verdict: verdict(q.median >= min) }
}

/**
 * The targets of keys100k: its rate against one key's, its RSS and its restart. Judged only at the
 * full 100,000 keys (`--quick` creates 10,000): otherwise shown, with the key count, as not run.
 */
function scaleTargets(reports: Reports): TargetResult[] {
  const rssTarget = `RSS with ${TARGET_KEYS.toLocaleString('en')} keys ≤ 300 MB`
  const startTarget = `start-up with ${TARGET_KEYS.toLocaleString('en')} keys ≤ 2 s`
  const rate = ownRateTarget(reports, "100,000 keys (random key per request) ≥ 0.9× macaw's own 1-key rate", 'keys100k', 'gm64-c64', 0.9, 'baseline')
  const setup = reports.get('keys100k')?.setup
  if (setup === undefined) return [rate, notRun(rssTarget, 'keys100k'), notRun(startTarget, 'keys100k')]
  const out: TargetResult[] = [rate]
  if (setup.rssMiB === undefined) out.push(notRun(rssTarget, 'keys100k with its RSS'))
  else {
    const mb = setup.rssMiB * MB_PER_MIB
    out.push({ target: rssTarget, measured: `${fmt(mb)} MB (${fmt(setup.rssMiB)} MiB) after the rounds`, verdict: verdict(mb <= 300) })
  }
  if (setup.restartSeconds === undefined) out.push(notRun(startTarget, 'keys100k with its restart'))
  else out.push({ target: startTarget, measured: `${fmt(setup.restartSeconds)} s to listen`, verdict: verdict(setup.restartSeconds <= 2) })
  const keys = `${setup.keysCreated.toLocaleString('en')} keys`
  const partial = setup.keysCreated < TARGET_KEYS
  return out.map((r) => (r.verdict === 'not run' ? r : { ...r, measured: `${r.measured}, ${keys}`, ...(partial ? { verdict: 'not run' as const } : {}) }))
}

function latencyTargets(reports: Reports): TargetResult[] {
  const c64Target = "p99 at 64 connections ≤ 1.5× the baseline's p99"
  const c1Target = 'p99 at 1 connection ≤ 1 ms'
  const out: TargetResult[] = []
  const c64 = reports.get('gm64-c64')
  if (c64 === undefined) out.push(notRun(c64Target, 'gm64-c64'))
  else {
    const q = spread(c64.rounds.flatMap((r) => quotient(r.macaw.p99Ms, r.baseline?.p99Ms) ?? []))
    const { baseline, macaw } = c64.summary
    out.push({ target: c64Target, measured: `${times(q)}; median p99 ${fmt(macaw.p99Ms)} against ${fmt(baseline?.p99Ms ?? Number.NaN)} ms`, verdict: verdict(q.median <= 1.5) })
  }
  const c1 = reports.get('gm64-c1')
  if (c1 === undefined) out.push(notRun(c1Target, 'gm64-c1'))
  else {
    const p99 = spread(c1.rounds.map((r) => r.macaw.p99Ms))
    const baseline = c1.summary.baseline?.p99Ms
    out.push({ target: c1Target, measured: `${ms(p99)}${baseline === undefined ? '' : `; the baseline's ${fmt(baseline)} ms`}`, verdict: verdict(p99.median <= 1) })
  }
  return out
}

/** Every target, in the order they are stated, from the scenarios of one run. */
export function targets(scenarios: readonly ScenarioReport[]): TargetResult[] {
  const reports: Reports = new Map(scenarios.map((s) => [s.name, s]))
  return [
    ratioTarget(reports, 'GenerateMac 64 B, 64 connections ≥ 0.8× the baseline (floor 0.7×)', 'gm64-c64', 0.8),
    costTarget(reports, 'audit on costs ≤ 5 % of throughput', 'gm64-c64', 'gm64-audit-off', 0.05),
    ...scaleTargets(reports),
    ownRateTarget(reports, "4 KiB message ≥ 0.85× macaw's own 64 B rate", 'gm4k-c64', 'gm64-c64', 0.85, 'macaw'),
    ...latencyTargets(reports),
    ratioTarget(reports, '--workers 2 ≥ 0.9× a 2-worker baseline', 'gm64-workers2', 0.9),
    costTarget(reports, 'throttling (--throttle aws) costs ≤ 5 % on the hot path', 'gm64-throttle', 'gm64-c64', 0.05),
    costTarget(reports, 'temporary credentials cost ≤ 5 % on the hot path', 'gm64-session', 'gm64-user', 0.05),
  ]
}

/** The targets as a Markdown table. */
export function targetTable(results: readonly TargetResult[]): string[] {
  return ['| target | measured: median (min–max) | |', '| --- | --- | --- |', ...results.map((r) => `| ${r.target} | ${r.measured} | ${r.verdict} |`)]
}
