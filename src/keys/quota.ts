// Resource quotas of an account and Region (AWS: 100,000 KMS keys per account and Region, keys in
// every state counting; 50 aliases per key and 50,000 grants per key are checked where they are made).
import { LimitExceededException } from '../protocol/errors.js'
import type { Store } from '../store/store.js'

/**
 * LimitExceededException if the account already has `quota` keys in the Region. Not atomic with
 * the insert that follows: concurrent CreateKey calls may overshoot by the number in flight.
 */
export async function assertKeyQuota(store: Pick<Store, 'countKeys'>, accountId: string, region: string, quota: number): Promise<void> {
  const usage = await store.countKeys({ accountId, region })
  if (usage >= quota) {
    // Shaped like AWS's alias-quota text; AWS's own words for the key quota are not recorded.
    throw new LimitExceededException(`Keys per account quota for this account in this region is ${quota}, current usage is ${usage}.`)
  }
}
