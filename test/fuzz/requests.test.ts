// Short fuzz run for CI: a few thousand generated requests (see cases.ts) and the raw-socket cases
// against an in-process server; every answer must be a documented KMS error or a success, and the
// server must still work and hold no key a rejected request tried to create. `npm run fuzz` is the
// long version against a spawned dist/ server.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { startKms } from '../helpers/server.js'
import { send } from '../helpers/raw.js'
import { assertStillWorks, formatReport, fuzzRaw, fuzzRequests, listAllKeys, newReport, unexpectedKeys } from './run.js'
import { closeAgent } from './wire.js'
import { rounds } from '../helpers/scale.js'

const COUNT = rounds('MACAW_FUZZ_CI_COUNT', 1000, 4000)

describe('fuzzed requests', () => {
  after(closeAgent)

  it('answers every generated request with 200 or a documented 400, and stays correct', async (t) => {
    const { server } = await startKms(t)
    const probe = async (): Promise<void> => {
      assert.equal((await send(server.url, { method: 'GET', path: '/healthz' })).status, 200)
    }
    const before = await listAllKeys(server.url)
    const report = newReport()
    const seed = Number(process.env['MACAW_FUZZ_SEED'] ?? Date.now() % 1_000_000)
    await fuzzRequests(server.url, report, COUNT, { seed, concurrency: 8 })
    const raw = await fuzzRaw(server.url, report, probe)
    t.diagnostic(`seed ${seed}, ${raw} raw-socket cases\n${formatReport(report)}`)
    assert.equal(report.problemCount, 0, `seed ${seed}\n${formatReport(report)}`)
    const own = new Set([await assertStillWorks(server.url)])
    const extra = unexpectedKeys(before, await listAllKeys(server.url), report, own)
    assert.deepEqual(extra, [], 'keys that no accepted request created')
  })
})
