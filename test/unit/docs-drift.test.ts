// The docs list exactly the errors and operations the code has.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import * as errors from '../../src/protocol/errors.js'
import { OPERATIONS } from '../../src/operations/index.js'
import { repoPath } from '../helpers/repo.js'

const read = (name: string) => readFileSync(repoPath('docs', name), 'utf8')

it('docs/errors.md lists every KmsError subclass, and nothing else', () => {
  const classes = Object.entries(errors)
    .filter(([name, value]) => typeof value === 'function' && value.prototype instanceof errors.KmsError && name !== 'KmsError')
    .map(([name]) => name)
    .sort()
  const documented = [...read('errors.md').matchAll(/^\| ([A-Za-z]+) \| \d{3} \|/gm)].map((m) => m[1]).sort()
  assert.deepEqual(documented, classes)
})

it('docs/operations.md names every operation in the table', () => {
  const text = read('operations.md')
  for (const name of Object.keys(OPERATIONS)) assert.match(text, new RegExp(`\\b${name}\\b`), `${name} is not in docs/operations.md`)
})
