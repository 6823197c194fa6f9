// Runs node:test over the given test files and the test files under the given folders (default: test/). Node 20's --test
// does not expand globs, so the list is built here.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) collect(path, out)
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test']
const files = roots.flatMap((r) => (statSync(r).isDirectory() ? collect(r, []) : [r]))
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`)
  process.exit(1)
}
// No test may hang the run: each test fails after 5 minutes, and a file whose tests are done ends
// even if a handle would keep it alive (the server helpers fail the test that leaves one).
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', '--test-force-exit', '--test-reporter=spec', ...files],
  // CI runs Node 20 on purpose; the SDK's notice that later SDK versions need Node 22 would only
  // repeat once per test file (the SDK is pinned in package.json).
  { stdio: 'inherit', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
)
process.exit(result.status ?? 1)
