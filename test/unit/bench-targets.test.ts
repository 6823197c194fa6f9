// The benchmark's targets: each one computed from the right scenarios, paired round by round, with
// its verdict, and "not run" when a scenario it needs is missing or ran at fewer keys.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Measurement, RoundRecord, ScenarioReport, SetupInfo } from '../../bench/report.js'
import { summarize } from '../../bench/report.js'
import { targets, targetTable, type TargetResult } from '../../bench/targets.js'

function measurement(reqPerS: number, p99Ms = 10): Measurement {
  return { reqPerS, p50Ms: p99Ms / 2, p99Ms, ok: reqPerS, non2xx: 0, errors: 0, timeouts: 0, durationS: 1, cpuUsPerReq: 1e6 / reqPerS, mainCpuUsPerReq: 0.75e6 / reqPerS, loadCpuPct: 50 }
}

/** A scenario of rounds given as [baseline req/s, macaw req/s] (and optionally p99s). */
function scenario(name: string, rounds: readonly (readonly [number, number, number?, number?])[], setup?: SetupInfo): ScenarioReport {
  const records: RoundRecord[] = rounds.map(([b, m, bp99, mp99], i) => ({
    round: i + 1,
    baseline: measurement(b, bp99),
    macaw: measurement(m, mp99),
    ratio: m / b,
  }))
  return { name, description: name, operation: 'GenerateMac', connections: 64, messageBytes: 64, rounds: records, summary: summarize(records), ...(setup === undefined ? {} : { setup }) }
}

function find(results: readonly TargetResult[], start: string): TargetResult {
  const found = results.find((r) => r.target.startsWith(start))
  assert.ok(found, `no target starting with ${start}`)
  return found
}

const setup = (keysCreated: number, rssMiB: number, restartSeconds: number): SetupInfo => ({
  keysRequested: 100_000,
  keysCreated,
  creationSeconds: 60,
  creationKeysPerS: keysCreated / 60,
  creationFailures: 0,
  rssMiB,
  restartSeconds,
})

describe('bench targets', () => {
  it('pairs rounds and divides ratios, so that a slower machine in one scenario cancels out', () => {
    // The baseline ran half as fast in the audit-off scenario: macaw's ratio is what counts.
    const results = targets([
      scenario('gm64-c64', [
        [10_000, 8_500],
        [10_000, 8_600],
        [10_000, 8_400],
      ]),
      scenario('gm64-audit-off', [
        [5_000, 4_500],
        [5_000, 4_500],
        [5_000, 4_500],
      ]),
    ])
    const ratio = find(results, 'GenerateMac 64 B')
    assert.equal(ratio.verdict, 'met')
    assert.match(ratio.measured, /^0\.850× \(0\.840–0\.860\)/)
    // 1 - 0.85 / 0.9 = 5.6 %
    const audit = find(results, 'audit on')
    assert.equal(audit.verdict, 'missed')
    assert.match(audit.measured, /^5\.6 % \(4\.4–6\.7\) fewer req\/s/)
    // Where the CPU went: the request threads and the others (the audit writer's).
    assert.match(audit.measured, /request threads \+ other threads: [\d.]+ \+ [\d.]+ against [\d.]+ \+ [\d.]+\)$/)
  })

  it('says which scenarios a target needs when they did not run', () => {
    const results = targets([scenario('gm64-c64', [[10_000, 5_000]])])
    const workers = find(results, '--workers 2')
    assert.equal(workers.verdict, 'not run')
    assert.match(workers.measured, /gm64-workers2/)
    assert.equal(find(results, 'temporary credentials').verdict, 'not run')
    assert.equal(find(results, 'RSS').verdict, 'not run')
    // Every target is listed, whatever ran.
    assert.equal(results.length, 11)
    assert.equal(targetTable(results).length, 13)
  })

  it('judges memory in MB (10^6 bytes) and only at the full 100,000 keys', () => {
    const c64 = scenario('gm64-c64', [[10_000, 5_000]])
    const full = targets([c64, scenario('keys100k', [[10_000, 4_800]], setup(100_000, 290, 0.5))])
    // 290 MiB is 304 MB.
    assert.equal(find(full, 'RSS').verdict, 'missed')
    assert.match(find(full, 'RSS').measured, /^304 MB \(290 MiB\)/)
    assert.equal(find(full, 'start-up').verdict, 'met')
    assert.equal(find(full, '100,000 keys').verdict, 'met')
    const quick = targets([c64, scenario('keys100k', [[10_000, 4_800]], setup(10_000, 100, 0.2))])
    for (const t of ['RSS', 'start-up', '100,000 keys']) assert.equal(find(quick, t).verdict, 'not run', t)
    assert.match(find(quick, '100,000 keys').measured, /10,000 keys/)
  })

  it("compares the 4 KiB rate with macaw's own 64 B rate, and p99s round by round", () => {
    const results = targets([
      scenario('gm64-c64', [
        [10_000, 5_000, 10, 14],
        [10_000, 5_000, 10, 16],
      ]),
      scenario('gm4k-c64', [
        [9_000, 4_000],
        [9_000, 4_500],
      ]),
      scenario('gm64-c1', [
        [2_000, 1_500, 0.7, 0.9],
        [2_000, 1_500, 0.7, 1.3],
        [2_000, 1_500, 0.7, 1.2],
      ]),
    ])
    const gm4k = find(results, '4 KiB')
    assert.match(gm4k.measured, /^0\.850× \(0\.800–0\.900\)/)
    assert.equal(gm4k.verdict, 'met')
    const c64 = find(results, 'p99 at 64')
    assert.match(c64.measured, /^1\.500× \(1\.400–1\.600\)/)
    assert.equal(c64.verdict, 'met')
    const c1 = find(results, 'p99 at 1')
    assert.match(c1.measured, /^1\.2 ms \(0\.9–1\.3\)/)
    assert.equal(c1.verdict, 'missed')
  })
})
