// Summaries over rounds. Medians, not means: one round disturbed by another process on a small
// machine should not move the figure.

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = Math.floor(sorted.length / 2)
  const hi = sorted[mid] ?? Number.NaN
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2
}

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) }
}

/** Fixed significant digits for the table: 12345 -> "12345", 0.1234 -> "0.123". */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '–'
  if (Math.abs(value) >= 10 ** digits) return value.toFixed(0)
  return Number(value.toPrecision(digits)).toString()
}
