// The audit settings' values and bounds, as `serve` reads them from flags or environment.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildConfig, ConfigError } from '../../src/config.js'

const base = { dataDir: '/tmp/macaw-config-audit' }

describe('audit configuration', () => {
  it('checks the chain every 30 s by default; 0 turns the running check off', () => {
    assert.equal(buildConfig(base).audit.verifyIntervalMs, 30_000)
    assert.equal(buildConfig({ ...base, auditVerifySeconds: '0' }).audit.verifyIntervalMs, 0)
    assert.equal(buildConfig({ ...base, auditVerifySeconds: '600' }).audit.verifyIntervalMs, 600_000)
  })

  it('refuses an interval that is negative, fractional or not a number, naming its variable', () => {
    for (const value of ['-1', '1.5', 'soon', '86401']) {
      assert.throws(() => buildConfig({ ...base, auditVerifySeconds: value }), (err: unknown) => err instanceof ConfigError && /MACAW_AUDIT_VERIFY_SECONDS/.test(err.message), value)
    }
  })
})
