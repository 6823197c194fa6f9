// How many times the long loops go round. `npm test` runs the short version of each (the same
// cases, fewer rounds); `.ci/run` also runs them with MACAW_TEST_FULL=1, the figures the docs and
// issues quote. A variable naming one loop (e.g. MACAW_CRASH_CYCLES) overrides both.
export const FULL = process.env['MACAW_TEST_FULL'] === '1'

/** The round count for a loop: `variable` if set, else `full` under MACAW_TEST_FULL=1, else `short`. */
export function rounds(variable: string, short: number, full: number): number {
  const set = process.env[variable]
  return set !== undefined && set !== '' ? Number(set) : FULL ? full : short
}
