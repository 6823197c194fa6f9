// IAM wildcard matching: the semantics (`*` any run, `?` one character, the rest literal) checked
// against a reference matcher, and the cost bound (word steps <= value length x ceil(positions / 32))
// proven by counting steps on the adversarial patterns that froze the old RegExp matcher.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { compileGlob, compileGlobs, globSteps } from '../../../src/auth/glob.js'
import { compilePolicy, allowMatch } from '../../../src/auth/policy.js'

/** Reference: the textbook dynamic programme over (pattern prefix, value prefix). */
function reference(pattern: string, value: string): boolean {
  let row = new Array<boolean>(value.length + 1).fill(false)
  row[0] = true
  for (const ch of pattern) {
    const nextRow = new Array<boolean>(value.length + 1).fill(false)
    if (ch === '*') {
      let any = false
      for (let j = 0; j <= value.length; j++) {
        any ||= row[j] === true
        nextRow[j] = any
      }
    } else {
      for (let j = 1; j <= value.length; j++) nextRow[j] = row[j - 1] === true && (ch === '?' || value[j - 1] === ch)
    }
    row = nextRow
  }
  return row[value.length] === true
}

/** Steps one call takes. */
function cost(f: () => unknown): number {
  const before = globSteps()
  f()
  return globSteps() - before
}

describe('wildcard matching', () => {
  const cases: [string, string, boolean][] = [
    ['arn:aws:kms:*', 'arn:aws:kms:us-east-1:111122223333:key/k', true],
    ['arn:aws:kms:*:key/*', 'arn:aws:kms:us-east-1:111122223333:key/k', true],
    ['arn:aws:kms:*:alias/*', 'arn:aws:kms:us-east-1:111122223333:key/k', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*c', 'ac', true],
    ['a**c', 'axxc', true],
    ['*', '', true],
    ['', '', true],
    ['?', '', false],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['user/app-*-svc', 'user/app-a-b-svc', true],
    ['user/app-*-svc', 'user/app-svc', false],
    ['*?', '', false],
    ['*?', 'x', true],
  ]
  for (const [pattern, value, expected] of cases) {
    it(`'${pattern}' ${expected ? 'matches' : 'does not match'} '${value}'`, () => {
      assert.equal(compileGlob(pattern)(value), expected)
      assert.equal(reference(pattern, value), expected)
    })
  }

  it('agrees with the reference on random patterns and values over a small alphabet', () => {
    const pattern = fc.stringMatching(/^[ab*?]{0,12}$/)
    const value = fc.stringMatching(/^[ab]{0,12}$/)
    fc.assert(
      fc.property(pattern, value, (p, v) => compileGlob(p)(v) === reference(p, v)),
      { numRuns: 3000 },
    )
  })

  it('agrees with the reference for lists of patterns longer than one machine word', () => {
    const patterns = fc.array(fc.stringMatching(/^[ab*?]{0,40}$/), { minLength: 1, maxLength: 6 })
    const value = fc.stringMatching(/^[ab]{0,50}$/)
    fc.assert(
      fc.property(patterns, value, (ps, v) => compileGlobs(ps)(v) === ps.some((p) => reference(p, v))),
      { numRuns: 1500 },
    )
  })

  it('compares case-insensitively when asked (IAM actions)', () => {
    assert.equal(compileGlobs(['kms:Generate*'], { ignoreCase: true })('KMS:GENERATEMAC'), true)
    assert.equal(compileGlobs(['kms:Generate*'])('KMS:GENERATEMAC'), false)
  })
})

describe('wildcard matching cost', () => {
  it('takes at most value length x words steps on the pattern that froze the RegExp matcher', () => {
    const pattern = 'arn:*?*?*?*?*?*?*?!'
    const value = `arn:${'a'.repeat(2048)}`
    const match = compileGlob(pattern)
    const steps = cost(() => assert.equal(match(value), false))
    const positions = pattern.length + 1
    assert.ok(steps <= value.length * Math.ceil(positions / 32), `${steps} steps`)
  })

  it('stays linear for 64 alternating wildcards against a long value', () => {
    const pattern = `arn:${'*?'.repeat(64)}!`
    const value = `arn:${'a'.repeat(1000)}`
    const steps = cost(() => assert.equal(compileGlob(pattern)(value), false))
    assert.ok(steps <= value.length * Math.ceil((pattern.length + 1) / 32), `${steps} steps`)
  })

  it('stays linear for the honest pattern that took 5 s against a 235-character value', () => {
    const pattern = 'arn:aws:iam::111122223333:user/app-*-*-*-*-*-svc'
    const value = `arn:aws:iam::111122223333:user/app-${'-'.repeat(200)}x`
    const steps = cost(() => assert.equal(compileGlob(pattern)(value), false))
    assert.ok(steps <= value.length * 2, `${steps} steps`)
  })

  it('skips a pattern that needs more characters than the value has', () => {
    const pattern = `arn:${'?*'.repeat(16_000)}`
    assert.equal(cost(() => compileGlob(pattern)('arn:aws:kms:us-east-1:111122223333:key/k')), 0)
  })

  it('evaluates a 32 KB adversarial key policy in a bounded number of steps', () => {
    // As many wildcard resources as fit in 32 KB, each as expensive as possible for a key ARN.
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const resource = `arn:${'*?'.repeat(30)}!`
    const resources: string[] = []
    let size = 200
    while (size + resource.length + 3 < 32 * 1024) {
      resources.push(resource)
      size += resource.length + 3
    }
    const text = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: resources }],
    })
    assert.ok(text.length <= 32 * 1024)
    const policy = compilePolicy(text, 'key')
    const subject = { accountId: '111122223333', arn: 'arn:aws:iam::111122223333:root', isRoot: true }
    const steps = cost(() => assert.equal(allowMatch(policy, subject, 'kms:GenerateMac', arn, () => undefined), undefined))
    const positions = resources.length * (resource.length + 1)
    // The resource list, plus one word per character of the action for `kms:*`.
    const bound = arn.length * Math.ceil(positions / 32) + 'kms:GenerateMac'.length
    assert.ok(steps <= bound, `${steps} steps for ${positions} positions`)
    // The same bound in absolute terms: about 80 characters x 1,000 words.
    assert.ok(steps < 100_000, `${steps} steps`)
  })
})
