// Runs `macaw serve` from the built dist/ as a child process, for tests that kill it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT, storeEnvFor } from './server.js'

export const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url))

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  kill9(): Promise<void>
  stop(): Promise<void>
}

export async function spawnServer(dataDir: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    env: {
      ...process.env,
      ...storeEnvFor(dataDir),
      MACAW_ROOT_ACCESS_KEY_ID: ROOT.accessKeyId,
      MACAW_ROOT_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 20_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const m = /macaw listening on (https?:\/\/\S+)/.exec(output)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}: ${output}`))
    })
  })
  const exited = once(child, 'exit')
  return {
    url,
    child,
    async kill9() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await exited
      }
    },
  }
}

/** Runs a `macaw` admin command from dist/ against a data dir; returns stdout, throws on failure. */
export async function macaw(dataDir: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [MAIN, ...args, '--data-dir', dataDir], {
    env: { ...process.env, ...storeEnvFor(dataDir), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw Object.assign(new Error(`macaw ${args.join(' ')} exited ${String(code)}: ${stderr}`), { code, stderr })
  return stdout
}

export interface CreatedUser {
  readonly AccessKeyId: string
  readonly SecretAccessKey: string
  readonly Arn: string
}

/** `macaw users create`, with an optional identity policy document. */
export async function createUser(dataDir: string, accountId: string, name: string, policy?: object): Promise<CreatedUser> {
  const args = ['users', 'create', '--account-id', accountId, '--name', name]
  if (policy !== undefined) {
    const file = join(dataDir, `policy-${name}-${accountId}.json`)
    await writeFile(file, JSON.stringify(policy))
    args.push('--policy', file)
  }
  return JSON.parse(await macaw(dataDir, args)) as CreatedUser
}

export function credentialsOf(user: CreatedUser): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: user.AccessKeyId, secretAccessKey: user.SecretAccessKey }
}

/** Resident memory (bytes) of a process and its children (a primary and its workers), from ps. */
export function treeRss(pid: number): number {
  const out = spawnSync('ps', ['-o', 'rss=', '--ppid', String(pid), '-p', String(pid)], { encoding: 'utf8' })
  return (
    out.stdout
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isFinite(n) && n > 0)
      .reduce((a, b) => a + b, 0) * 1024
  )
}
