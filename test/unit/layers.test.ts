// The module layers of src/ (docs/architecture.md): a module imports only from its own layer or
// below, so that, for example, keys/ never reaches into operations/ and operations/ never into
// the service that runs them.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, it } from 'node:test'
import { repoPath } from '../helpers/repo.js'

const SRC = repoPath('src')

/** Top-level folder or file of src/ -> its layer (higher may import lower, never the reverse). */
const LAYERS: Record<string, number> = {
  'domain.ts': 0,
  'log.ts': 0,
  crypto: 1,
  trust: 1,
  store: 1,
  protocol: 1,
  quotas: 1,
  'config.ts': 2,
  auth: 3,
  keys: 3,
  audit: 3,
  metrics: 3,
  'trial-open.ts': 3,
  'seed.ts': 4,
  operations: 4,
  sts: 4,
  cloudtrail: 4,
  service: 5,
  'server.ts': 6,
  cluster: 7,
  cli: 8,
  'main.ts': 9,
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : []
  })
}

function layerOf(path: string): { name: string; layer: number } {
  const name = relative(SRC, path).split('/')[0] ?? ''
  const layer = LAYERS[name]
  if (layer === undefined) throw new Error(`${name} has no layer in test/unit/layers.test.ts`)
  return { name, layer }
}

describe('module layers', () => {
  it('no module imports from a layer above its own', () => {
    const upward: string[] = []
    for (const file of files(SRC)) {
      const from = layerOf(file)
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = normalize(join(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')))
        const to = layerOf(target)
        if (to.layer > from.layer) upward.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`)
      }
    }
    assert.deepEqual(upward, [])
  })
})
