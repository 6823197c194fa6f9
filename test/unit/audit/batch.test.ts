import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { packRows, packUses, unpackRows, unpackUses } from '../../../src/audit/batch.js'
import type { NewAuditRow } from '../../../src/store/store.js'

describe('audit batches to the writer thread', () => {
  it('come back from the flat form as the rows that went in, with or without a key ARN', () => {
    const rows: NewAuditRow[] = [
      { time: 1, eventId: 'e1', eventName: 'GenerateMac', accountId: '111122223333', keyArn: 'arn:aws:kms:us-east-1:111122223333:key/k', principal: 'arn:aws:iam::111122223333:root', outcome: 'success', event: '{"a":"\\u0000é"}' },
      { time: 2, eventId: 'e2', eventName: 'ListKeys', accountId: '', principal: '', outcome: 'failure', event: '{}' },
    ]
    const flat = packRows(rows)
    assert.ok(flat.every((v) => v === null || typeof v !== 'object'), 'primitives only')
    assert.deepEqual(unpackRows(structuredClone(flat)), rows)
    assert.deepEqual(unpackRows(packRows([])), [])
  })

  it('carry GetKeyLastUsage’s noted uses the same way, with or without an event id', () => {
    const uses = new Map([
      ['arn:aws:kms:us-east-1:111122223333:key/k', { operation: 'GenerateMac', time: 1_800_000_000_000, eventId: 'e1', requestId: 'r1' }],
      ['arn:aws:kms:eu-west-1:111122223333:key/l', { operation: 'VerifyMac', time: 0, requestId: 'r2' }],
    ])
    const flat = packUses(uses)
    assert.ok(flat.every((v) => v === null || typeof v !== 'object'), 'primitives only')
    assert.deepEqual(new Map(unpackUses(structuredClone(flat))), uses)
    // As stored: the JSON text of each use is the one its note gives.
    assert.deepEqual(
      unpackUses(flat).map(([, use]) => JSON.stringify(use)),
      [...uses.values()].map((use) => JSON.stringify(use)),
    )
    assert.deepEqual(unpackUses(packUses(new Map())), [])
  })
})
