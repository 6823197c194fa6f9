// The key-state table: which states each operation accepts, the transitions that change state,
// and the error each refused state gives (AWS KMS Developer Guide, Key states; test/fixtures/key-states.json). Handlers ask this table; they don't
// hard-code rules.
import { KEY_STATES, type KeyState } from '../domain.js'
import { DisabledException, KMSInvalidStateException, type KmsError } from '../protocol/errors.js'
import type { KeyView } from '../store/store.js'

export const ALL_STATES: readonly KeyState[] = KEY_STATES

export const TRANSITIONS = {
  EnableKey: { from: ['Enabled', 'Disabled'], to: 'Enabled' },
  DisableKey: { from: ['Enabled', 'Disabled'], to: 'Disabled' },
  ScheduleKeyDeletion: {
    from: ['Enabled', 'Disabled', 'PendingImport', 'Creating'],
    to: 'PendingDeletion',
  },
  // AWS: CancelKeyDeletion leaves the key Disabled, not Enabled.
  CancelKeyDeletion: { from: ['PendingDeletion', 'PendingReplicaDeletion'], to: 'Disabled' },
} as const satisfies Record<string, { from: readonly KeyState[]; to: KeyState }>

/** States in which each key operation proceeds; every other state gets `stateError`. */
// The states an operation accepts a key in are declared on the operation (defineOperation's
// usableIn); these are the lists most of them share (AWS KMS Developer Guide, Key states; test/fixtures/key-states.json).
/** Cryptographic operations, CreateGrant, UpdatePrimaryRegion. */
export const CRYPTO_STATES: readonly KeyState[] = ['Enabled', 'Updating']
/** Operations that change a key's own attributes (description, tags, aliases). */
export const MUTABLE_STATES: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingImport', 'Creating', 'Updating']
/** The key rotation operations (refused for HMAC keys after the state check). */
export const ROTATION_STATES: readonly KeyState[] = ['Enabled', 'PendingImport']

/** The error AWS gives when a key in `state` cannot serve the request (AWS KMS Developer Guide, Key states; test/fixtures/key-states.json). */
export function stateError(arn: string, state: KeyState): KmsError {
  switch (state) {
    case 'Disabled':
      return new DisabledException(`${arn} is disabled.`)
    case 'PendingDeletion':
    case 'PendingReplicaDeletion':
      return new KMSInvalidStateException(`${arn} is pending deletion.`)
    case 'PendingImport':
      return new KMSInvalidStateException(`${arn} is pending import.`)
    case 'Creating':
      return new KMSInvalidStateException(`${arn} is creating.`)
    case 'Updating':
      return new KMSInvalidStateException(`${arn} is updating.`)
    case 'Unavailable':
      return new KMSInvalidStateException(`${arn} is unavailable.`)
    case 'Enabled':
      return new KMSInvalidStateException(`${arn} is enabled.`)
  }
}

export function assertUsable(arn: string, state: KeyState, usable: readonly KeyState[]): void {
  if (!usable.includes(state)) throw stateError(arn, state)
}

/** Applies a transition or throws the state error for the key's current state. */
export function transition(
  name: keyof typeof TRANSITIONS,
  arn: string,
  state: KeyState,
): KeyState {
  const t = TRANSITIONS[name]
  if ((t.from as readonly KeyState[]).includes(state)) return t.to
  if (name === 'CancelKeyDeletion') {
    return failNotPendingDeletion(arn)
  }
  throw stateError(arn, state)
}

function failNotPendingDeletion(arn: string): never {
  throw new KMSInvalidStateException(`${arn} is not pending deletion.`)
}

/** Imported material whose ValidTo has passed (the key is PendingImport from that instant). */
export function hasExpiredMaterial(record: KeyView, now: number): boolean {
  return record.validTo !== undefined && record.material !== undefined && record.validTo <= now
}

/**
 * A key without material (imported material expired or deleted, or never imported): PendingImport,
 * unless it is being deleted (PendingDeletion, or a primary waiting for its replicas).
 */
export function withoutMaterial<R extends KeyView>(record: R): R {
  const { material: _m, validTo: _v, expirationModel: _e, ...rest } = record
  const deleting = record.state === 'PendingDeletion' || record.state === 'PendingReplicaDeletion'
  // What is left out is optional in every key record.
  return { ...rest, state: deleting ? record.state : 'PendingImport' } as R
}
