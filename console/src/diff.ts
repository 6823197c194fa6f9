// A line diff of two texts (longest common subsequence), for the key policy review: policies are
// at most 32 KB, so a table of lines × lines stays small.
export interface DiffLine {
  readonly kind: 'same' | 'add' | 'del'
  readonly text: string
}

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n')
  const b = after.split('\n')
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1))
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lengths[i] as Uint32Array
    const below = lengths[i + 1] as Uint32Array
    for (let j = b.length - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (below[j + 1] as number) + 1 : Math.max(below[j] as number, row[j + 1] as number)
  }
  const out: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i++] as string })
      j++
    } else if (j < b.length && (i === a.length || (lengths[i]?.[j + 1] ?? 0) >= (lengths[i + 1]?.[j] ?? 0))) {
      out.push({ kind: 'add', text: b[j++] as string })
    } else {
      out.push({ kind: 'del', text: a[i++] as string })
    }
  }
  return out
}
