// Resource quotas of an account and Region (AWS: 100,000 KMS keys per account and Region, keys in
// every state counting; 50 aliases per key and 50,000 grants per key are checked where they are made).
// The key quota is checked by the store, atomically with the insert (Store.insertKey).
import { LimitExceededException } from '../protocol/errors.js'

/** The answer to a CreateKey or ReplicateKey past the key quota, with the account's key count. */
export function keyQuotaExceeded(quota: number, usage: number): LimitExceededException {
  // Shaped like AWS's alias-quota text; AWS's own words for the key quota are not recorded.
  return new LimitExceededException(`Keys per account quota for this account in this region is ${quota}, current usage is ${usage}.`)
}
