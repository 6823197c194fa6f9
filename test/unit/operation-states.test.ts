// Each operation's declared key states (defineOperation's usableIn, and the state transitions of
// keys/lifecycle.ts) against AWS's key state table as restated in test/fixtures/key-states.json.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { TRANSITIONS } from '../../src/keys/lifecycle.js'
import { OPERATIONS } from '../../src/operations/index.js'
import { repoPath } from '../helpers/repo.js'

interface Fixture {
  operations: Record<string, string[]>
  transitions: Record<string, { from: string[]; to: string }>
}
const AWS = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'key-states.json'), 'utf8')) as Fixture

describe('key states by operation', () => {
  for (const [name, states] of Object.entries(AWS.operations)) {
    it(`${name} proceeds in ${states.join(', ')}`, () => {
      const op = OPERATIONS[name]
      assert.ok(op, `${name} is an operation`)
      assert.deepEqual([...(op.usableIn ?? [])].sort(), [...states].sort())
    })
  }

  for (const [name, t] of Object.entries(AWS.transitions)) {
    it(`${name} moves a key from ${t.from.join(', ')} to ${t.to}`, () => {
      const ours = TRANSITIONS[name as keyof typeof TRANSITIONS]
      assert.ok(ours, `${name} has a transition`)
      assert.deepEqual([...ours.from].sort(), [...t.from].sort())
      assert.equal(ours.to, t.to)
    })
  }
})
