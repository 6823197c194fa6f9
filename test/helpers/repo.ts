// The repository's root, whether the tests run from test/ (tsx) or compiled, from dist/test/
// (npm test): files beside the sources (fixtures, docs, README, scripts, the built server) are
// found from here, never relative to the test file.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'macaw') return dir
  }
  throw new Error(`no macaw package.json above ${fileURLToPath(import.meta.url)}`)
}

export const REPO = findRepo()

/** A path inside the repository, e.g. repoPath('test', 'fixtures', 'aws-texts.json'). */
export function repoPath(...parts: string[]): string {
  return join(REPO, ...parts)
}
