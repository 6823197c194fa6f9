import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KEY_STATES } from '../../../src/domain.js'
import { ALL_STATES, stateError, transition, TRANSITIONS, withoutMaterial } from '../../../src/keys/lifecycle.js'

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/k'

describe('keys/lifecycle', () => {
  it('knows every key state', () => {
    assert.deepEqual([...ALL_STATES].sort(), [...KEY_STATES].sort())
  })

  it('gives AWS messages for each refused state', () => {
    const expected: Record<string, [string, string]> = {
      Disabled: ['DisabledException', `${ARN} is disabled.`],
      PendingDeletion: ['KMSInvalidStateException', `${ARN} is pending deletion.`],
      PendingReplicaDeletion: ['KMSInvalidStateException', `${ARN} is pending deletion.`],
      PendingImport: ['KMSInvalidStateException', `${ARN} is pending import.`],
      Creating: ['KMSInvalidStateException', `${ARN} is creating.`],
      Updating: ['KMSInvalidStateException', `${ARN} is updating.`],
    }
    for (const [state, [name, message]] of Object.entries(expected)) {
      const err = stateError(ARN, state as (typeof KEY_STATES)[number])
      assert.equal(err.name, name)
      assert.equal(err.message, message)
    }
  })

  it('applies every transition from each allowed state and refuses the others', () => {
    for (const [name, t] of Object.entries(TRANSITIONS) as [keyof typeof TRANSITIONS, (typeof TRANSITIONS)[keyof typeof TRANSITIONS]][]) {
      for (const state of ALL_STATES) {
        if ((t.from as readonly string[]).includes(state)) assert.equal(transition(name, ARN, state), t.to)
        else assert.throws(() => transition(name, ARN, state), /KMSInvalidStateException|DisabledException/)
      }
    }
    assert.throws(() => transition('CancelKeyDeletion', ARN, 'Enabled'), { message: `${ARN} is not pending deletion.` })
  })

  it('keeps a key being deleted in its state when it loses its material, and makes any other PendingImport', () => {
    const record = { accountId: 'a', region: 'r', keyId: 'k', keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC', origin: 'EXTERNAL', description: '', creationDate: 0, multiRegion: true, policy: '{}', tags: [], material: Buffer.alloc(40), validTo: 1, expirationModel: 'KEY_MATERIAL_EXPIRES', version: 1 } as const
    for (const state of ALL_STATES) {
      const out = withoutMaterial({ ...record, state })
      assert.equal(out.state, state === 'PendingDeletion' || state === 'PendingReplicaDeletion' ? state : 'PendingImport', state)
      assert.equal(out.material, undefined)
      assert.equal(out.validTo, undefined)
    }
  })
})
