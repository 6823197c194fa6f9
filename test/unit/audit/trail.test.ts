// The audit trail's bounds: every record under MAX_AUDIT_RECORD_BYTES whatever the request
// carried, unauthenticated floods summarised per source, a bounded backlog, and failing closed
// while records cannot be stored (then recovering by itself).
import { keyedChain } from '../../../src/audit/chain.js'
import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { generateMac } from '../../../src/operations/generate-mac.js'
import { auditEventText, cloudTrailText, MAX_AUDIT_RECORD_BYTES, requestParameters, responseElements, type AuditInput } from '../../../src/audit/event.js'
import { AuditTrail, HIGH_WATER, MAX_BACKLOG, UNAUTHENTICATED_PER_SOURCE, type AuditOptions } from '../../../src/audit/trail.js'
import type { AuditSink } from '../../../src/audit/sqlite-sink.js'
import { auditInput } from './input.js'
import { createLogger } from '../../../src/log.js'
import type { NewAuditRow, Store } from '../../../src/store/store.js'

const logger = createLogger('silent')

function input(over: Partial<AuditInput> = {}): AuditInput {
  return auditInput({ time: Date.now(), eventId: AuditTrail.eventId(), ...over })
}

/** A sink that stores rows in memory, or fails while `failing` is set. */
class MemorySink implements AuditSink {
  rows: NewAuditRow[] = []
  failing = false
  appendAudit(rows: readonly NewAuditRow[]): Promise<void> {
    if (this.failing) return Promise.reject(new Error('SQLITE_FULL: database or disk is full'))
    this.rows.push(...rows)
    return Promise.resolve()
  }
}

function trail(sink: AuditSink, over: Partial<AuditOptions> = {}): AuditTrail {
  const options: AuditOptions = { enabled: true, flushIntervalMs: 5, retentionDays: 0, onFailure: 'refuse', summaryIntervalMs: 60_000, ...over }
  return new AuditTrail({} as Store, options, logger, keyedChain(Buffer.alloc(32)), sink)
}

describe('audit record size', () => {
  it('stays under the bound with the largest values a request can carry', () => {
    const huge = 'x'.repeat(300_000)
    const body: Record<string, unknown> = {
      KeyId: huge,
      Description: huge,
      Tags: Array.from({ length: 1000 }, () => ({ TagKey: huge, TagValue: huge })),
      Operations: Array.from({ length: 1000 }, () => huge),
      GranteePrincipal: huge,
      AliasName: huge,
    }
    const params = requestParameters(body)
    assert.equal(params?.['macawTruncated'], true)
    const text = auditEventText(
      input({
        userAgent: huge,
        requestParameters: params,
        responseElements: responseElements('CreateKey', { KeyMetadata: { Description: huge, Other: huge, More: [huge, huge] } }),
        errorCode: 'ValidationException',
        errorMessage: huge,
        keyArn: `arn:aws:kms:us-east-1:111122223333:key/${'k'.repeat(128)}`,
      }),
    )
    const size = Buffer.byteLength(text)
    assert.ok(size <= MAX_AUDIT_RECORD_BYTES, `${size} bytes`)
    const event = JSON.parse(text) as Record<string, unknown>
    assert.match(String(event['userAgent']), /\.\.\.\[truncated\]$/)
  })

  it('records the safe members of the operation’s own request, not those it ignores', () => {
    assert.deepEqual(generateMac.auditedMembers, ['KeyId', 'MacAlgorithm', 'DryRun'])
    const body = { KeyId: 'alias/x', MacAlgorithm: 'HMAC_SHA_256', Message: 'secret', GrantTokens: ['t'], Description: 'ignored', DryRun: false }
    assert.deepEqual(requestParameters(body, generateMac.auditedMembers), { keyId: 'alias/x', macAlgorithm: 'HMAC_SHA_256', dryRun: false })
    // An operation that is not known: every safe member.
    assert.deepEqual(requestParameters(body), { keyId: 'alias/x', macAlgorithm: 'HMAC_SHA_256', description: 'ignored', dryRun: false })
  })

  it('keeps small request parameters whole and unmarked', () => {
    assert.deepEqual(requestParameters({ KeyId: 'alias/x', MacAlgorithm: 'HMAC_SHA_256', Message: 'secret' }), {
      keyId: 'alias/x',
      macAlgorithm: 'HMAC_SHA_256',
    })
  })
})

describe('audit trail bounds', () => {
  it('records the first unauthenticated requests of a source and summarises the rest', async () => {
    const sink = new MemorySink()
    const t = trail(sink)
    const anonymous = { identity: { type: 'Unknown' as const }, errorCode: 'IncompleteSignatureException' }
    for (let i = 0; i < 1000; i++) t.record(input(anonymous))
    for (let i = 0; i < 5; i++) t.record(input({ ...anonymous, sourceIp: '127.0.0.2' }))
    t.record(input())
    await t.close()
    const events = sink.rows.map((r) => JSON.parse(cloudTrailText(r)) as Record<string, unknown>)
    const single = events.filter((e) => e['eventType'] === 'AwsApiCall')
    assert.equal(single.length, UNAUTHENTICATED_PER_SOURCE + 5 + 1)
    const summaries = events.filter((e) => e['eventType'] === 'MacawSummary')
    assert.equal(summaries.length, 1)
    assert.equal((summaries[0]?.['additionalEventData'] as { summarisedRequests: number }).summarisedRequests, 1000 - UNAUTHENTICATED_PER_SOURCE)
    assert.equal(summaries[0]?.['sourceIPAddress'], '127.0.0.1')
    assert.equal(t.summarised, 1000 - UNAUTHENTICATED_PER_SOURCE)
  })

  it('refuses requests while records cannot be stored, and recovers once they can', async () => {
    const sink = new MemorySink()
    const t = trail(sink)
    sink.failing = true
    t.record(input())
    await t.flush()
    assert.equal(t.healthy, false)
    assert.equal(t.admit(), false)
    assert.equal(t.refused, 1)
    sink.failing = false
    await t.flush()
    assert.equal(t.healthy, true)
    assert.equal(t.admit(), true)
    assert.equal(sink.rows.length, 1, 'the record kept through the failure is stored')
    await t.close()
  })

  it('keeps at most MAX_BACKLOG records, and says so', async () => {
    const sink = new MemorySink()
    const t = trail(sink, { onFailure: 'continue', flushIntervalMs: 60_000 })
    for (let i = 0; i < MAX_BACKLOG + 10; i++) t.record(input())
    assert.equal(t.backlog, MAX_BACKLOG)
    assert.equal(t.healthy, false)
    assert.equal(t.admit(), true, 'continue answers anyway')
    assert.equal(t.dropped, 10)
    await t.close()
    assert.equal(sink.rows.length, MAX_BACKLOG)
  })

  it('makes requests wait while the writer is behind, until the backlog falls below HIGH_WATER', async () => {
    const sink = new MemorySink()
    const t = trail(sink, { flushIntervalMs: 60_000 })
    for (let i = 0; i < HIGH_WATER - 1; i++) t.record(input())
    assert.equal(t.room(), undefined, 'room below HIGH_WATER')
    t.record(input())
    const wait = t.room()
    assert.ok(wait !== undefined, 'a request waits at HIGH_WATER')
    let released = false
    void wait.then(() => (released = true))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(released, false)
    await t.flush()
    await wait
    assert.equal(t.room(), undefined)
    assert.equal(sink.rows.length, HIGH_WATER)
    // Failing writes: no waiting, admit() refuses at once.
    sink.failing = true
    for (let i = 0; i < HIGH_WATER; i++) t.record(input())
    await t.flush()
    assert.equal(t.room(), undefined)
    assert.equal(t.admit(), false)
    sink.failing = false
    await t.close()
  })
})

/** A sink whose writes end when the test says so; it notes each batch's size and start time. */
class GatedSink implements AuditSink {
  batches: { size: number; at: number }[] = []
  private open: (() => void)[] = []
  appendAudit(rows: readonly NewAuditRow[]): Promise<void> {
    this.batches.push({ size: rows.length, at: Date.now() })
    return new Promise((resolve) => this.open.push(resolve))
  }
  finish(): void {
    for (const resolve of this.open.splice(0)) resolve()
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('audit batching', () => {
  it('holds records that arrive during a write until the oldest has waited the flush interval', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
    try {
      const sink = new GatedSink()
      const t = trail(sink, { flushIntervalMs: 100 })
      t.record(input())
      mock.timers.tick(100)
      assert.deepEqual(sink.batches, [{ size: 1, at: 1_000_100 }])
      // Two records arrive while that batch is being written.
      mock.timers.tick(10)
      t.record(input())
      t.record(input())
      mock.timers.tick(20)
      sink.finish()
      await settle()
      assert.equal(sink.batches.length, 1, 'not written as soon as the write before them ends')
      mock.timers.tick(79)
      await settle()
      assert.equal(sink.batches.length, 1)
      mock.timers.tick(1)
      assert.deepEqual(sink.batches[1], { size: 2, at: 1_000_210 }, 'written once the first of them is 100 ms old')
      // A write that takes longer than the interval: what arrived meanwhile is due, and goes at once.
      t.record(input())
      mock.timers.tick(150)
      sink.finish()
      await settle()
      assert.deepEqual(sink.batches[2], { size: 1, at: 1_000_360 })
      sink.finish()
      await settle()
      // close() writes everything, due or not.
      t.record(input())
      const closed = t.close()
      await settle()
      assert.equal(sink.batches.length, 4)
      sink.finish()
      await closed
      assert.equal(t.backlog, 0)
    } finally {
      mock.timers.reset()
    }
  })
})
