// Runs `macaw serve` from the built dist/ as a child process, for tests that kill it.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { rm, writeFile } from 'node:fs/promises'
import { join, relative, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CommandResult } from './cli-host.js'
import { ROOT, storeEnvFor } from './server.js'
import { repoPath } from './repo.js'

export const MAIN = repoPath('dist', 'src', 'main.js')

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything the server printed so far (stdout and stderr). */
  readonly output: () => string
  /** Sends a signal to the primary alone, or to its whole process group (as Ctrl-C or systemd do). */
  signal(signal: NodeJS.Signals, to: 'primary' | 'group'): void
  /** Waits for the primary to exit (failing after STOP_MS), then for its group to be gone. */
  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill9(): Promise<void>
  stop(): Promise<void>
}

/** How long a server may take to exit after SIGTERM before the test kills it and fails. */
const STOP_MS = 20_000
/** How long an admin command may run. */
const COMMAND_MS = 60_000

/** Process groups of servers still running: killed when the test process exits, whatever happened. */
const liveGroups = new Set<number>()
process.on('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL')
})

/** Servers not yet stopped, by the data directory they were started on. */
const liveServers = new Map<ServerProcess, string>()

/**
 * Removes a test's data directory after stopping every server still running on it or below it,
 * whatever order the test registered its cleanups in: removing the directory under a running
 * server races with the files it is still writing (ENOTEMPTY).
 */
export async function removeDataDir(dir: string): Promise<void> {
  const root = resolve(dir)
  const inside = (d: string): boolean => {
    const r = relative(root, resolve(d))
    return r === '' || (!r.startsWith('..') && !isAbsolute(r))
  }
  const running = [...liveServers].filter(([, d]) => inside(d)).map(([server]) => server)
  const stopped = await Promise.allSettled(running.map((server) => server.stop()))
  await rm(dir, { recursive: true, force: true, maxRetries: 3 })
  for (const result of stopped) if (result.status === 'rejected') throw result.reason
}

function killGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Starts `macaw serve` in a process group of its own (its workers included), so that a test can
 * never leave a server behind: stop() fails the test, after killing the group, when the server
 * does not exit within STOP_MS of SIGTERM or leaves a worker running.
 */
export async function spawnServer(dataDir: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...storeEnvFor(dataDir),
    MACAW_ROOT_ACCESS_KEY_ID: ROOT.accessKeyId,
    MACAW_ROOT_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    ...extraEnv,
  }
  // An empty value in extraEnv unsets the variable (e.g. no configured root credentials).
  for (const [name, value] of Object.entries(extraEnv)) if (value === '') delete env[name]
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    detached: true,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pgid = child.pid
  if (pgid !== undefined) liveGroups.add(pgid)
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
  }).catch((err: unknown) => {
    if (pgid !== undefined && killGroup(pgid, 'SIGKILL')) liveGroups.delete(pgid)
    throw err
  })
  const exited = once(child, 'exit')
  /** After the primary has gone: fails if any process of its group is still alive after a grace. */
  const reapGroup = async (): Promise<void> => {
    if (pgid === undefined) return
    for (let i = 0; i < 50 && killGroup(pgid, 0); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    const stray = killGroup(pgid, 'SIGKILL')
    liveGroups.delete(pgid)
    liveServers.delete(server)
    if (stray) throw new Error(`a worker of the server outlived its primary by 5 s; output: ${output}`)
  }
  const exitedWith = exited.then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
  const server: ServerProcess = {
    url,
    child,
    output: () => output,
    signal(signal, to) {
      if (to === 'group' && pgid !== undefined) killGroup(pgid, signal)
      else child.kill(signal)
    },
    async waitForExit() {
      if (!(await within(exited, STOP_MS))) {
        if (pgid !== undefined) killGroup(pgid, 'SIGKILL')
        await exited
        liveGroups.delete(pgid ?? -1)
        throw new Error(`server did not exit within ${STOP_MS} ms; output: ${output}`)
      }
      await reapGroup()
      return exitedWith
    },
    async kill9() {
      // As a dead machine: the primary, then whatever of its group is left (its workers).
      child.kill('SIGKILL')
      await exited
      if (pgid !== undefined) killGroup(pgid, 'SIGKILL')
      liveGroups.delete(pgid ?? -1)
      liveServers.delete(server)
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        if (!(await within(exited, STOP_MS))) {
          if (pgid !== undefined) killGroup(pgid, 'SIGKILL')
          await exited
          liveGroups.delete(pgid ?? -1)
          throw new Error(`server did not exit within ${STOP_MS} ms of SIGTERM; output: ${output}`)
        }
      }
      await reapGroup()
    },
  }
  liveServers.set(server, dataDir)
  return server
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
  const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_MS)
  const [code] = (await once(child, 'exit').finally(() => clearTimeout(timer))) as [number | null]
  if (code !== 0) throw commandFailed(args, code, stderr)
  return stdout
}

/** The error of a `macaw` command that exited non-zero, with its code and stderr for assertions. */
function commandFailed(args: readonly string[], code: number | null, stderr: string): Error {
  return Object.assign(new Error(`macaw ${args.join(' ')} exited ${String(code)}: ${stderr}`), { code, stderr })
}

/** The cli-host process of this test file, started on first use (test/helpers/cli-host.ts). */
let host: { readonly child: ChildProcess; readonly waiting: Map<number, (result: CommandResult) => void>; next: number } | undefined

function cliHost(): NonNullable<typeof host> {
  if (host !== undefined && host.child.connected) return host
  const here = fileURLToPath(import.meta.url)
  const fromSources = here.endsWith('.ts')
  const child = fork(join(here, '..', fromSources ? 'cli-host.ts' : 'cli-host.js'), [], {
    execArgv: fromSources ? ['--import', 'tsx'] : ['--enable-source-maps'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const waiting = new Map<number, (result: CommandResult) => void>()
  child.on('message', (result: CommandResult) => {
    waiting.get(result.id)?.(result)
    waiting.delete(result.id)
  })
  child.on('exit', (code) => {
    for (const [id, done] of waiting) done({ id, code: code ?? 70, stdout: '', stderr: 'the cli host exited' })
    waiting.clear()
  })
  // Neither the process nor its channel keeps the test file running; it exits when this one does.
  child.unref()
  child.channel?.unref()
  host = { child, waiting, next: 1 }
  return host
}

/**
 * Runs a `macaw` admin command against a data dir in this file's cli-host process, as `macaw()`
 * would in a process of its own: returns stdout, throws on a non-zero exit. For tests' setup, and
 * for changes a test makes from another process while a server runs. What a command does as a
 * process of its own (exit codes, signals, working directory) is tested with `macaw()`.
 */
export async function hostedMacaw(dataDir: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const h = cliHost()
  const id = h.next++
  // The channel keeps this process alive while a command runs (a test may have nothing else left).
  h.child.channel?.ref()
  const result = await new Promise<CommandResult>((resolve) => {
    h.waiting.set(id, resolve)
    h.child.send({ id, args: [...args, '--data-dir', dataDir], env: { ...storeEnvFor(dataDir), ...extraEnv } })
  }).finally(() => {
    if (h.waiting.size === 0) h.child.channel?.unref()
  })
  if (result.code !== 0) throw commandFailed(args, result.code, result.stderr)
  return result.stdout
}

export interface CreatedUser {
  readonly AccessKeyId: string
  readonly SecretAccessKey: string
  readonly Arn: string
}

/** `macaw users create`, with an optional identity policy document (and store settings in `extraEnv`). */
export async function createUser(dataDir: string, accountId: string, name: string, policy?: object, extraEnv: Record<string, string> = {}): Promise<CreatedUser> {
  const args = ['users', 'create', '--account-id', accountId, '--name', name]
  if (policy !== undefined) {
    const file = join(dataDir, `policy-${name}-${accountId}.json`)
    await writeFile(file, JSON.stringify(policy))
    args.push('--policy', file)
  }
  return JSON.parse(await hostedMacaw(dataDir, args, extraEnv)) as CreatedUser
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

/** `macaw roles create` with a trust policy (and optionally an identity policy); returns the role's ARN. */
export async function createRole(
  dataDir: string,
  accountId: string,
  name: string,
  trust: object,
  options: { policy?: object; maxSessionSeconds?: number } = {},
): Promise<string> {
  const trustFile = join(dataDir, `trust-${name}-${accountId}.json`)
  await writeFile(trustFile, JSON.stringify(trust))
  const args = ['roles', 'create', '--account-id', accountId, '--name', name, '--trust-policy', trustFile]
  if (options.policy !== undefined) {
    const file = join(dataDir, `role-policy-${name}-${accountId}.json`)
    await writeFile(file, JSON.stringify(options.policy))
    args.push('--policy', file)
  }
  if (options.maxSessionSeconds !== undefined) args.push('--max-session-seconds', String(options.maxSessionSeconds))
  const out = JSON.parse(await hostedMacaw(dataDir, args)) as { Role: { Arn: string } }
  return out.Role.Arn
}
