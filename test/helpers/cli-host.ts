// One long-lived process per test file that runs `macaw` admin commands for the tests' setup
// (createUser, createRole): the same `run` the binary calls (src/cli/index.ts), with the command's
// argv and environment, its stdout and stderr captured, one command at a time. Starting a process
// per command cost about 0.2 s of CPU, a tenth of the whole suite's; the commands themselves are
// tested as real processes by `macaw()` (test/helpers/process.ts) and test/e2e/cli.test.ts.
// Forked with an IPC channel by `cliHost()` in test/helpers/process.ts; it ends when its parent does.
import { run } from '../../src/cli/index.js'

interface Command {
  readonly id: number
  readonly args: readonly string[]
  readonly env: Record<string, string>
}

export interface CommandResult {
  readonly id: number
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

async function execute(command: Command): Promise<CommandResult> {
  const saved = new Map(Object.keys(command.env).map((name) => [name, process.env[name]]))
  Object.assign(process.env, command.env)
  const out: string[] = []
  const err: string[] = []
  const writeOut = process.stdout.write.bind(process.stdout)
  const writeErr = process.stderr.write.bind(process.stderr)
  const capture = (into: string[]) => ((chunk: string | Uint8Array) => (into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()), true)) as typeof process.stdout.write
  process.stdout.write = capture(out)
  process.stderr.write = capture(err)
  try {
    const code = await run(['node', 'macaw', ...command.args])
    return { id: command.id, code, stdout: out.join(''), stderr: err.join('') }
  } finally {
    process.stdout.write = writeOut
    process.stderr.write = writeErr
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

if (process.send !== undefined) {
  let queue = Promise.resolve()
  process.on('message', (command: Command) => {
    queue = queue.then(async () => {
      const result = await execute(command).catch((e: unknown) => ({ id: command.id, code: 70, stdout: '', stderr: String(e) }))
      process.send?.(result)
    })
  })
  process.on('disconnect', () => process.exit(0))
}
