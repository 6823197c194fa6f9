// python3 with boto3, for the tests that drive macaw with it. The interpreter is found once per
// test file (its own path, not pyenv's shim, which starts a shell and several processes on every
// call), and a test that makes many calls keeps one python process for them: starting python and
// importing boto3 costs about 0.4 s of CPU each time.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'

const probe = spawnSync('python3', ['-c', "import importlib.util, sys; print(sys.executable if importlib.util.find_spec('boto3') else '')"], { encoding: 'utf8' })

/** The python interpreter that has boto3, if there is one. */
export const PYTHON: string | undefined = probe.status === 0 && probe.stdout.trim() !== '' ? probe.stdout.trim() : undefined

/** A test's `skip` option when boto3 is missing. */
export const NEEDS_BOTO3: string | false = PYTHON === undefined ? 'SKIPPED: python3 with boto3 is not installed' : false

/** Runs `script` with `args` once; its stdout. */
export async function python(script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<string> {
  if (PYTHON === undefined) throw new Error(NEEDS_BOTO3 || 'no python')
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, ...args], { env: options.env ?? process.env, timeout: options.timeout ?? 60_000 })
  return stdout
}

export interface PythonSession {
  /** Calls the script's `handle(*args)`; its JSON result. */
  call(...args: unknown[]): Promise<unknown>
  close(): void
}

/**
 * One python process for many calls of `script`'s `handle(*args)`: each call is a JSON line in and
 * a JSON line out, one at a time. An exception in `handle` fails that call with its text.
 */
export function pythonSession(script: string, env: NodeJS.ProcessEnv = process.env): PythonSession {
  if (PYTHON === undefined) throw new Error(NEEDS_BOTO3 || 'no python')
  const loop = `${script}
import json as _json, sys as _sys, traceback as _tb
for _line in _sys.stdin:
    try:
        _out = {'ok': handle(*_json.loads(_line))}
    except Exception:
        _out = {'error': _tb.format_exc()}
    print(_json.dumps(_out), flush=True)
`
  const child = spawn(PYTHON, ['-c', loop], { env, stdio: ['pipe', 'pipe', 'inherit'] })
  const waiting: ((line: string | undefined) => void)[] = []
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (line) => waiting.shift()?.(line))
  child.on('exit', () => {
    for (const done of waiting.splice(0)) done(undefined)
  })
  let queue: Promise<unknown> = Promise.resolve()
  const call = (...args: unknown[]): Promise<unknown> => {
    const result = queue.then(
      () =>
        new Promise<unknown>((resolve, reject) => {
          waiting.push((line) => {
            if (line === undefined) return reject(new Error('the python process exited'))
            const out = JSON.parse(line) as { ok?: unknown; error?: string }
            if (out.error !== undefined) reject(new Error(out.error))
            else resolve(out.ok)
          })
          child.stdin.write(`${JSON.stringify(args)}\n`)
        }),
    )
    queue = result.catch(() => undefined)
    return result
  }
  return { call, close: () => child.stdin.end() }
}
