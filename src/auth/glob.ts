// IAM wildcard matching (`*` any run of characters, `?` any one character, everything else
// literal) in bounded time, without building a RegExp from policy or request text.
//
// A list of patterns is compiled into one bit-parallel NFA (shift-and): one bit per pattern
// position, a word of 32 positions at a time. Matching a value of n characters against patterns
// of m positions in all costs n * ceil(m / 32) word steps, whatever the patterns are: there is no
// backtracking to blow up. Patterns without wildcards go to a Set, `*` alone matches everything,
// and a pattern needing more literal characters than a value has is skipped for that value.

/** Word steps taken by every matcher since the process started (tests prove the bound with it). */
let steps = 0
export function globSteps(): number {
  return steps
}

export type Matcher = (value: string) => boolean

const WILD = -1

/** One NFA over several patterns; bit j of the state set = "pattern prefix up to j matched". */
interface Program {
  readonly words: number
  /**
   * Rows of `words` words, one per literal character, of the positions that accept it (`?`
   * positions included); row 0 is the `?` positions alone, for every other character. Flat, so
   * that a compiled policy costs a few bytes per pattern character.
   */
  readonly masks: Int32Array
  /** Row of each ASCII character (0: none), and of other characters. */
  readonly asciiRows: Uint8Array | Uint16Array
  readonly otherRows: Map<number, number> | undefined
  /** Positions of `*`: they keep their bit and also enable the next position. */
  readonly star: Int32Array
  /** Start positions of every pattern. */
  readonly start: Int32Array
  /** End positions of every pattern. */
  readonly accept: Int32Array
  /** The fewest characters any pattern of the program needs. */
  readonly minLength: number
}

/** Collapses runs of `*` (same language, and the NFA then needs only one closure step). */
function positions(pattern: string): number[] {
  const out: number[] = []
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charCodeAt(i)
    if (ch === 0x2a) {
      if (out[out.length - 1] !== 0x2a) out.push(0x2a)
    } else out.push(ch === 0x3f ? WILD : ch)
  }
  return out
}

function setBit(words: Int32Array, bit: number): void {
  words[bit >>> 5] = (words[bit >>> 5] ?? 0) | (1 << (bit & 31))
}

function compileProgram(patterns: readonly number[][]): Program {
  const total = patterns.reduce((n, p) => n + p.length + 1, 0)
  const words = Math.ceil(total / 32)
  const wild = new Int32Array(words)
  const star = new Int32Array(words)
  const start = new Int32Array(words)
  const accept = new Int32Array(words)
  const literal = new Map<number, number[]>()
  let minLength = Infinity
  let base = 0
  for (const p of patterns) {
    setBit(start, base)
    let needed = 0
    p.forEach((ch, j) => {
      const bit = base + j
      if (ch === 0x2a) setBit(star, bit)
      else {
        needed++
        if (ch === WILD) setBit(wild, bit)
        else {
          const list = literal.get(ch)
          if (list) list.push(bit)
          else literal.set(ch, [bit])
        }
      }
    })
    minLength = Math.min(minLength, needed)
    setBit(accept, base + p.length)
    base += p.length + 1
  }
  const masks = new Int32Array((literal.size + 1) * words)
  masks.set(wild)
  const asciiRows = literal.size < 256 ? new Uint8Array(128) : new Uint16Array(128)
  let otherRows: Map<number, number> | undefined
  let row = 0
  for (const [ch, bits] of literal) {
    row++
    const offset = row * words
    masks.set(wild, offset)
    for (const bit of bits) masks[offset + (bit >>> 5)] = (masks[offset + (bit >>> 5)] as number) | (1 << (bit & 31))
    if (ch < 128) asciiRows[ch] = row
    else (otherRows ??= new Map()).set(ch, row)
  }
  return { words, masks, asciiRows, otherRows, star, start, accept, minLength }
}

/** Scratch state sets, reused: matching is synchronous and never re-entered. */
let current = new Int32Array(64)
let next = new Int32Array(64)

/** Adds the positions that a `*` in `set` enables (one step: `*` runs are collapsed). */
function closeOverStars(set: Int32Array, star: Int32Array, words: number): void {
  let carry = 0
  for (let k = 0; k < words; k++) {
    const s = (set[k] as number) & (star[k] as number)
    set[k] = (set[k] as number) | (s << 1) | carry
    carry = s >>> 31
  }
}

function run(program: Program, value: string): boolean {
  const { words, masks, asciiRows, otherRows, star, accept } = program
  if (value.length < program.minLength) return false
  if (current.length < words) {
    current = new Int32Array(words)
    next = new Int32Array(words)
  }
  let d = current
  let n = next
  d.set(program.start)
  closeOverStars(d, star, words)
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i)
    const offset = (ch < 128 ? (asciiRows[ch] as number) : (otherRows?.get(ch) ?? 0)) * words
    // One pass per word: advance on the character, keep `*` positions, then let each `*`
    // enable the position after it (the carries cross word boundaries).
    let shiftCarry = 0
    let starCarry = 0
    let alive = 0
    for (let k = 0; k < words; k++) {
      const dk = d[k] as number
      const sk = star[k] as number
      const t = dk & (masks[offset + k] as number)
      let v = (t << 1) | shiftCarry | (dk & sk) | starCarry
      shiftCarry = t >>> 31
      const s = v & sk
      v |= s << 1
      starCarry = s >>> 31
      n[k] = v
      alive |= v
    }
    steps += words
    if (alive === 0) return false
    const swap = d
    d = n
    n = swap
  }
  for (let k = 0; k < words; k++) if (((d[k] as number) & (accept[k] as number)) !== 0) return true
  return false
}

const always: Matcher = () => true

/**
 * A matcher for a list of IAM patterns: true when any pattern matches the whole value. With
 * `ignoreCase`, patterns and values are compared lower-cased (IAM actions).
 */
export function compileGlobs(patterns: readonly string[], options: { ignoreCase?: boolean } = {}): Matcher {
  const fold = options.ignoreCase === true ? (s: string) => s.toLowerCase() : (s: string) => s
  const exact = new Set<string>()
  const wildcard: number[][] = []
  for (const raw of patterns) {
    const p = fold(raw)
    if (p === '*') return always
    if (p.includes('*') || p.includes('?')) wildcard.push(positions(p))
    else exact.add(p)
  }
  const program = wildcard.length === 0 ? undefined : compileProgram(wildcard)
  if (program === undefined) return (value) => exact.has(fold(value))
  return (value) => {
    const v = fold(value)
    return exact.has(v) || run(program, v)
  }
}

/** One pattern: `compileGlobs([pattern])`. */
export function compileGlob(pattern: string): Matcher {
  return compileGlobs([pattern])
}
