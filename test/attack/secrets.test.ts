// No secret at rest or in logs: a realistic session against a spawned dist/ server (debug logs,
// audit on with --audit-file, users from the CLI, imported key material we know, MACs, grants, a
// /metrics scrape), then every byte of the logs, the audit file and the data dir is searched for
// each secret access key, message, returned MAC and the imported material, raw and as hex and base64.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { send, signedSend } from '../helpers/raw.js'
import { ACCOUNT, ROOT } from '../helpers/server.js'
import { createUser, credentialsOf, MAIN, removeDataDir } from '../helpers/process.js'
import { processTree } from '../fuzz/run.js'

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else out.push(path)
  }
  return out
}

/** The forms a secret could leak in: raw, hex (both cases), base64 and base64url. */
function formsOf(secret: Buffer): Buffer[] {
  const b64 = secret.toString('base64')
  return [secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('hex').toUpperCase()), Buffer.from(b64), Buffer.from(b64.replace(/=+$/, '')), Buffer.from(secret.toString('base64url'))]
}

describe('secrets', () => {
  it('leaves no secret key, message, MAC or key material in logs, the audit file or the data dir', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-secrets-'))
    const dataDir = join(dir, 'data')
    const auditFile = join(dir, 'audit.jsonl')
    t.after(() => removeDataDir(dir))
    const secrets: { what: string; value: Buffer }[] = [{ what: 'root secret access key', value: Buffer.from(ROOT.secretAccessKey) }]

    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'debug', '--audit', 'on', '--audit-file', auditFile, '--audit-flush-ms', '10'], {
      env: { ...process.env, MACAW_ROOT_ACCESS_KEY_ID: ROOT.accessKeyId, MACAW_ROOT_SECRET_ACCESS_KEY: ROOT.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const logs: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => logs.push(c))
    child.stderr.on('data', (c: Buffer) => logs.push(c))
    const exited = once(child, 'exit')
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start: ${Buffer.concat(logs).toString()}`)), 20_000)
      child.stdout.on('data', () => {
        const m = /macaw listening on (https?:\/\/\S+)/.exec(Buffer.concat(logs).toString())
        if (m?.[1]) {
          clearTimeout(timer)
          resolve(m[1])
        }
      })
    })
    const call = async (op: string, body: object, credentials = { accessKeyId: ROOT.accessKeyId, secretAccessKey: ROOT.secretAccessKey }): Promise<Record<string, unknown>> => {
      const res = await signedSend(url, `TrentService.${op}`, JSON.stringify(body), { credentials })
      assert.equal(res.status, 200, `${op}: ${res.body}`)
      return res.json ?? {}
    }

    // Users from the CLI, with policies that let them use keys.
    const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }
    const alice = await createUser(dataDir, ACCOUNT, 'alice', allowAll)
    const bob = await createUser(dataDir, ACCOUNT, 'bob')
    secrets.push({ what: 'alice secret', value: Buffer.from(alice.SecretAccessKey) }, { what: 'bob secret', value: Buffer.from(bob.SecretAccessKey) })

    // A normal key, and a key with material we chose, imported wrapped under RSAES_OAEP_SHA_256.
    const normal = ((await call('CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'normal' }))['KeyMetadata'] as { KeyId: string }).KeyId
    const material = randomBytes(48)
    secrets.push({ what: 'imported key material', value: material })
    const external = ((await call('CreateKey', { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', Origin: 'EXTERNAL' }))['KeyMetadata'] as { KeyId: string }).KeyId
    const params = await call('GetParametersForImport', { KeyId: external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })
    const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(String(params['PublicKey']), 'base64'), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material)
    await call('ImportKeyMaterial', { KeyId: external, ImportToken: params['ImportToken'], EncryptedKeyMaterial: wrapped.toString('base64'), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })
    await call('CreateAlias', { AliasName: 'alias/imported', TargetKeyId: external })

    // Grants, then MACs with recognizable messages, by root, alice and bob (through his grant).
    const grant = await call('CreateGrant', { KeyId: external, GranteePrincipal: bob.Arn, Operations: ['GenerateMac', 'VerifyMac'] })
    for (let i = 0; i < 6; i++) {
      const message = Buffer.from(`recognizable-message-${i}-${randomBytes(12).toString('hex')}`)
      secrets.push({ what: `message ${i}`, value: message })
      const [keyId, algorithm, who, extra] = [
        [normal, 'HMAC_SHA_256', ROOT, {}],
        [external, 'HMAC_SHA_384', credentialsOf(alice), {}],
        [external, 'HMAC_SHA_384', credentialsOf(bob), { GrantTokens: [grant['GrantToken']] }],
      ][i % 3] as [string, string, { accessKeyId: string; secretAccessKey: string }, object]
      const out = await call('GenerateMac', { KeyId: keyId, Message: message.toString('base64'), MacAlgorithm: algorithm, ...extra }, who)
      const mac = Buffer.from(String(out['Mac']), 'base64')
      secrets.push({ what: `MAC ${i}`, value: mac })
      await call('VerifyMac', { KeyId: keyId, Message: message.toString('base64'), MacAlgorithm: algorithm, Mac: mac.toString('base64'), ...extra }, who)
      // A refused VerifyMac is logged and audited too.
      const wrong = Buffer.from(mac)
      wrong[0] = (wrong[0] ?? 0) ^ 1
      const refused = await signedSend(url, 'TrentService.VerifyMac', JSON.stringify({ KeyId: keyId, Message: message.toString('base64'), MacAlgorithm: algorithm, Mac: wrong.toString('base64'), ...extra }), { credentials: who })
      assert.equal(refused.json?.['__type'], 'KMSInvalidMacException')
    }
    // A request with a wrong secret, and a refused signature: their logs must not echo secrets.
    await signedSend(url, 'TrentService.ListKeys', '{}', { credentials: { accessKeyId: alice.AccessKeyId, secretAccessKey: bob.SecretAccessKey } })
    const metrics = await send(url, { method: 'GET', path: '/metrics' })
    assert.equal(metrics.status, 200)
    assert.match(metrics.body, /GenerateMac/)
    // Let the audit buffer flush, then stop the server cleanly.
    await new Promise((r) => setTimeout(r, 300))
    child.kill('SIGTERM')
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))])
    if (!stopped) {
      for (const pid of processTree(child.pid ?? 0)) process.kill(pid, 'SIGKILL')
      await exited
    }
    t.diagnostic(stopped ? 'server stopped on SIGTERM' : 'server did not stop within 10 s of SIGTERM; killed')

    const haystacks: { name: string; bytes: Buffer }[] = [
      { name: 'server stdout/stderr', bytes: Buffer.concat(logs) },
      { name: 'metrics', bytes: Buffer.from(metrics.body) },
      { name: auditFile, bytes: await readFile(auditFile) },
    ]
    for (const file of await filesUnder(dataDir)) haystacks.push({ name: file, bytes: await readFile(file) })
    assert.ok(haystacks[0] && haystacks[0].bytes.includes('"level":20'), 'debug logs were captured')
    assert.ok((haystacks[2]?.bytes.length ?? 0) > 0, 'the audit file has records')
    const hits: string[] = []
    for (const s of secrets) {
      for (const form of formsOf(s.value)) {
        for (const h of haystacks) if (h.bytes.includes(form)) hits.push(`${s.what} (${form.length === s.value.length ? 'raw' : 'encoded'}) in ${h.name}`)
      }
    }
    t.diagnostic(`${secrets.length} secrets x 6 forms searched in ${haystacks.length} files (${haystacks.reduce((n, h) => n + h.bytes.length, 0)} bytes)`)
    assert.deepEqual(hits, [])
  })
})
