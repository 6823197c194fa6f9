// AWS KMS API Reference > GetKeyLastUsage: the key's last successful cryptographic operation
// (GenerateMac or VerifyMac for an HMAC key), with its audit event id and request id, from
// keys/last-usage.ts. Not cross-account, as AWS documents; any key state.
import { ALL_STATES } from '../keys/lifecycle.js'
import { epochSeconds } from '../keys/metadata.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const getKeyLastUsage = defineOperation({
  name: 'GetKeyLastUsage',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  request: { KeyId: keyId },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    const { record } = key
    const last = await ctx.services.lastUsage.get(key.arn, record.creationDate)
    return {
      // The model documents this KeyId as "the globally unique identifier for the KMS key".
      KeyId: record.keyId,
      ...(last === undefined
        ? {}
        : {
            KeyLastUsage: {
              Operation: last.operation,
              Timestamp: epochSeconds(last.time),
              ...(last.eventId === undefined ? {} : { CloudTrailEventId: last.eventId }),
              KmsRequestId: last.requestId,
            },
          }),
      TrackingStartDate: epochSeconds(ctx.services.lastUsage.trackingStartFor(record.creationDate)),
      KeyCreationDate: epochSeconds(record.creationDate),
    }
  },
})
