// KMS error classes: one per AWS exception, named exactly as AWS names it on the wire.
// Status: every client error is 400 (recorded from AWS); server faults are 500 (recorded from AWS).

/** Every `__type` this service sends: a closed list, so that a misspelt one does not compile. */
export const ERROR_CODES = [
  'ValidationException',
  'SerializationException',
  'UnknownOperationException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'AccessDeniedException',
  'ThrottlingException',
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'InvalidKeyUsageException',
  'IncorrectKeyException',
  'InvalidCiphertextException',
  'KMSInvalidMacException',
  'AlreadyExistsException',
  'InvalidAliasNameException',
  'InvalidArnException',
  'InvalidGrantIdException',
  'InvalidGrantTokenException',
  'InvalidMarkerException',
  'LimitExceededException',
  'MalformedPolicyDocumentException',
  'TagException',
  'UnsupportedOperationException',
  'InvalidImportTokenException',
  'ExpiredImportTokenException',
  'IncorrectKeyMaterialException',
  'CustomKeyStoreNotFoundException',
  'CloudHsmClusterNotFoundException',
  'XksProxyUriUnreachableException',
  'DryRunOperationException',
  'KeyUnavailableException',
  'DependencyTimeoutException',
  'KMSInternalException',
  // CloudTrail's LookupEvents (same JSON protocol, same error shape).
  'InvalidLookupAttributesException',
  'InvalidTimeRangeException',
  'InvalidMaxResultsException',
  'InvalidNextTokenException',
  'InvalidEventCategoryException',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export abstract class KmsError extends Error {
  /** Wire `__type`; equals the class name. */
  abstract readonly code: ErrorCode
  readonly status: number = 400
  /**
   * Some AWS errors carry no message member at all (KMSInvalidMacException, RotateKeyOnDemand's
   * UnsupportedOperationException): an error built without a message is sent without one.
   */
  readonly hasMessage: boolean
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message ?? '', options)
    this.name = new.target.name
    this.hasMessage = message !== undefined
  }
}

// Framework and authentication errors (not in the KMS model).
/** A request member fails the model's constraints (length, range, pattern, enum, required), or a rule AWS states in the same words. */
export class ValidationException extends KmsError {
  readonly code = 'ValidationException'
}
/** The body is not one JSON object in UTF-8, or a member has the wrong JSON type. */
export class SerializationException extends KmsError {
  readonly code = 'SerializationException'
}
/** Not POST, not an x-amz-json content type, or an X-Amz-Target that names no operation of this service. */
export class UnknownOperationException extends KmsError {
  readonly code = 'UnknownOperationException'
}
/** The request carries no SigV4 signature at all. */
export class MissingAuthenticationTokenException extends KmsError {
  readonly code = 'MissingAuthenticationTokenException'
}
/** The Authorization header or the signing date is malformed or incomplete. */
export class IncompleteSignatureException extends KmsError {
  readonly code = 'IncompleteSignatureException'
}
/** The signature does not match, or its scope (date, Region, service, terminator) is wrong. */
export class InvalidSignatureException extends KmsError {
  readonly code = 'InvalidSignatureException'
}
/**
 * The access key id is unknown or inactive, or its session token is missing, forged, of a deleted
 * role, or sent with long-term credentials.
 */
export class UnrecognizedClientException extends KmsError {
  readonly code = 'UnrecognizedClientException'
}
/** The session token of temporary credentials has expired. */
export class ExpiredTokenException extends KmsError {
  readonly code = 'ExpiredTokenException'
}
/** No policy or grant allows the action, or one denies it (auth/authorize.ts accessDenied). */
export class AccessDeniedException extends KmsError {
  readonly code = 'AccessDeniedException'
}
/** A request quota (--throttle) or the bound on RSA key generation is reached. */
export class ThrottlingException extends KmsError {
  readonly code = 'ThrottlingException'
}

// Modeled KMS exceptions.
/** The key, alias or policy named does not exist (or its deletion window has passed). */
export class NotFoundException extends KmsError {
  readonly code = 'NotFoundException'
}
/** The key is Disabled. */
export class DisabledException extends KmsError {
  readonly code = 'DisabledException'
}
/** The key is in a state the operation does not accept (keys/lifecycle.ts stateError). */
export class KMSInvalidStateException extends KmsError {
  readonly code = 'KMSInvalidStateException'
}
/** The key's usage or spec does not fit the operation or algorithm. */
export class InvalidKeyUsageException extends KmsError {
  readonly code = 'InvalidKeyUsageException'
}
/** Decrypt or ReEncrypt names a key that cannot decrypt (an HMAC key). */
export class IncorrectKeyException extends KmsError {
  readonly code = 'IncorrectKeyException'
}
/** A ciphertext that this service never produced (nothing here encrypts). */
export class InvalidCiphertextException extends KmsError {
  readonly code = 'InvalidCiphertextException'
}
/** VerifyMac: the MAC does not verify. Sent without a message, as AWS sends it. */
export class KMSInvalidMacException extends KmsError {
  // AWS: the body is {"__type":"KMSInvalidMacException"}, built without a message.
  readonly code = 'KMSInvalidMacException'
}
/** An alias or a replica that already exists. */
export class AlreadyExistsException extends KmsError {
  readonly code = 'AlreadyExistsException'
}
/** An alias name outside AWS's rules (prefix, characters, reserved names). */
export class InvalidAliasNameException extends KmsError {
  readonly code = 'InvalidAliasNameException'
}
/** An ARN that is malformed or names another partition, service or resource type. */
export class InvalidArnException extends KmsError {
  readonly code = 'InvalidArnException'
}
/** A grant id that names no grant of the key. */
export class InvalidGrantIdException extends KmsError {
  readonly code = 'InvalidGrantIdException'
}
/** A grant token that is malformed. */
export class InvalidGrantTokenException extends KmsError {
  readonly code = 'InvalidGrantTokenException'
}
/** A pagination marker this service did not issue. */
export class InvalidMarkerException extends KmsError {
  readonly code = 'InvalidMarkerException'
}
/** A quota is reached (keys per Region, aliases or grants per key, policy size). */
export class LimitExceededException extends KmsError {
  readonly code = 'LimitExceededException'
}
/** A key policy that does not parse, has invalid principals, or would lock the caller out. */
export class MalformedPolicyDocumentException extends KmsError {
  readonly code = 'MalformedPolicyDocumentException'
}
/** A tag key or value outside the rules (reserved aws: prefix, duplicates). */
export class TagException extends KmsError {
  readonly code = 'TagException'
}
/** An operation HMAC keys do not support (rotation, non-HMAC key specs, custom key stores). */
export class UnsupportedOperationException extends KmsError {
  readonly code = 'UnsupportedOperationException'
}
/** An import token that is not the key's latest. */
export class InvalidImportTokenException extends KmsError {
  readonly code = 'InvalidImportTokenException'
}
/** An import token (and its wrapping key) past its 24 hours. */
export class ExpiredImportTokenException extends KmsError {
  readonly code = 'ExpiredImportTokenException'
}
/** Imported material that differs from the key's earlier material. */
export class IncorrectKeyMaterialException extends KmsError {
  readonly code = 'IncorrectKeyMaterialException'
}
/** A custom key store id or name that names none (this service has no custom key stores). */
export class CustomKeyStoreNotFoundException extends KmsError {
  readonly code = 'CustomKeyStoreNotFoundException'
}
/** CreateCustomKeyStore for an AWS CloudHSM cluster: no such cluster is reachable from this service. */
export class CloudHsmClusterNotFoundException extends KmsError {
  readonly code = 'CloudHsmClusterNotFoundException'
}
/** CreateCustomKeyStore for an external key store: its proxy cannot be reached from this service. */
export class XksProxyUriUnreachableException extends KmsError {
  readonly code = 'XksProxyUriUnreachableException'
}
/** DryRun was set and the request would have succeeded. */
export class DryRunOperationException extends KmsError {
  readonly code = 'DryRunOperationException'
  constructor() {
    super('The request would have succeeded, but the DryRun option is set.')
  }
}
/** The key material cannot be used right now (5xx; SDKs retry). */
export class KeyUnavailableException extends KmsError {
  readonly code = 'KeyUnavailableException'
  override readonly status = 500
}
/** The store does not answer (5xx; SDKs retry). */
export class DependencyTimeoutException extends KmsError {
  readonly code = 'DependencyTimeoutException'
  override readonly status = 500
}
/** Our fault: an unexpected error, or an audit record that cannot be stored (5xx). */
export class KMSInternalException extends KmsError {
  /** What every internal fault says: the cause goes to the log only. */
  static readonly MESSAGE = 'An internal error occurred. Try again later.'
  readonly code = 'KMSInternalException'
  override readonly status = 500
}

// CloudTrail exceptions (LookupEvents, cloudtrail/lookup-events.ts).
/** More than one lookup attribute, an unknown AttributeKey, or a value outside 1 to 2000 characters. */
export class InvalidLookupAttributesException extends KmsError {
  readonly code = 'InvalidLookupAttributesException'
}
/** StartTime after EndTime, or a time that is not a number of epoch seconds. */
export class InvalidTimeRangeException extends KmsError {
  readonly code = 'InvalidTimeRangeException'
}
/** MaxResults outside 1 to 50. */
export class InvalidMaxResultsException extends KmsError {
  readonly code = 'InvalidMaxResultsException'
}
/** A NextToken this service did not issue, or one issued for other parameters. */
export class InvalidNextTokenException extends KmsError {
  readonly code = 'InvalidNextTokenException'
}
/** An EventCategory other than `insight`. */
export class InvalidEventCategoryException extends KmsError {
  readonly code = 'InvalidEventCategoryException'
}
