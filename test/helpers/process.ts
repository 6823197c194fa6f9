// Runs `macaw serve` from the built dist/ as a child process, for tests that kill it.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { ROOT } from './server.js'

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
      const m = /macaw listening on (http:\/\/\S+)/.exec(output)
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
