// Child processes for the benchmark: spawn pinned to CPU cores with taskset, wait for a server's
// "listening on" line, read CPU time from /proc, and stop what we started.
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LoadJob, LoadMessage, LoadResult } from './load.js'

/** Children run from the repository root, where `--import tsx` resolves. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

/** CPU cores for the servers and for the load generator; undefined means "do not pin". */
export interface Pinning {
  readonly serverCpus: string | undefined
  readonly loadCpus: string | undefined
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Pinning is only worth it with taskset and at least two cores; otherwise say why and skip it. */
export function choosePinning(
  serverCpus: string,
  loadCpus: string,
  cores: number,
): { pinning: Pinning; note: string } {
  if (!hasTaskset())
    return {
      pinning: { serverCpus: undefined, loadCpus: undefined },
      note: 'taskset not found: processes not pinned',
    }
  if (cores < 2)
    return {
      pinning: { serverCpus: undefined, loadCpus: undefined },
      note: 'one CPU core: processes not pinned',
    }
  return {
    pinning: { serverCpus, loadCpus },
    note: `servers on CPU ${serverCpus}, load generator on CPU ${loadCpus}`,
  }
}

/** Pins an already running process, all of its threads, to `cpus`. */
export function pinProcess(pid: number, cpus: string | undefined): void {
  if (cpus !== undefined)
    execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' })
}

/** Spawns `node <args>`; through `taskset -c` when pinned, which execs node under the same pid. */
export function spawnNode(
  args: readonly string[],
  cpus: string | undefined,
  env: NodeJS.ProcessEnv,
  stdio: StdioOptions,
): ChildProcess {
  const command = cpus === undefined ? process.execPath : 'taskset'
  const argv = cpus === undefined ? [...args] : ['-c', cpus, process.execPath, ...args]
  return spawn(command, argv, { cwd: REPO_ROOT, env, stdio })
}

/** The load generator child (bench/load.ts), one job at a time over IPC. */
export class LoadGenerator {
  readonly pid: number
  private readonly child: ChildProcess

  private constructor(child: ChildProcess) {
    this.child = child
    this.pid = child.pid ?? 0
  }

  static async start(cpus: string | undefined): Promise<LoadGenerator> {
    const child = spawnNode(
      ['--import', 'tsx', fileURLToPath(new URL('load.ts', import.meta.url))],
      cpus,
      process.env,
      ['ignore', 'inherit', 'inherit', 'ipc'],
    )
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (code) =>
        reject(new Error(`load generator exited with ${code ?? 'a signal'} before it was ready`)),
      )
    })
    return new LoadGenerator(child)
  }

  run(job: LoadJob): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(new Error(`load generator exited with ${code ?? 'a signal'}`))
      this.child.once('exit', onExit)
      this.child.once('message', (message: LoadMessage) => {
        this.child.off('exit', onExit)
        if (message.type === 'result') resolve(message.result)
        else
          reject(
            new Error(
              message.type === 'error'
                ? message.message
                : 'unexpected message from the load generator',
            ),
          )
      })
      this.child.send({ type: 'run', job })
    })
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = once(this.child, 'exit')
    this.child.disconnect()
    await exited
  }
}

export interface ServerChild {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  /** The server's pid and those of its descendants (cluster workers), for CPU accounting. */
  readonly pids: readonly number[]
  stop(): Promise<void>
}

/** Starts a server that prints `<name> listening on <url>` on stdout once it accepts connections. */
export async function startServerChild(
  name: string,
  args: readonly string[],
  cpus: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ServerChild> {
  const child = spawnNode(args, cpus, env, ['ignore', 'pipe', 'pipe'])
  const exited = once(child, 'exit')
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within 30 s:\n${output}`)),
      30_000,
    )
    const pattern = new RegExp(`${name} listening on (http://\\S+)`)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const url = pattern.exec(output)?.[1]
      if (url !== undefined) {
        clearTimeout(timer)
        resolve(url)
      }
    })
    // Keep stderr: a server that logs warnings under load is worth seeing after the run.
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      process.stderr.write(`[${name}] ${chunk.toString()}`)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code ?? 'a signal'} before listening:\n${output}`))
    })
  })
  const pid = child.pid ?? 0
  return {
    name,
    url,
    child,
    pids: [pid, ...descendants(pid)],
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
    },
  }
}

/** Fields after the `(comm)` of /proc/<pid>/stat (or of `task`, one thread's); comm may hold spaces, so split after ')'. */
function statFields(pid: number, task?: number): string[] | undefined {
  try {
    const text = readFileSync(task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${task}/stat`, 'utf8')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    const ppid = Number(statFields(pid)?.[1])
    if (Number.isInteger(ppid)) children.set(ppid, [...(children.get(ppid) ?? []), pid])
  }
  const out: number[] = []
  const queue = [root]
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child)
      queue.push(child)
    }
  }
  return out
}

const CLOCK_TICKS_PER_SECOND = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * utime + stime of these processes, in microseconds (resolution: one clock tick, usually 10 ms).
 * `main`: of their main threads only (a server's request thread; without it, its other threads too:
 * macaw's audit writer, V8's GC helpers, libuv's pool).
 */
export function cpuMicros(pids: readonly number[], only?: 'main'): number {
  let ticks = 0
  for (const pid of pids) {
    const fields = statFields(pid, only === 'main' ? pid : undefined)
    // After ')': state ppid ... utime is field 14 of the whole line, i.e. index 11 here; stime 12.
    if (fields !== undefined) ticks += Number(fields[11]) + Number(fields[12])
  }
  return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND
}

/** Resident memory of these processes (VmRSS from /proc), KiB; processes gone count 0. */
export function rssKiB(pids: readonly number[]): number {
  let total = 0
  for (const pid of pids) {
    try {
      const line = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      total += Number(line?.[1] ?? 0)
    } catch {
      // Gone: nothing resident.
    }
  }
  return total
}
