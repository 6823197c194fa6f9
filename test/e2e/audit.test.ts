// The audit trail end to end: one CloudTrail-shaped record per request (allowed, failed, denied,
// unauthenticated), no message or MAC bytes, a hash chain that `macaw audit verify` checks, and
// records that survive a restart.
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms'
import Database from 'better-sqlite3'
import { keyedChain } from '../../src/audit/chain.js'
import { cloudTrailText } from '../../src/audit/event.js'
import { toAudit, type AuditDbRow } from '../../src/store/rows.js'
import { ACCOUNT, REGION, ROOT, startKms } from '../helpers/server.js'
import { hmacKey, rejectsWith } from '../helpers/keys.js'
import { createUser, credentialsOf, hostedMacaw, removeDataDir } from '../helpers/process.js'

const SECRET_MESSAGE = Buffer.from('audit-must-never-see-this-message-0123456789')

interface Event {
  eventName: string
  eventSource: string
  awsRegion: string
  eventTime: string
  errorCode?: string
  errorMessage?: string
  readOnly: boolean
  eventCategory: string
  requestID: string
  eventID: string
  sourceIPAddress: string
  userAgent: string
  userIdentity: { type: string; arn?: string; accountId?: string; accessKeyId?: string }
  requestParameters: Record<string, unknown> | null
  responseElements: unknown
  resources: { ARN: string; type: string; accountId: string }[]
}

const mac = (kms: KMSClient, KeyId: string, MacAlgorithm: 'HMAC_SHA_256' | 'HMAC_SHA_512' = 'HMAC_SHA_256') =>
  kms.send(new GenerateMacCommand({ KeyId, Message: SECRET_MESSAGE, MacAlgorithm }))

describe('audit trail', { concurrency: true }, () => {
  it('records a successful, a failed and a denied GenerateMac once each, without message or MAC bytes', async (t) => {
    const auditFile = join(await mkdtemp(join(tmpdir(), 'macaw-audit-')), 'audit.jsonl')
    t.after(() => removeDataDir(dirname(auditFile)))
    const { server, kms, dataDir, client } = await startKms(t, { settings: { auditFile } })
    const key = await hmacKey(kms)
    const alice = await createUser(dataDir, ACCOUNT, 'alice')
    const ok = await mac(kms, key.keyId)
    await rejectsWith(mac(kms, key.keyId, 'HMAC_SHA_512'), 'InvalidKeyUsageException')
    await rejectsWith(mac(client(REGION, credentialsOf(alice)), key.keyId), 'AccessDeniedException')
    await server.kms.audit.flush()

    const rows = await server.kms.store.queryAudit({ eventName: 'GenerateMac', limit: 100 })
    assert.equal(rows.length, 3)
    const events = rows.map((r) => JSON.parse(cloudTrailText(r)) as Event)
    const [success, failed, denied] = events as [Event, Event, Event]
    for (const e of events) {
      assert.equal(e.eventSource, 'kms.amazonaws.com')
      assert.equal(e.awsRegion, REGION)
      assert.equal(e.readOnly, true)
      assert.equal(e.eventCategory, 'Management')
      assert.match(e.eventID, /^[0-9a-f-]{36}$/)
      assert.match(e.userAgent, /aws-sdk-js/)
      assert.equal(e.sourceIPAddress, '127.0.0.1')
      assert.deepEqual(e.resources, [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: key.arn }])
      assert.equal(e.requestParameters?.['keyId'], key.keyId)
      assert.ok(!('message' in (e.requestParameters ?? {})))
      assert.equal(e.responseElements, null)
    }
    assert.equal(success.requestID, ok.$metadata.requestId)
    assert.deepEqual(success.userIdentity, { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT, accessKeyId: ROOT.accessKeyId })
    assert.equal(success.errorCode, undefined)
    assert.equal(success.requestParameters?.['macAlgorithm'], 'HMAC_SHA_256')
    assert.equal(failed.errorCode, 'InvalidKeyUsageException')
    assert.match(failed.errorMessage ?? '', /incompatible with key spec/)
    assert.equal(denied.errorCode, 'AccessDeniedException')
    assert.equal(denied.userIdentity.arn, alice.Arn)
    assert.equal(denied.userIdentity.type, 'IAMUser')
    assert.deepEqual(rows.map((r) => r.outcome), ['success', 'failure', 'failure'])
    assert.equal(rows[2]?.principal, alice.Arn)

    // No message or MAC bytes anywhere in the store's audit rows (as stored and as rendered) or the
    // JSON-lines file, which holds the whole events.
    const macB64 = Buffer.from(ok.Mac ?? new Uint8Array()).toString('base64')
    const stored = await server.kms.store.queryAudit({ limit: 1000 })
    const all = stored.map((r) => `${r.event}\n${cloudTrailText(r)}`).join('\n')
    const file = await readFile(auditFile, 'utf8')
    assert.deepEqual(file.trim().split('\n'), stored.map((r) => cloudTrailText(r)))
    for (const text of [all, file]) {
      assert.ok(!text.includes(SECRET_MESSAGE.toString('base64')))
      assert.ok(!text.includes(SECRET_MESSAGE.toString('utf8')))
      assert.ok(!text.includes(macB64))
      assert.ok(!text.includes(ROOT.secretAccessKey))
      assert.ok(!text.includes(alice.SecretAccessKey))
    }
  })

  it('records requests that fail authentication or routing', async (t) => {
    const { server, client } = await startKms(t)
    await rejectsWith(client(REGION, { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'wrong-secret-wrong-secret' }).send(new GenerateMacCommand({ KeyId: 'alias/x', Message: SECRET_MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'InvalidSignatureException')
    await fetch(`${server.url}/nowhere`, { method: 'POST', body: '{}' })
    await server.kms.audit.flush()
    const events = (await server.kms.store.queryAudit({ limit: 10 })).map((r) => JSON.parse(cloudTrailText(r)) as Event)
    assert.equal(events.length, 2)
    assert.equal(events[0]?.eventName, 'GenerateMac')
    assert.equal(events[0]?.errorCode, 'InvalidSignatureException')
    assert.deepEqual(events[0]?.userIdentity, { type: 'Unknown', accessKeyId: ROOT.accessKeyId })
    assert.equal(events[1]?.errorCode, 'UnknownOperationException')
  })

  it('detects an edited or a removed record with audit verify, and keeps records across a restart', { skip: process.env['MACAW_TEST_STORE'] === 'postgres' ? 'edits the SQLite file directly' : false }, async (t) => {
    const first = await startKms(t, { keepDataDir: true })
    const key = await hmacKey(first.kms)
    for (let i = 0; i < 4; i++) await mac(first.kms, key.keyId)
    await first.server.close()
    const dataDir = first.dataDir

    const second = await startKms(t, { dataDir })
    await mac(second.kms, key.arn)
    await second.server.close()
    assert.match(await hostedMacaw(dataDir, ['audit', 'verify']), /audit chain ok: 6 records verified from the start \(keyed under the root of trust\)/)
    const query = await hostedMacaw(dataDir, ['audit', 'query', '--event-name', 'GenerateMac', '--key', key.arn])
    assert.equal(query.trim().split('\n').length, 5)

    const db = new Database(join(dataDir, 'macaw.db'))
    t.after(() => db.close())
    const edit = (from: string, to: string): void => void db.prepare('UPDATE audit SET event = replace(event, ?, ?) WHERE seq = 3').run(from, to)
    edit('"macAlgorithm":"HMAC_SHA_256"', '"macAlgorithm":"HMAC_SHA_512"')
    await assert.rejects(hostedMacaw(dataDir, ['audit', 'verify']), (err: Error & { stderr: string; code: number }) => {
      assert.equal(err.code, 1)
      // Keyed if record 3 was the last of its batch, linked if a record after it sealed the batch.
      assert.match(err.stderr, /audit chain broken at record 3 \(eventID [0-9a-f-]+\): its contents do not match its (keyed|linked) hash/)
      return true
    })
    const original = db.prepare<[], { event: string }>('SELECT event FROM audit WHERE seq = 3').get()
    edit('"macAlgorithm":"HMAC_SHA_512"', '"macAlgorithm":"HMAC_SHA_256"')
    assert.ok(original)
    assert.match(await hostedMacaw(dataDir, ['audit', 'verify']), /ok/)
    db.prepare('UPDATE audit SET principal = ? WHERE seq = 2').run('arn:aws:iam::999999999999:root')
    // The keyed hash covers the indexed columns too (the stored event is the compact form).
    await assert.rejects(hostedMacaw(dataDir, ['audit', 'verify']), /record 2 .*(keyed|linked) hash \(edited\)/)
    db.prepare('UPDATE audit SET principal = ? WHERE seq = 2').run(`arn:aws:iam::${ACCOUNT}:root`)
    // Someone with write access to the database but not the root of trust rewrites a record's
    // principal and recomputes the chain from there on: as plain SHA-256 (the old chain), or keyed
    // under a key of their own. Both fail.
    type Row = { seq: number; event: string; prev_hash: string; hash: string }
    const rows = db.prepare<[], Row>('SELECT seq, event, prev_hash, hash FROM audit ORDER BY seq').all()
    const forge = (hashOf: (prev: string, seq: number, event: string) => string): void => {
      let prev = rows[0]?.prev_hash ?? ''
      for (const row of rows) {
        const event = row.seq === 2 ? row.event.replaceAll(`arn:aws:iam::${ACCOUNT}:root`, 'arn:aws:iam::999999999999:root') : row.event
        const hash = hashOf(prev, row.seq, event)
        db.prepare('UPDATE audit SET event = ?, prev_hash = ?, hash = ?, principal = CASE WHEN seq = 2 THEN ? ELSE principal END WHERE seq = ?').run(event, prev, hash, 'arn:aws:iam::999999999999:root', row.seq)
        prev = hash
      }
    }
    const restore = (): void => {
      for (const row of rows) db.prepare('UPDATE audit SET event = ?, prev_hash = ?, hash = ?, principal = ? WHERE seq = ?').run(row.event, row.prev_hash, row.hash, row.seq === 2 ? `arn:aws:iam::${ACCOUNT}:root` : db.prepare<[number], { principal: string }>('SELECT principal FROM audit WHERE seq = ?').get(row.seq)?.principal ?? '', row.seq)
    }
    forge((prev, seq, event) => createHash('sha256').update(`macaw-audit-v1\n${prev}\n${seq}\n${event}`).digest('hex'))
    await assert.rejects(hostedMacaw(dataDir, ['audit', 'verify']), /audit chain broken at record \d+ .*(unkeyed record after keyed|predate)|audit chain broken/)
    const attackerKey = Buffer.alloc(32, 7)
    forge((prev, seq, event) => 'k1:' + createHmac('sha256', attackerKey).update(`macaw-audit-v2\n${prev}\n${seq}\n${event}`).digest('hex'))
    await assert.rejects(hostedMacaw(dataDir, ['audit', 'verify']), /audit chain broken at record 1 .*keyed hash \(edited\)/)
    // The form macaw writes now, under the attacker's key, over the forged rows and their columns.
    const attackerChain = keyedChain(attackerKey)
    forge((prev, seq, event) => {
      const stored = db.prepare<[number], AuditDbRow>('SELECT * FROM audit WHERE seq = ?').get(seq)
      assert.ok(stored)
      return attackerChain(prev, seq, { ...toAudit(stored), principal: seq === 2 ? 'arn:aws:iam::999999999999:root' : stored.principal, event })
    })
    await assert.rejects(hostedMacaw(dataDir, ['audit', 'verify']), /audit chain broken at record 1 .*keyed hash \(edited\)/)
    // Every record as a link (a plain SHA-256 that needs no key): each checks against the one
    // before it, but nothing seals them.
    forge((prev, seq, event) => {
      const stored = db.prepare<[number], AuditDbRow>('SELECT * FROM audit WHERE seq = ?').get(seq)
      assert.ok(stored)
      return attackerChain(prev, seq, { ...toAudit(stored), principal: seq === 2 ? 'arn:aws:iam::999999999999:root' : stored.principal, event }, false)
    })
    await assert.rejects(hostedMacaw(dataDir, ['audit', 'verify']), /audit chain broken at record 1: records 1 to 6 are not sealed by a keyed record/)
    restore()
    assert.match(await hostedMacaw(dataDir, ['audit', 'verify']), /audit chain ok/)
    db.prepare('DELETE FROM audit WHERE seq = 4').run()
    await assert.rejects(hostedMacaw(dataDir, ['audit', 'verify']), /audit chain broken at record 4: record 4 is missing/)
  })

  it('verifies the chain while it runs, reports it in /metrics, and raises a break that stays', { skip: process.env['MACAW_TEST_STORE'] === 'postgres' ? 'edits the SQLite file directly' : false }, async (t) => {
    const { server, kms, dataDir } = await startKms(t)
    const key = await hmacKey(kms)
    for (let i = 0; i < 3; i++) await mac(kms, key.keyId)
    await server.kms.audit.flush()
    const gauges = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text()
      const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1])
      return { verified: value('macaw_audit_chain_verified_records'), broken: value('macaw_audit_chain_broken'), at: value('macaw_audit_chain_checked_timestamp_seconds') }
    }
    await server.kms.chainVerifier.verifyNow()
    const stored = (await server.kms.store.queryAudit({ limit: 100 })).length
    assert.equal(server.kms.chainVerifier.report.verified, stored)
    const ok = await gauges()
    assert.equal(ok.broken, 0)
    assert.ok(ok.verified >= 4, `${ok.verified} records verified`)
    assert.ok(Math.abs(ok.at * 1000 - Date.now()) < 60_000)

    // An old record edited under the running server: the next cycle finds it, and it stays found.
    const db = new Database(join(dataDir, 'macaw.db'))
    t.after(() => db.close())
    db.prepare("UPDATE audit SET event = replace(event, 'aws-sdk-js', 'aws-sdk-jz') WHERE seq = 1").run()
    await server.kms.chainVerifier.verifyNow()
    assert.equal(server.kms.chainVerifier.report.problem?.seq, 1)
    assert.equal((await gauges()).broken, 1)
    db.prepare("UPDATE audit SET event = replace(event, 'aws-sdk-jz', 'aws-sdk-js') WHERE seq = 1").run()
    await server.kms.chainVerifier.verifyNow()
    assert.equal((await gauges()).broken, 1, 'an integrity alarm does not clear itself')
  })

  it('writes nothing when turned off', async (t) => {
    const { server, kms } = await startKms(t, { settings: { audit: 'off' } })
    await hmacKey(kms)
    await server.kms.audit.flush()
    assert.deepEqual(await server.kms.store.queryAudit({ limit: 10 }), [])
  })
})
