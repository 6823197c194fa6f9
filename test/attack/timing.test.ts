// Constant-time comparisons: the code compares MACs and signatures with crypto.timingSafeEqual
// (read from the source), and a smoke check that VerifyMac with a MAC wrong in its first byte
// takes about as long as one wrong in its last byte. The statistics are tolerant on purpose:
// they report, and fail only on a gross difference (over 30% between medians).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { signedSend } from '../helpers/raw.js'
import { startKms } from '../helpers/server.js'
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

  it('takes about as long to refuse a MAC wrong in the first byte as one wrong in the last', async (t) => {
    const { server } = await startKms(t)
    const created = await signedSend(server.url, 'TrentService.CreateKey', '{"KeySpec":"HMAC_512","KeyUsage":"GENERATE_VERIFY_MAC"}')
    const keyId = (created.json?.['KeyMetadata'] as { KeyId: string }).KeyId
    const message = Buffer.from('timing probe message').toString('base64')
    const generated = await signedSend(server.url, 'TrentService.GenerateMac', JSON.stringify({ KeyId: keyId, Message: message, MacAlgorithm: 'HMAC_SHA_512' }))
    const good = Buffer.from(String(generated.json?.['Mac']), 'base64')
    const wrongAt = (i: number): string => {
      const b = Buffer.from(good)
      b[i] = (b[i] ?? 0) ^ 0x01
      return JSON.stringify({ KeyId: keyId, Message: message, MacAlgorithm: 'HMAC_SHA_512', Mac: b.toString('base64') })
    }
    const bodies = { first: wrongAt(0), last: wrongAt(good.length - 1) }
    const time = async (which: 'first' | 'last'): Promise<number> => {
      const started = process.hrtime.bigint()
      const res = await signedSend(server.url, 'TrentService.VerifyMac', bodies[which])
      const ns = Number(process.hrtime.bigint() - started)
      assert.equal(res.json?.['__type'], 'KMSInvalidMacException')
      return ns
    }
    // Pairs, each in a random order, after a warm-up: the median of the paired differences cancels
    // drift in the machine's load (other test files run beside this one). A real difference would
    // show in every attempt; noise rarely three times in a row.
    let difference = Infinity
    for (let attempt = 1; attempt <= 3 && difference >= 0.3; attempt++) {
      const deltas: number[] = []
      const all: number[] = []
      for (let i = 0; i < 300; i++) {
        const firstGoesFirst = Math.random() < 0.5
        const a = await time(firstGoesFirst ? 'first' : 'last')
        const b = await time(firstGoesFirst ? 'last' : 'first')
        if (i < 50) continue
        const [tFirst, tLast] = firstGoesFirst ? [a, b] : [b, a]
        deltas.push(tFirst - tLast)
        all.push(tFirst, tLast)
      }
      const typical = median(all)
      difference = Math.abs(median(deltas)) / typical
      t.diagnostic(`attempt ${attempt}: VerifyMac median ${(typical / 1e3).toFixed(0)} µs, median of (wrong first byte - wrong last byte) ${(median(deltas) / 1e3).toFixed(1)} µs, ${(difference * 100).toFixed(1)}%`)
    }
    assert.ok(difference < 0.3, `wrong-first and wrong-last byte refusals differ by ${(difference * 100).toFixed(1)}% of a request`)
  })
})
