// Runs node:test over the given test files and the test files under the given folders (default: test/). Node 20's --test
// does not expand globs, so the list is built here. The tests run compiled, from dist/ (`tsc -p tsconfig.json` emits
// them beside the sources: loading them through tsx took about half of each test file's CPU time); with
// MACAW_TEST_FROM_SOURCES=1 they run from the .ts sources through tsx instead, without a build.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

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
const fromSources = process.env['MACAW_TEST_FROM_SOURCES'] === '1'
// The compiled file of each source. Compiling is incremental (tsconfig.json), so an unchanged source
// that was only touched keeps its older output: existence is checked here, freshness is tsc's job,
// and every npm script that runs tests compiles first.
const targets = fromSources
  ? files
  : files.map((file) => {
      const compiled = join('dist', file.replace(/\.ts$/, '.js'))
      if (!existsSync(compiled)) {
        console.error(`${compiled} is missing: run \`npx tsc -p tsconfig.json\` first (npm test does)`)
        process.exit(1)
      }
      return compiled
    })
// Test files whose servers are all in-process, that change no environment and share nothing at
// module level, run together in one process per group, imported by a generated entry file: a test
// process of their own cost each about 0.4 s of CPU (Node 20 has no --test-isolation=none). The
// files that start server processes, browsers or python, and the timing test, keep a process each;
// so does any file not named here.
const GROUPS = [
  ['operations', ['test/operations/']],
  ['unit', ['test/unit/', 'test/store/']],
  [
    'in-process',
    [
      'test/attack/access.test.ts',
      'test/attack/sessions.test.ts',
      'test/attack/signature.test.ts',
      'test/attack/target.test.ts',
      'test/e2e/audit.test.ts',
      'test/e2e/authentication.test.ts',
      'test/e2e/authorization.test.ts',
      'test/e2e/protocol.test.ts',
      'test/e2e/seed.test.ts',
      'test/fuzz/requests.test.ts',
    ],
  ],
]
function grouped(list) {
  if (fromSources) return list
  const groups = new Map()
  const out = []
  files.forEach((file, i) => {
    const group = GROUPS.find(([, members]) => members.some((m) => file.replaceAll('\\', '/').startsWith(m)))?.[0]
    if (group === undefined) out.push(list[i])
    else groups.set(group, [...(groups.get(group) ?? []), list[i]])
  })
  const dir = join('dist', 'test', '.groups')
  mkdirSync(dir, { recursive: true })
  // First: each group is one long process, which should not be the last to start.
  const order = (name) => GROUPS.findIndex(([g]) => g === name)
  const entries = [...groups].sort(([a], [b]) => order(a) - order(b)).map(([group, members]) => {
    if (members.length === 1) return members[0]
    const entry = join(dir, `${group}.test.js`)
    writeFileSync(entry, members.map((m) => `import ${JSON.stringify(pathToFileURL(resolve(m)).href)}\n`).join(''))
    return entry
  })
  return [...entries, ...out]
}

// No test may hang the run: each test fails after 5 minutes, and a file whose tests are done ends
// even if a handle would keep it alive (the server helpers fail the test that leaves one).
const result = spawnSync(
  process.execPath,
  [
    ...(fromSources ? ['--import', 'tsx'] : ['--enable-source-maps']),
    '--test',
    '--test-concurrency=2',
    '--test-timeout=300000',
    '--test-force-exit',
    '--test-reporter=spec',
    ...grouped(targets),
  ],
  // CI runs Node 20 on purpose; the SDK's notice that later SDK versions need Node 22 would only
  // repeat once per test file (the SDK is pinned in package.json).
  { stdio: 'inherit', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
)
process.exit(result.status ?? 1)
