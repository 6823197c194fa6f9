// LookupEvents' paging over a trail of many accounts: each call reads at most SCAN_ROWS records,
// pages stay in time order across calls, and a token works only for the parameters and account it
// was issued for. Against the store's contract through an in-memory scan with the same ordering.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { lookupEvents, parseLookup, SCAN_ROWS, type LookupResult } from '../../../src/cloudtrail/lookup-events.js'
import type { AuditRow, AuditScan } from '../../../src/store/store.js'

const MINE = '111122223333'
const THEIRS = '444455556666'

function row(seq: number, time: number, accountId: string, eventName = 'GenerateMac', keyAccount = accountId): AuditRow {
  const keyArn = `arn:aws:kms:us-east-1:${keyAccount}:key/k`
  const event = { eventID: `e${seq}`, eventSource: 'kms.amazonaws.com', readOnly: true, userIdentity: { type: 'Root', accountId, accessKeyId: `AKIA${accountId}` }, resources: [{ type: 'AWS::KMS::Key', ARN: keyArn }] }
  return { seq, time, eventId: `e${seq}`, eventName, accountId, keyArn, principal: `arn:aws:iam::${accountId}:root`, outcome: 'success', event: JSON.stringify(event), prevHash: '', hash: '' }
}

/** The store's scan, in memory, counting the records each call reads. */
function memoryStore(rows: AuditRow[]): { scanAudit(scan: AuditScan): Promise<AuditRow[]>; reads: number[] } {
  const sorted = [...rows].sort((a, b) => b.time - a.time || b.seq - a.seq)
  const reads: number[] = []
  return {
    reads,
    scanAudit: (scan) => {
      const out = sorted
        .filter((r) => (scan.before === undefined || r.time < scan.before.time || (r.time === scan.before.time && r.seq < scan.before.seq)) && (scan.from === undefined || r.time >= scan.from) && (scan.to === undefined || r.time <= scan.to))
        .slice(0, scan.limit)
      reads.push(out.length)
      return Promise.resolve(out)
    },
  }
}

async function pages(store: ReturnType<typeof memoryStore>, accountId: string, body: Record<string, unknown>): Promise<{ ids: string[]; calls: number; results: LookupResult[] }> {
  const ids: string[] = []
  const results: LookupResult[] = []
  let token: string | undefined
  let calls = 0
  do {
    const out = await lookupEvents(store, accountId, parseLookup({ ...body, ...(token === undefined ? {} : { NextToken: token }) }))
    results.push(out)
    ids.push(...out.Events.map((e) => e.EventId))
    token = out.NextToken
    calls++
  } while (token !== undefined && calls < 1000)
  return { ids, calls, results }
}

describe('LookupEvents paging', () => {
  it('reads at most SCAN_ROWS records a call, even when the account has almost nothing among them', async () => {
    // 3 records of ours under 2,000 of another account's.
    const rows = [row(1, 1000, MINE), row(2, 1001, MINE), row(3, 1002, MINE, 'DisableKey')]
    for (let i = 0; i < 2000; i++) rows.push(row(4 + i, 2000 + i, THEIRS))
    const store = memoryStore(rows)
    const { ids, calls, results } = await pages(store, MINE, { MaxResults: 50 })
    assert.deepEqual(ids, ['e3', 'e2', 'e1'])
    assert.ok(store.reads.every((n) => n <= SCAN_ROWS), `reads per call: ${store.reads.join(', ')}`)
    assert.equal(calls, Math.ceil(2003 / SCAN_ROWS))
    assert.ok(results.slice(0, -1).every((r) => r.Events.length === 0 && r.NextToken !== undefined), 'empty pages that go on, as CloudTrail sends them')
  })

  it('keeps time order across pages when seq and time disagree, and skips nothing at page edges', async () => {
    // Two writers: seq order interleaves times; equal times occur.
    const rows: AuditRow[] = []
    for (let i = 0; i < 300; i++) rows.push(row(i + 1, 10_000 + (i % 2 === 0 ? i : 600 - i) + (i % 7 === 0 ? 0 : 0), MINE))
    rows.push(row(301, 10_000, MINE), row(302, 10_000, MINE))
    const store = memoryStore(rows)
    const { ids } = await pages(store, MINE, { MaxResults: 7 })
    const expected = [...rows].sort((a, b) => b.time - a.time || b.seq - a.seq).map((r) => r.eventId)
    assert.deepEqual(ids, expected)
  })

  it("shows records about the account's keys made by other accounts, and never the reverse", async () => {
    const rows = [row(1, 1000, THEIRS, 'GenerateMac', MINE), row(2, 1001, MINE, 'GenerateMac', THEIRS), row(3, 1002, THEIRS)]
    const store = memoryStore(rows)
    assert.deepEqual((await pages(store, MINE, {})).ids, ['e2', 'e1'])
    assert.deepEqual((await pages(store, THEIRS, {})).ids, ['e3', 'e2', 'e1'])
  })

  it('filters by each attribute, and binds a token to its parameters and account', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => row(i + 1, 1000 + i, MINE, i % 4 === 0 ? 'DisableKey' : 'GenerateMac'))
    const store = memoryStore(rows)
    const by = async (AttributeKey: string, AttributeValue: string) => (await pages(store, MINE, { LookupAttributes: [{ AttributeKey, AttributeValue }], MaxResults: 2 })).ids
    assert.deepEqual(await by('EventName', 'DisableKey'), ['e17', 'e13', 'e9', 'e5', 'e1'])
    assert.deepEqual(await by('EventId', 'e7'), ['e7'])
    assert.equal((await by('Username', 'root')).length, 20)
    assert.equal((await by('AccessKeyId', `AKIA${MINE}`)).length, 20)
    assert.equal((await by('ReadOnly', 'true')).length, 20)
    assert.equal((await by('ReadOnly', 'false')).length, 0)
    assert.equal((await by('ResourceType', 'AWS::KMS::Key')).length, 20)
    assert.equal((await by('ResourceName', `arn:aws:kms:us-east-1:${MINE}:key/k`)).length, 20)
    assert.equal((await by('EventSource', 'kms.amazonaws.com')).length, 20)
    const first = await lookupEvents(store, MINE, parseLookup({ MaxResults: 1 }))
    assert.ok(first.NextToken !== undefined)
    const again = (body: Record<string, unknown>, account = MINE) => lookupEvents(store, account, parseLookup({ ...body, NextToken: first.NextToken }))
    assert.equal((await again({ MaxResults: 5 })).Events.length, 5, 'MaxResults may change between pages')
    await assert.rejects(again({ StartTime: 1 }), { name: 'InvalidNextTokenException' })
    await assert.rejects(again({}, THEIRS), { name: 'InvalidNextTokenException' })
    const forged = Buffer.from(JSON.stringify([1, 1e300, 1, 'x'])).toString('base64url')
    await assert.rejects(lookupEvents(store, MINE, parseLookup({ NextToken: forged })), { name: 'InvalidNextTokenException' })
    await assert.rejects(lookupEvents(store, MINE, parseLookup({ NextToken: 'x'.repeat(600) })), { name: 'InvalidNextTokenException' })
  })

  it('refuses what CloudTrail refuses', () => {
    const refuses = (body: Record<string, unknown>, name: string) => assert.throws(() => parseLookup(body), { name })
    refuses({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'a' }, { AttributeKey: 'EventName', AttributeValue: 'b' }] }, 'InvalidLookupAttributesException')
    refuses({ LookupAttributes: [{ AttributeKey: 'Region', AttributeValue: 'a' }] }, 'InvalidLookupAttributesException')
    refuses({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: '' }] }, 'InvalidLookupAttributesException')
    refuses({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'x'.repeat(2001) }] }, 'InvalidLookupAttributesException')
    refuses({ LookupAttributes: 'EventName' }, 'SerializationException')
    refuses({ MaxResults: 51 }, 'InvalidMaxResultsException')
    refuses({ MaxResults: 1.5 }, 'InvalidMaxResultsException')
    refuses({ StartTime: 2, EndTime: 1 }, 'InvalidTimeRangeException')
    refuses({ StartTime: 1e300 }, 'InvalidTimeRangeException')
    refuses({ StartTime: 'yesterday' }, 'SerializationException')
    refuses({ EventCategory: 'Management' }, 'InvalidEventCategoryException')
    refuses({ NextToken: 7 }, 'SerializationException')
  })
})
