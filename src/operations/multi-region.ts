// What ReplicateKey and UpdatePrimaryRegion share (AWS KMS Developer Guide, Multi-Region keys). A replica shares the key id,
// spec, usage, origin and material (each Region stores its own sealed copy, bound to its own ARN);
// policy, description, tags, aliases, grants and state are its own.
import { UnsupportedOperationException } from '../protocol/errors.js'
import { str } from '../protocol/validate.js'
import type { KeyView } from '../store/store.js'

export const regionName = str({ min: 1, max: 32, pattern: /^([a-z]+-){2,3}\d+$/ })

export function assertPrimary(record: KeyView, arn: string): void {
  if (!record.multiRegion) throw new UnsupportedOperationException(`${arn} is not a multi-region key.`)
  if ((record.primaryRegion ?? record.region) !== record.region) {
    throw new UnsupportedOperationException(`${arn} is not a multi-region primary key.`)
  }
}
