// What an operation is (name, IAM action, request parser, handler) and the per-request context
// it runs with. The shared `ctx.useKey` enforces resolution, authorization and key state, so no
// handler repeats that code.
import type { RequestFacts, RequestValues } from '../auth/context.js'
import type { Caller } from '../auth/principals.js'
import type { AuthorizedKey, KeyIdForms, UseKeyOptions } from '../keys/access.js'
import type { KeyState } from '../domain.js'
import type { CachedKey } from '../keys/cache.js'
import type { KeyLocation } from '../keys/resolve.js'
import type { HandlerServices } from './context.js'
import type { Records } from './records.js'
import type { KeyRecord } from '../store/store.js'
import { auditedMembers } from '../audit/event.js'
import { compileRequest, type Members, type StructOf } from '../protocol/validate.js'

export interface OperationContext {
  readonly requestId: string
  readonly caller: Caller
  /** The region of the request's credential scope. */
  readonly region: string
  /** Request time, epoch ms. */
  readonly now: number
  readonly partition: string
  /** Resolves, authorizes and state-checks a key for use; served from the key cache. */
  useKey(keyId: string, options?: UseKeyOptions): Promise<CachedKey>
  /**
   * Read-modify-write of a key record with optimistic concurrency: loads the current record from
   * the store, checks access and state, applies `change`, and retries if another writer won.
   */
  updateKey(
    keyId: string,
    options: UseKeyOptions,
    change: (record: KeyRecord, arn: string) => KeyRecord | Promise<KeyRecord>,
  ): Promise<{ record: KeyRecord; arn: string }>
  /**
   * The key a KeyId names, read afresh and not authorized (RetireGrant's permission is the grant's);
   * NotFoundException if it does not exist or its deletion window has passed.
   */
  readKey(keyId: string, forms: 'any' | 'idOrArn'): Promise<{ record: KeyRecord; arn: string }>
  /**
   * Changes a key the request was already authorized for (another Region of a multi-Region key),
   * with the same re-read-and-retry as updateKey; undefined if the key is gone.
   */
  rewriteKey(key: { accountId: string; region: string; keyId: string }, change: (record: KeyRecord) => KeyRecord): Promise<KeyRecord | undefined>
  /** Resolves a KeyId to its location without loading or authorizing the key. */
  locateKey(keyId: string, forms: 'any' | 'idOrArn'): Promise<KeyLocation>
  /** What policies may see of the request (aws:SourceIp, aws:CurrentTime, ...). */
  readonly facts: RequestFacts
  /**
   * Authorizes an action that names no key (CreateKey, ListKeys, ...) by the caller's identity
   * policy; `resource` defaults to `arn:<partition>:kms:<region>:<account>:*`.
   */
  authorizeAccount(action: string, resource?: string, values?: RequestValues): void
  /** Would the key policy and identity policy alone (no grants) allow `action`? */
  isAllowedByPolicy(key: AuthorizedKey, action: string, values?: RequestValues): Promise<boolean>
  /** Names the key the request is about, for its audit record (CreateKey, RetireGrant). */
  noteKey(arn: string): void
  /** Throws DryRunOperationException. */
  dryRunSucceeded(): never
  /** The keys, aliases and grants a handler lists, creates and deletes (records.ts). */
  readonly records: Records
  /** Services the handlers need, the store excepted (operations/context.ts). */
  readonly services: HandlerServices
}

/** An operation as the dispatcher sees it: its request type is erased behind `execute`. */
export interface Operation {
  readonly name: string
  readonly action: string
  /** Read-only operations are marked so in audit records. */
  readonly readOnly: boolean
  /** The request members its audit records show (audit/event.ts). */
  readonly auditedMembers: readonly string[]
  /** May it act on a key of another account (named by ARN)? */
  readonly crossAccount: boolean
  /** The KeyId forms its key member accepts (undefined: it names no key). */
  readonly keyIdForms: KeyIdForms | undefined
  /** The key states it proceeds in (undefined: it names no key); others get the state's error. */
  readonly usableIn: readonly KeyState[] | undefined
  /** Parses the JSON body into the typed request (ValidationException...) and runs the handler. */
  execute(ctx: OperationContext, body: unknown): Promise<object>
}

/**
 * Declares an operation from its request members (compiled once into a parser, see
 * protocol/validate.ts) and its handler, which only ever sees the typed request.
 */
export function defineOperation<M extends Members, Res extends object>(op: {
  name: string
  action?: string
  readOnly?: boolean
  crossAccount?: boolean
  /** For an operation on a key: which KeyId forms it accepts (each operation's KeyId documentation in the model). */
  keyIdForms?: KeyIdForms
  /** For an operation on a key: the states it proceeds in (AWS KMS Developer Guide, Key states; test/fixtures/key-states.json). */
  usableIn?: readonly KeyState[]
  request: M
  run(ctx: OperationContext, req: StructOf<M>): Promise<Res> | Res
}): Operation {
  const parse = compileRequest(op.request)
  return Object.freeze({
    name: op.name,
    action: op.action ?? `kms:${op.name}`,
    readOnly: op.readOnly ?? false,
    auditedMembers: auditedMembers(Object.keys(op.request)),
    crossAccount: op.crossAccount ?? false,
    keyIdForms: op.keyIdForms,
    usableIn: op.usableIn,
    execute: async (ctx: OperationContext, body: unknown) => op.run(ctx, parse(body)),
  })
}
