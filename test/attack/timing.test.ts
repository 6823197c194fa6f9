// Constant-time comparisons: the code compares MACs and signatures with crypto.timingSafeEqual
// (read from the source), and the MAC comparison takes as long for a difference in the first byte
// as in the last, measured where such a difference would show (in-process, beside an early-exit
// comparison as the control). Tolerant on purpose: it fails only on a gross difference.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { macsEqual } from '../../src/crypto/hmac.js'
import { repoPath } from '../helpers/repo.js'

const source = (path: string): string => readFileSync(repoPath(path), 'utf8')

/** The body of a function or method, from its signature to the matching closing brace. */
function bodyOf(text: string, signature: RegExp): string {
  const m = signature.exec(text)
  assert.ok(m, `no ${signature.source}`)
  const open = text.indexOf('{', m.index + m[0].length - 1)
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++
    else if (text[i] === '}' && --depth === 0) return text.slice(open, i + 1)
  }
  throw new Error('unbalanced braces')
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

describe('constant-time comparison', () => {
  it('compares MACs with crypto.timingSafeEqual in src/crypto/hmac.ts macsEqual, and VerifyMac uses macsEqual', () => {
    const hmac = source('src/crypto/hmac.ts')
    assert.match(hmac, /import \{[^}]*\btimingSafeEqual\b[^}]*\} from 'node:crypto'/)
    const body = bodyOf(hmac, /export function macsEqual\(/)
    assert.match(body, /timingSafeEqual\(/)
    assert.doesNotMatch(body, /\.equals\(|expected\s*===\s*given\b(?!\.)|\bcompare\(/)
    const verify = source('src/operations/verify-mac.ts')
    assert.match(verify, /macsEqual\(/)
    assert.doesNotMatch(verify, /\.equals\(|Buffer\.compare/)
  })

  it('compares SigV4 signatures with crypto.timingSafeEqual, not string or Buffer equality', () => {
    const sigv4 = source('src/auth/sigv4.ts')
    assert.match(sigv4, /import \{[^}]*\btimingSafeEqual\b[^}]*\} from 'node:crypto'/)
    const verify = bodyOf(sigv4, /async verify<P extends Secret>\(/)
    assert.match(verify, /timingSafeEqual\(given, expected\)|timingSafeEqual\(expected, given\)/)
    assert.doesNotMatch(verify, /signature\s*===|===\s*auth\.signature|expected\.equals\(|\.toString\('hex'\)\s*===/)
  })

  // Timed where the difference would be: a wrong first byte against a wrong last byte differs by
  // nanoseconds in a comparison, which an HTTP round trip (hundreds of microseconds) would hide. So
  // macsEqual itself is timed, on buffers long enough that an early exit would show, beside a
  // comparison that does exit early (the control: it shows the measurement can see one).
  it('takes as long for a difference in the first byte as in the last, where an early exit would not', (t) => {
    const size = 64 * 1024
    const expected = Buffer.alloc(size, 0x5a)
    const wrongFirst = Buffer.from(expected)
    wrongFirst[0] = 0x00
    const wrongLast = Buffer.from(expected)
    wrongLast[size - 1] = 0x00
    const earlyExit = (a: Buffer, b: Buffer): boolean => {
      if (a.length !== b.length) return false
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
      return true
    }
    const time = (compare: (a: Buffer, b: Buffer) => boolean, given: Buffer): number => {
      const started = process.hrtime.bigint()
      for (let i = 0; i < 20; i++) assert.equal(compare(expected, given), false)
      return Number(process.hrtime.bigint() - started)
    }
    /** |median(first) - median(last)| / median(last), over rounds in random order after a warm-up. */
    const spread = (compare: (a: Buffer, b: Buffer) => boolean): number => {
      const first: number[] = []
      const last: number[] = []
      for (let round = 0; round < 240; round++) {
        const firstGoesFirst = Math.random() < 0.5
        const a = time(compare, firstGoesFirst ? wrongFirst : wrongLast)
        const b = time(compare, firstGoesFirst ? wrongLast : wrongFirst)
        if (round < 40) continue
        first.push(firstGoesFirst ? a : b)
        last.push(firstGoesFirst ? b : a)
      }
      return Math.abs(median(first) - median(last)) / median(last)
    }
    const control = spread(earlyExit)
    t.diagnostic(`early-exit comparison: first-byte and last-byte differences differ by ${(control * 100).toFixed(0)}%`)
    assert.ok(control > 0.9, `the measurement cannot see an early exit (${(control * 100).toFixed(0)}%)`)
    // Noise rarely shows three times in a row; a real early exit shows every time.
    let ours = Infinity
    for (let attempt = 1; attempt <= 3 && ours >= 0.3; attempt++) {
      ours = spread(macsEqual)
      t.diagnostic(`attempt ${attempt}: macsEqual first-byte vs last-byte difference ${(ours * 100).toFixed(1)}%`)
    }
    assert.ok(ours < 0.3, `macsEqual takes ${(ours * 100).toFixed(1)}% longer or shorter for a difference in the first byte`)
  })
})
