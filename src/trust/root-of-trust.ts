// The root of trust: wraps and unwraps the 256-bit data keys of envelopes (crypto/envelope.ts).
// It never sees key material itself, so an HSM provider only needs AES key wrap (RFC 3394).
// Providers are chosen by URI scheme through the registry in trust/index.ts.

export interface RootOfTrust {
  /** Stable, secret-free identifier of the root key, written into every envelope header. */
  readonly id: string
  /** Secret-free text for logs and `--print-config`, e.g. `file:/var/lib/macaw/root.key`. */
  readonly description: string
  /** Wraps a 32-byte data key under the root key (AES-256 key wrap, RFC 3394). */
  wrapKey(dataKey: Buffer): Promise<Buffer>
  /** Reverses wrapKey; throws if the blob was not wrapped by this root key. */
  unwrapKey(wrapped: Buffer): Promise<Buffer>
  close(): Promise<void>
}
