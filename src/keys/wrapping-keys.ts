// RSA wrapping key pairs for GetParametersForImport, generated on the thread pool under bounds:
// an RSA-4096 key costs a core for about a second, so WRAPPING_KEY_LIMITS bounds how many are
// generated at once, how many more wait, and how many of those places one account holds.
// Beyond that the request is throttled (ThrottlingException), as AWS throttles this operation.
import { ThrottlingException } from '../protocol/errors.js'
import { THROTTLING_MESSAGE } from '../quotas/throttle.js'
import { newWrappingKey } from './import.js'

export const WRAPPING_KEY_LIMITS = { running: 2, waiting: 16, perAccount: 4 } as const

export class WrappingKeyGenerator {
  private running = 0
  private readonly waiting: (() => void)[] = []
  private readonly perAccount = new Map<string, number>()
  private readonly generate: (bits: number) => Promise<{ publicKey: Buffer; privateKey: Buffer }>

  constructor(generate = newWrappingKey) {
    this.generate = generate
  }

  /** A new key pair for `accountId`; ThrottlingException when the bounds are reached. */
  async newKeyPair(accountId: string, bits: number): Promise<{ publicKey: Buffer; privateKey: Buffer }> {
    const held = this.perAccount.get(accountId) ?? 0
    const busy = this.running >= WRAPPING_KEY_LIMITS.running
    if (held >= WRAPPING_KEY_LIMITS.perAccount || (busy && this.waiting.length >= WRAPPING_KEY_LIMITS.waiting)) {
      throw new ThrottlingException(THROTTLING_MESSAGE)
    }
    this.perAccount.set(accountId, held + 1)
    try {
      if (busy) await new Promise<void>((resolve) => this.waiting.push(resolve))
      else this.running++
      try {
        return await this.generate(bits)
      } finally {
        // Hand the place to the next waiter, if any.
        const next = this.waiting.shift()
        if (next) next()
        else this.running--
      }
    } finally {
      const left = (this.perAccount.get(accountId) ?? 1) - 1
      if (left === 0) this.perAccount.delete(accountId)
      else this.perAccount.set(accountId, left)
    }
  }
}
