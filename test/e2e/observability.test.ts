// Metrics, readiness and HTTPS: a /metrics scrape after traffic shows the expected series; the SDK
// talks to macaw over TLS with a self-signed certificate it trusts; SIGHUP reloads the certificate.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { describe, it, type TestContext } from 'node:test'
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { REGION, ROOT, startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'
import { spawnServer, removeDataDir } from '../helpers/process.js'

async function selfSigned(t: TestContext, name = 'cert'): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'macaw-tls-'))
  t.after(() => removeDataDir(dir))
  return writeCert(dir, name)
}

function writeCert(dir: string, name: string): { dir: string; cert: string; key: string } {
  const cert = join(dir, `${name}.pem`)
  const key = join(dir, `${name}-key.pem`)
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' })
  return { dir, cert, key }
}

/** The fingerprint of the certificate a TLS server presents. */
function presented(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '')
      socket.end()
    })
    socket.on('error', reject)
  })
}

describe('observability', { concurrency: true }, () => {
  it('exposes Prometheus metrics for requests, latency, cache, store and audit', async (t) => {
    const { server, kms } = await startKms(t)
    const key = await hmacKey(kms)
    for (let i = 0; i < 3; i++) await kms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' })), 'InvalidKeyUsageException')
    const res = await fetch(`${server.url}/metrics`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/)
    const text = await res.text()
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '))
      assert.ok(line, `no series ${series}`)
      return Number(line.slice(series.length + 1))
    }
    assert.equal(value('macaw_requests_total{operation="GenerateMac",outcome="success",error=""}'), 3)
    assert.equal(value('macaw_requests_total{operation="GenerateMac",outcome="client_error",error="InvalidKeyUsageException"}'), 1)
    assert.equal(value('macaw_requests_total{operation="CreateKey",outcome="success",error=""}'), 1)
    assert.equal(value('macaw_request_duration_seconds_count{operation="GenerateMac"}'), 4)
    assert.ok(value('macaw_key_cache_hits_total') >= 3)
    assert.ok(value('macaw_key_cache_misses_total') >= 1)
    assert.equal(value('macaw_key_cache_entries'), 1)
    assert.ok(value('macaw_store_operation_duration_seconds_count{method="insertKey"}') >= 1)
    assert.ok(text.includes('macaw_audit_backlog'))
    assert.ok(text.includes('macaw_process_resident_memory_bytes'))
    // No per-key labels, no key material.
    assert.ok(!text.includes(key.keyId))
    const ready = await fetch(`${server.url}/readyz`)
    assert.equal(ready.status, 200)
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
  })

  it('serves HTTPS to the SDK with a certificate it trusts, and reloads the certificate', async (t) => {
    const tls = await selfSigned(t)
    const { server } = await startKms(t, { settings: { tlsCert: tls.cert, tlsKey: tls.key } })
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const ca = await readFile(tls.cert)
    const kms = new KMSClient({
      endpoint: server.url,
      region: REGION,
      credentials: ROOT,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca, keepAlive: false }) }),
    })
    t.after(() => kms.destroy())
    const key = await hmacKey(kms)
    const out = await kms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.equal(out.KeyId, key.arn)

    const before = await presented(server.port, ca)
    assert.equal(before, new X509Certificate(ca).fingerprint256)
    const next = writeCert(tls.dir, 'cert')
    server.reloadTls()
    const after = await presented(server.port, await readFile(next.cert))
    assert.notEqual(after, before)
  })

  it('reloads the certificate on SIGHUP in a real process', async (t) => {
    const tls = await selfSigned(t)
    const dataDir = await mkdtemp(join(tmpdir(), 'macaw-tls-data-'))
    const proc = await spawnServer(dataDir, { MACAW_TLS_CERT: tls.cert, MACAW_TLS_KEY: tls.key })
    // The server stops before its data directory goes (hooks run in the order they are added).
    t.after(async () => {
      await proc.stop()
      await removeDataDir(dataDir)
    })
    const port = Number(new URL(proc.url).port)
    const before = await presented(port, await readFile(tls.cert))
    const next = writeCert(tls.dir, 'cert')
    proc.child.kill('SIGHUP')
    const ca = await readFile(next.cert)
    let after = before
    for (let i = 0; i < 50 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 50))
      after = await presented(port, ca).catch(() => before)
    }
    assert.notEqual(after, before)
  })
})
