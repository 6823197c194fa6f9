// Checks on a key policy document that need no evaluation: size (32 KB quota) and JSON syntax.
// Policy evaluation itself (issue 3) is not implemented yet; see docs/operations.md.
import { LimitExceededException, MalformedPolicyDocumentException } from '../protocol/errors.js'

export const MAX_POLICY_BYTES = 32768

export function checkKeyPolicy(text: string): void {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new LimitExceededException(`The key policy exceeds the quota of ${MAX_POLICY_BYTES} bytes.`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new MalformedPolicyDocumentException('The policy is not valid JSON.')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new MalformedPolicyDocumentException('The policy must be a JSON object.')
  }
  const statement = (doc as Record<string, unknown>)['Statement']
  if (statement === undefined) {
    throw new MalformedPolicyDocumentException('The policy must contain a Statement.')
  }
}
