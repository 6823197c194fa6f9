// Secrets in what macaw prints: --print-config and the store description in logs never show a
// PostgreSQL password (in the userinfo, with ':' or '@' in it, or as ?password=) or a PKCS#11 PIN
// (also one with ';' in it); --store-password-file keeps the password out of argv and env.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { buildConfig, redactedConfig } from '../../src/config.js'
import { describeStore } from '../../src/store/index.js'

const SECRETS = ['s3cr:et@pw', 'qp-secret', 'ssl-secret', '12;34', 'pin-tail']

function shown(store: string, root = 'file:/tmp/root.key'): string {
  const config = buildConfig({ store, root, dataDir: '/tmp/macaw-redaction' })
  return JSON.stringify(redactedConfig(config)) + describeStore(config.store)
}

describe('secrets in printed configuration', () => {
  it('never shows a PostgreSQL password, in any of its forms', () => {
    for (const url of [
      `postgres://macaw:${encodeURIComponent('s3cr:et@pw')}@db:5432/macaw`,
      'postgres://macaw@db/macaw?password=qp-secret',
      'postgresql://macaw:s3cr:et@pw@db/macaw',
      'postgres://macaw@db/macaw?sslmode=require&sslpassword=ssl-secret',
    ]) {
      const text = shown(url)
      for (const secret of SECRETS) assert.ok(!text.includes(secret) && !text.includes(encodeURIComponent(secret)), `${url} -> ${text}`)
      assert.ok(text.includes('<redacted>') || text.includes('not shown'), text)
    }
  })

  it('leaves the rest of the URL as it is', () => {
    const config = buildConfig({ store: 'postgres://redacted:pw@db/redacted?sslmode=require', dataDir: '/tmp/macaw-redaction' })
    assert.equal(describeStore(config.store), 'postgres://redacted:<redacted>@db/redacted?sslmode=require')
  })

  it('never shows a PKCS#11 PIN, also one holding a ;', () => {
    for (const root of [
      'pkcs11:token=macaw;object=root?pin-value=12;34&module-path=/usr/lib/softhsm/libsofthsm2.so',
      'pkcs11:token=macaw;object=root;pin-value=12;pin-tail',
    ]) {
      const text = shown('sqlite', root)
      for (const secret of ['12;34', 'pin-tail', '=12']) assert.ok(!text.includes(secret), `${root} -> ${text}`)
      assert.ok(text.includes('token=macaw'))
      // The same URI among --extra-roots.
      const extra = JSON.stringify(redactedConfig(buildConfig({ extraRoots: `file:/tmp/a.key,${root}`, dataDir: '/tmp/macaw-redaction' })))
      for (const secret of ['12;34', 'pin-tail', '=12']) assert.ok(!extra.includes(secret), `${root} -> ${extra}`)
      assert.ok(extra.includes('file:/tmp/a.key'))
    }
  })

  it('takes the PostgreSQL password from --store-password-file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-pw-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'pw')
    await writeFile(file, 'p@ss:word;1\n', { mode: 0o600 })
    const config = buildConfig({ store: 'postgres://macaw@db:5432/macaw', storePasswordFile: file, dataDir: dir })
    assert.equal(config.store.kind, 'postgres')
    assert.equal(decodeURIComponent(new URL(config.store.kind === 'postgres' ? config.store.url : '').password), 'p@ss:word;1')
    assert.ok(!JSON.stringify(redactedConfig(config)).includes('p@ss'))
    assert.throws(() => buildConfig({ store: 'sqlite', storePasswordFile: file, dataDir: dir }), /storePasswordFile/)
  })
})
