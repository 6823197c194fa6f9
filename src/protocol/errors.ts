// KMS error classes: one per AWS exception, named exactly as AWS names it on the wire.
// Status: every client error is 400 (recorded from AWS); server faults are 500 (recorded from AWS).

export abstract class KmsError extends Error {
  /** Wire `__type`; equals the class name. */
  abstract readonly code: string
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
export class ValidationException extends KmsError {
  readonly code = 'ValidationException'
}
export class SerializationException extends KmsError {
  readonly code = 'SerializationException'
}
export class UnknownOperationException extends KmsError {
  readonly code = 'UnknownOperationException'
}
export class MissingAuthenticationTokenException extends KmsError {
  readonly code = 'MissingAuthenticationTokenException'
}
export class IncompleteSignatureException extends KmsError {
  readonly code = 'IncompleteSignatureException'
}
export class InvalidSignatureException extends KmsError {
  readonly code = 'InvalidSignatureException'
}
export class UnrecognizedClientException extends KmsError {
  readonly code = 'UnrecognizedClientException'
}
export class AccessDeniedException extends KmsError {
  readonly code = 'AccessDeniedException'
}
export class ThrottlingException extends KmsError {
  readonly code = 'ThrottlingException'
}

// Modeled KMS exceptions.
export class NotFoundException extends KmsError {
  readonly code = 'NotFoundException'
}
export class DisabledException extends KmsError {
  readonly code = 'DisabledException'
}
export class KMSInvalidStateException extends KmsError {
  readonly code = 'KMSInvalidStateException'
}
export class InvalidKeyUsageException extends KmsError {
  readonly code = 'InvalidKeyUsageException'
}
export class IncorrectKeyException extends KmsError {
  readonly code = 'IncorrectKeyException'
}
export class InvalidCiphertextException extends KmsError {
  readonly code = 'InvalidCiphertextException'
}
export class KMSInvalidMacException extends KmsError {
  // AWS: the body is {"__type":"KMSInvalidMacException"}, built without a message.
  readonly code = 'KMSInvalidMacException'
}
export class AlreadyExistsException extends KmsError {
  readonly code = 'AlreadyExistsException'
}
export class InvalidAliasNameException extends KmsError {
  readonly code = 'InvalidAliasNameException'
}
export class InvalidArnException extends KmsError {
  readonly code = 'InvalidArnException'
}
export class InvalidGrantIdException extends KmsError {
  readonly code = 'InvalidGrantIdException'
}
export class InvalidGrantTokenException extends KmsError {
  readonly code = 'InvalidGrantTokenException'
}
export class InvalidMarkerException extends KmsError {
  readonly code = 'InvalidMarkerException'
}
export class LimitExceededException extends KmsError {
  readonly code = 'LimitExceededException'
}
export class MalformedPolicyDocumentException extends KmsError {
  readonly code = 'MalformedPolicyDocumentException'
}
export class TagException extends KmsError {
  readonly code = 'TagException'
}
export class UnsupportedOperationException extends KmsError {
  readonly code = 'UnsupportedOperationException'
}
export class InvalidImportTokenException extends KmsError {
  readonly code = 'InvalidImportTokenException'
}
export class ExpiredImportTokenException extends KmsError {
  readonly code = 'ExpiredImportTokenException'
}
export class IncorrectKeyMaterialException extends KmsError {
  readonly code = 'IncorrectKeyMaterialException'
}
export class DryRunOperationException extends KmsError {
  readonly code = 'DryRunOperationException'
  constructor() {
    super('The request would have succeeded, but the DryRun option is set.')
  }
}
export class KeyUnavailableException extends KmsError {
  readonly code = 'KeyUnavailableException'
  override readonly status = 500
}
export class DependencyTimeoutException extends KmsError {
  readonly code = 'DependencyTimeoutException'
  override readonly status = 500
}
export class KMSInternalException extends KmsError {
  /** What every internal fault says: the cause goes to the log only. */
  static readonly MESSAGE = 'An internal error occurred. Try again later.'
  readonly code = 'KMSInternalException'
  override readonly status = 500
}
