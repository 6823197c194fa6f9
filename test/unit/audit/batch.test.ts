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

  it('carry GetKeyLastUsage’s uses the same way', () => {
    const uses = [
      { arn: 'arn:aws:kms:us-east-1:111122223333:key/k', time: 1_800_000_000_000, use: '{"operation":"GenerateMac"}' },
      { arn: 'arn:aws:kms:eu-west-1:111122223333:key/l', time: 0, use: '{}' },
    ]
    const flat = packUses(uses)
    assert.ok(flat.every((v) => typeof v !== 'object'), 'primitives only')
    assert.deepEqual(unpackUses(structuredClone(flat)), uses)
    assert.deepEqual(unpackUses(packUses([])), [])
  })
})
