// The README's quick start, pasted as written, with each AWS CLI found here: v1 (reads
// AWS_DEFAULT_REGION) and v2 (reads AWS_REGION; Debian's `awscli` package, which .ci/run
// installs). The server is started as `npm start` starts it (default workers), on an ephemeral
// port instead of 8420; the CLI runs without this machine's AWS variables and config files.
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { describe, it } from 'node:test'
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms'
import { spawnServer, removeDataDir } from '../helpers/process.js'
import { repoPath } from '../helpers/repo.js'

const README = await readFile(repoPath('README.md'), 'utf8')
/** The sh block of the quick start that talks to the server with the AWS CLI. */
const BLOCK = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((b) => b.includes('aws --endpoint-url')) ?? ''
const README_URL = 'http://127.0.0.1:8420'

/** Each `aws` on this machine by major version: the first on PATH, and Debian's /usr/bin/aws. */
function clis(): Map<string, string> {
  const found = new Map<string, string>()
  for (const bin of [...new Set([spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim(), '/usr/bin/aws'])]) {
    if (bin === '') continue
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } })
    const major = /aws-cli\/(\d+)\./.exec(`${version.stdout}${version.stderr}`)?.[1]
    if (version.status === 0 && major !== undefined && !found.has(major)) found.set(major, bin)
  }
  return found
}
const CLIS = clis()

/** The block as a bash script: `npm start` is the server the test started; <KeyId> comes from create-key. */
function script(url: string): string {
  const lines: string[] = ['set -euo pipefail']
  for (const line of BLOCK.split('\n')) {
    if (line.trim() === '' || line.startsWith('#') || line.trim() === 'npm start') continue
    const cmd = line.replaceAll(README_URL, url).replaceAll('<KeyId>', '"$KEY_ID"')
    if (cmd.includes(' kms create-key ')) {
      lines.push(`${cmd} > create-key.json`, `KEY_ID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("create-key.json", "utf8")).KeyMetadata.KeyId)')`)
    } else lines.push(cmd)
  }
  return lines.join('\n')
}

/** The values the block's first export line gives MACAW_ROOT_*. */
function rootCredentials(): Record<string, string> {
  const line = BLOCK.split('\n').find((l) => l.startsWith('export MACAW_ROOT_')) ?? ''
  return Object.fromEntries([...line.matchAll(/(MACAW_ROOT_[A-Z_]+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']))
}

describe('the README quick start with the AWS CLI', { concurrency: true }, () => {
  it('is found in the README', () => {
    assert.match(BLOCK, /kms create-key/)
    assert.match(BLOCK, /kms generate-mac/)
    assert.equal(Object.keys(rootCredentials()).length, 2)
  })

  for (const major of ['1', '2']) {
    const bin = CLIS.get(major)
    it(`works pasted as written with AWS CLI v${major}`, { skip: bin === undefined ? `SKIPPED: no AWS CLI v${major} here` : false }, async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'macaw-quickstart-'))
      const proc = await spawnServer(dataDir, rootCredentials())
      // The server stops before its data directory goes (hooks run in the order they are added).
      t.after(async () => {
        await proc.stop()
        await removeDataDir(dataDir)
      })
      await writeFile(join(dataDir, 'quickstart.sh'), script(proc.url))
      // No AWS_* variable, profile or config file from this machine: only what the block exports.
      const env: Record<string, string> = {
        ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith('AWS_') && e[1] !== undefined)),
        PATH: `${dirname(bin ?? '')}:${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
        AWS_CONFIG_FILE: join(dataDir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'no-aws-credentials'),
      }
      const run = await promisify(execFile)('bash', [join(dataDir, 'quickstart.sh')], { cwd: dataDir, env, timeout: 120_000 }).catch((err: Error & { stderr?: string }) => {
        throw new Error(`${err.message}\n${err.stderr ?? ''}`)
      })
      const out = JSON.parse(run.stdout) as { KeyId?: string; Mac?: string; MacAlgorithm?: string }
      assert.match(out.KeyId ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/)
      assert.equal(out.MacAlgorithm, 'HMAC_SHA_256')
      // The same MAC as an SDK computes for the same alias and message.
      const creds = rootCredentials()
      const kms = new KMSClient({
        endpoint: proc.url,
        region: 'us-east-1',
        credentials: { accessKeyId: creds['MACAW_ROOT_ACCESS_KEY_ID'] ?? '', secretAccessKey: creds['MACAW_ROOT_SECRET_ACCESS_KEY'] ?? '' },
      })
      t.after(() => kms.destroy())
      const sdk = await kms.send(new GenerateMacCommand({ KeyId: 'alias/x', Message: Buffer.from('hello'), MacAlgorithm: 'HMAC_SHA_256' }))
      assert.equal(out.Mac, Buffer.from(sdk.Mac ?? []).toString('base64'))
    })
  }
})
