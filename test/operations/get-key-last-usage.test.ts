// GetKeyLastUsage: the last successful GenerateMac or VerifyMac of a key, with the event id of its
// audit record and the request id its client got; nothing before the first use; kept across a
// restart.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DescribeKeyCommand, GenerateMacCommand, GetKeyLastUsageCommand, VerifyMacCommand } from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'
import { macaw } from '../helpers/process.js'

describe('GetKeyLastUsage', () => {
  it("reports the key's last successful MAC operation, its audit event and request ids", async (t) => {
    const first = await startKms(t, { keepDataDir: true })
    const { kms, dataDir } = first
    const key = await hmacKey(kms)
    const created = (await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.CreationDate
    const before = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.arn }))
    assert.equal(before.KeyId, key.keyId)
    assert.equal(before.KeyLastUsage, undefined)
    assert.deepEqual(before.KeyCreationDate, created)
    assert.ok((before.TrackingStartDate?.getTime() ?? 0) >= (created?.getTime() ?? Infinity))

    const mac = await kms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    const used = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.keyId }))
    assert.equal(used.KeyLastUsage?.Operation, 'GenerateMac')
    assert.equal(used.KeyLastUsage?.KmsRequestId, mac.$metadata.requestId)
    assert.ok(Math.abs((used.KeyLastUsage?.Timestamp?.getTime() ?? 0) - Date.now()) < 10_000)
    // A failed operation is not a use; a VerifyMac is.
    await rejectsWith(kms.send(new VerifyMacCommand({ KeyId: key.keyId, Message: Buffer.from('other'), MacAlgorithm: 'HMAC_SHA_256', Mac: mac.Mac })), 'KMSInvalidMacException')
    assert.equal((await kms.send(new GetKeyLastUsageCommand({ KeyId: key.keyId }))).KeyLastUsage?.Operation, 'GenerateMac')
    const verified = await kms.send(new VerifyMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac: mac.Mac }))
    const last = (await kms.send(new GetKeyLastUsageCommand({ KeyId: key.keyId }))).KeyLastUsage
    assert.equal(last?.Operation, 'VerifyMac')
    assert.equal(last?.KmsRequestId, verified.$metadata.requestId)
    await rejectsWith(kms.send(new GetKeyLastUsageCommand({ KeyId: 'alias/none' })), 'InvalidArnException', 'Key Aliases are not supported for this operation.')

    // Kept across a restart, and the event id is the VerifyMac's audit record.
    await first.server.close()
    const second = await startKms(t, { dataDir })
    const kept = (await second.kms.send(new GetKeyLastUsageCommand({ KeyId: key.keyId }))).KeyLastUsage
    assert.deepEqual(kept, last)
    const records = (await macaw(dataDir, ['audit', 'query', '--event-name', 'VerifyMac'])).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { eventID: string; requestID: string })
    const record = records.find((r) => r.requestID === verified.$metadata.requestId)
    assert.equal(record?.eventID, last?.CloudTrailEventId)
  })
})
