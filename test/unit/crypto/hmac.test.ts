import assert from 'node:assert/strict'
import { createSecretKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { computeMac, generateMaterial, importLengthRange, MAC_ALGORITHM_OF, macLength, macsEqual } from '../../../src/crypto/hmac.js'
import { HMAC_KEY_SPECS, type MacAlgorithm } from '../../../src/domain.js'

interface Vectors {
  cases: { source: string; keyHex: string; dataHex: string; macs: Record<MacAlgorithm, string> }[]
  kmsImport: { source: string; algorithm: MacAlgorithm; keyLength: number; message: string; macBase64: string }[]
}
const vectors = JSON.parse(readFileSync(new URL('../../vectors/rfc4231.json', import.meta.url), 'utf8')) as Vectors

describe('crypto/hmac', () => {
  for (const v of vectors.cases) {
    for (const [alg, hex] of Object.entries(v.macs) as [MacAlgorithm, string][]) {
      it(`matches ${v.source} for ${alg}`, () => {
        const mac = computeMac(alg, createSecretKey(Buffer.from(v.keyHex, 'hex')), Buffer.from(v.dataHex, 'hex'))
        assert.equal(mac.toString('hex'), hex)
        assert.equal(mac.length, macLength(alg))
      })
    }
  }
  for (const v of vectors.kmsImport) {
    it(`matches the ${v.source} vector for ${v.algorithm}`, () => {
      const key = Buffer.from(Array.from({ length: v.keyLength }, (_, i) => i))
      assert.equal(computeMac(v.algorithm, createSecretKey(key), Buffer.from(v.message)).toString('base64'), v.macBase64)
    })
  }

  it('generates full-length random material that differs each time', () => {
    for (const spec of HMAC_KEY_SPECS) {
      const a = generateMaterial(spec)
      const b = generateMaterial(spec)
      assert.equal(a.length, macLength(MAC_ALGORITHM_OF[spec]))
      assert.equal(a.length, importLengthRange(spec).min)
      assert.notDeepEqual(a, b)
    }
    assert.deepEqual(importLengthRange('HMAC_384'), { min: 48, max: 128 })
  })

  it('compares MACs by content and length', () => {
    const a = Buffer.from('00112233', 'hex')
    assert.equal(macsEqual(a, Buffer.from('00112233', 'hex')), true)
    assert.equal(macsEqual(a, Buffer.from('00112234', 'hex')), false)
    assert.equal(macsEqual(a, Buffer.from('001122', 'hex')), false)
    assert.equal(macsEqual(a, Buffer.alloc(0)), false)
  })
})
