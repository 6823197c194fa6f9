// The default deployment (`serve`, one worker per core: 2 here) stopped the way operators stop it:
// Ctrl-C and systemd stops (a signal to the whole process group), a signal to the primary alone,
// and a repeated signal lose no audit record of an answered request.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GenerateMacCommand } from '@aws-sdk/client-kms'
import { hmacKey, MESSAGE } from '../helpers/keys.js'
import { client, dataDir, WORKERS } from '../helpers/operate.js'
import { hostedMacaw, spawnServer } from '../helpers/process.js'
import { rounds } from '../helpers/scale.js'

async function storedMacRecords(dir: string): Promise<number> {
  // Read by another process once the server has exited (the file's cli host).
  const out = await hostedMacaw(dir, [
    'audit',
    'query',
    '--event-name',
    'GenerateMac',
    '--limit',
    '100000',
  ])
  return out.split('\n').filter(Boolean).length
}

describe('stopping the default deployment', { timeout: 240_000, concurrency: true }, () => {
  const stops: { name: string; signals: NodeJS.Signals[]; to: 'group' | 'primary' }[] = [
    { name: 'Ctrl-C (SIGINT to the process group)', signals: ['SIGINT'], to: 'group' },
    { name: 'systemd stop (SIGTERM to the control group)', signals: ['SIGTERM'], to: 'group' },
    { name: 'SIGTERM to the primary alone', signals: ['SIGTERM'], to: 'primary' },
    { name: 'SIGINT to the primary alone', signals: ['SIGINT'], to: 'primary' },
    { name: 'Ctrl-C twice', signals: ['SIGINT', 'SIGINT'], to: 'group' },
    {
      name: 'SIGTERM to the group, then again to the primary',
      signals: ['SIGTERM', 'SIGTERM'],
      to: 'group',
    },
  ]
  /** Each stop pattern, this many times over (the loss it guards against was intermittent). */
  const RUNS = rounds('MACAW_TEST_STOP_RUNS', 1, 3)
  for (const stop of stops) {
    it(`stores every audit record of every answered request on ${stop.name} (${RUNS} runs)`, async (t) => {
      const dir = await dataDir(t)
      const answered = 20
      for (let run = 1; run <= RUNS; run++) {
        // A long flush interval: records are still waiting in memory when the signal comes.
        const proc = await spawnServer(dir, {
          MACAW_WORKERS: WORKERS,
          MACAW_AUDIT_FLUSH_MS: '2000',
        })
        t.after(() => proc.stop())
        const kms = client(proc.url)
        t.after(() => kms.destroy())
        const key = await hmacKey(kms)
        for (let i = 0; i < answered; i++)
          await kms.send(
            new GenerateMacCommand({
              KeyId: key.keyId,
              Message: MESSAGE,
              MacAlgorithm: 'HMAC_SHA_256',
            }),
          )
        kms.destroy()
        for (const [i, signal] of stop.signals.entries()) {
          proc.signal(signal, i === 0 ? stop.to : 'primary')
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        const exit = await proc.waitForExit()
        assert.ok(
          exit.code === 0 || exit.code === null,
          `run ${run}: exit ${JSON.stringify(exit)}: ${proc.output()}`,
        )
        assert.equal(await storedMacRecords(dir), answered * run, `run ${run}: ${proc.output()}`)
      }
    })
  }

})
