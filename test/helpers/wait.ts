// Waiting for a condition in a test: polled, bounded, and failing with what was awaited.
import assert from 'node:assert/strict'

/** Polls `condition` every `everyMs` until it holds; fails after `timeoutMs`. Returns the ms waited. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; everyMs?: number },
): Promise<number> {
  const started = performance.now()
  while (!(await condition())) {
    if (performance.now() - started > options.timeoutMs) assert.fail(`timed out after ${options.timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 10))
  }
  return performance.now() - started
}
