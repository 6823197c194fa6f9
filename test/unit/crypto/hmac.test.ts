import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { computeMac, generateMaterial, importLengthRange, MacKey, macsEqual } from '../../../src/crypto/hmac.js'
import { HMAC_KEY_SPECS, type MacAlgorithm } from '../../../src/domain.js'
import { repoPath } from '../../helpers/repo.js'

/**
 * AWS's figures, not ours: MAC lengths (GenerateMac output: the full digest, FIPS 180-4), and
 * material lengths (developer guide, HMAC keys: generated material is the digest size; imported
 * material is from the digest size to the hash block size).
 */
const MAC_BYTES: Record<MacAlgorithm, number> = { HMAC_SHA_224: 28, HMAC_SHA_256: 32, HMAC_SHA_384: 48, HMAC_SHA_512: 64 }
const MATERIAL: Record<string, { min: number; max: number }> = {
  HMAC_224: { min: 28, max: 64 },
  HMAC_256: { min: 32, max: 64 },
  HMAC_384: { min: 48, max: 128 },
  HMAC_512: { min: 64, max: 128 },
}

interface Vectors {
  cases: { source: string; keyHex: string; dataHex: string; macs: Record<MacAlgorithm, string> }[]
  kmsImport: { source: string; algorithm: MacAlgorithm; keyLength: number; message: string; macBase64: string }[]
}
const vectors = JSON.parse(readFileSync(repoPath('test', 'vectors', 'rfc4231.json'), 'utf8')) as Vectors

describe('crypto/hmac', () => {
  for (const v of vectors.cases) {
    for (const [alg, hex] of Object.entries(v.macs) as [MacAlgorithm, string][]) {
      it(`matches ${v.source} for ${alg}`, () => {
        const mac = computeMac(alg, new MacKey(Buffer.from(v.keyHex, 'hex')), Buffer.from(v.dataHex, 'hex'))
        assert.equal(mac.toString('hex'), hex)
        assert.equal(mac.length, MAC_BYTES[alg])
      })
    }
  }
  for (const v of vectors.kmsImport) {
    it(`matches the ${v.source} vector for ${v.algorithm}`, () => {
      const key = Buffer.from(Array.from({ length: v.keyLength }, (_, i) => i))
      assert.equal(computeMac(v.algorithm, new MacKey(key), Buffer.from(v.message)).toString('base64'), v.macBase64)
    })
  }

  it('keeps material to itself: a copy of what it was given, shown nowhere, exported as a copy', () => {
    const material = Buffer.from('0b'.repeat(32), 'hex')
    const key = new MacKey(material)
    const mac = computeMac('HMAC_SHA_256', key, Buffer.from('Hi There'))
    // The caller's buffer is its own to zero.
    material.fill(0)
    assert.deepEqual(computeMac('HMAC_SHA_256', key, Buffer.from('Hi There')), mac)
    for (const shown of [JSON.stringify({ key }), inspect(key), inspect({ key }, { showHidden: true, depth: 5 }), String(Object.keys(key))]) {
      assert.ok(!shown.includes('0b0b') && !shown.includes('11,11'), shown)
    }
    const exported = key.export()
    assert.equal(exported.toString('hex'), '0b'.repeat(32))
    assert.notEqual(exported.buffer.byteLength, Buffer.poolSize, 'not a slice of the shared pool')
    exported.fill(0)
    assert.deepEqual(computeMac('HMAC_SHA_256', key, Buffer.from('Hi There')), mac)
  })

  it('generates full-length random material that differs each time', () => {
    for (const spec of HMAC_KEY_SPECS) {
      const a = generateMaterial(spec)
      const b = generateMaterial(spec)
      assert.equal(a.length, MATERIAL[spec]?.min)
      assert.deepEqual(importLengthRange(spec), MATERIAL[spec])
      assert.notDeepEqual(a, b)
    }
  })

  it('compares MACs by content and length', () => {
    const a = Buffer.from('00112233', 'hex')
    assert.equal(macsEqual(a, Buffer.from('00112233', 'hex')), true)
    assert.equal(macsEqual(a, Buffer.from('00112234', 'hex')), false)
    assert.equal(macsEqual(a, Buffer.from('001122', 'hex')), false)
    assert.equal(macsEqual(a, Buffer.alloc(0)), false)
  })
})
