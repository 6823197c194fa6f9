import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KEY_STATES } from '../../../src/domain.js'
import { ALL_STATES, stateError, transition, TRANSITIONS } from '../../../src/keys/lifecycle.js'

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
})
