// AWS KMS API Reference > ScheduleKeyDeletion: a 7..30 day window (default
// 30); the sweeper deletes the key and its aliases when it ends.
import { ALL_STATES, transition } from '../keys/lifecycle.js'
import { epochSeconds } from '../keys/metadata.js'
import { ValidationException } from '../protocol/errors.js'
import { int, optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

const DAY_MS = 86_400_000
const MIN_DAYS = 7
const MAX_DAYS = 30

export const scheduleKeyDeletion = defineOperation({
  name: 'ScheduleKeyDeletion',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  request: { KeyId: keyId, PendingWindowInDays: optional(int({ min: 1, max: 365 })) },
  async run(ctx, req) {
    const days = req.PendingWindowInDays ?? MAX_DAYS
    // Inside the model's 1..365 (which the parser checks, with the model's text), AWS's own rule
    // and words (test/fixtures/aws-texts.json).
    if (days < MIN_DAYS || days > MAX_DAYS) throw new ValidationException(`PendingWindowInDays must be between ${MIN_DAYS} and ${MAX_DAYS}`)
    const values = new Map([['kms:schedulekeydeletionpendingwindowindays', [String(days)]]])
    const { record, arn } = await ctx.updateKey(req.KeyId, { values }, async (r, keyArn) => {
      const state = transition('ScheduleKeyDeletion', keyArn, r.state)
      // A multi-Region primary with replicas waits for them (PendingReplicaDeletion), with no
      // deletion date: its own waiting period begins when its last replica is deleted.
      if (r.multiRegion && (r.primaryRegion ?? r.region) === r.region) {
        const replicas = (await ctx.records.regionsOf(r)).filter((k) => k.region !== r.region)
        if (replicas.length > 0) {
          const { deletionDate: _none, ...rest } = r
          return { ...rest, state: 'PendingReplicaDeletion', pendingWindowDays: days }
        }
      }
      return { ...r, state, deletionDate: ctx.now + days * DAY_MS }
    })
    // AWS: DeletionDate "does not appear" for a primary that waits for its replicas.
    return {
      KeyId: arn,
      ...(record.deletionDate === undefined ? {} : { DeletionDate: epochSeconds(record.deletionDate) }),
      KeyState: record.state,
      PendingWindowInDays: days,
    }
  },
})
