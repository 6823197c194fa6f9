// The event text is written member by member (event.ts): it must be the JSON of CloudTrail's event,
// members in CloudTrail's order, and its stored row must hold the columns verify derives from it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { auditEventText, auditIndex, auditRow, cloudTrailText, isoTime, storedEvent, type AuditIdentity, type AuditInput } from '../../../src/audit/event.js'
import { auditInput } from './input.js'

const ROOT: AuditIdentity = { type: 'Root', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLE000000000' }
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'

function input(over: Partial<AuditInput> = {}): AuditInput {
  return auditInput({
    requestId: 'f0b2c1d4-0000-4000-8000-000000000001',
    eventId: 'a1b2c3d4-0000-4000-8000-000000000002',
    userAgent: 'aws-cli/2.15.0',
    identity: ROOT,
    requestParameters: { keyId: KEY, macAlgorithm: 'HMAC_SHA_256' },
    keyArn: KEY,
    ...over,
  })
}

describe('audit event text', () => {
  it('is CloudTrail’s event, member for member and in its order', () => {
    const expected = {
      eventVersion: '1.11',
      userIdentity: { type: 'Root', principalId: '111122223333', arn: ROOT.arn, accountId: '111122223333', accessKeyId: 'AKIAEXAMPLE000000000' },
      eventTime: '2026-12-03T07:05:09.042Z',
      eventSource: 'kms.amazonaws.com',
      eventName: 'GenerateMac',
      awsRegion: 'us-east-1',
      sourceIPAddress: '127.0.0.1',
      userAgent: 'aws-cli/2.15.0',
      requestParameters: { keyId: KEY, macAlgorithm: 'HMAC_SHA_256' },
      responseElements: null,
      requestID: 'f0b2c1d4-0000-4000-8000-000000000001',
      eventID: 'a1b2c3d4-0000-4000-8000-000000000002',
      readOnly: true,
      resources: [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: KEY }],
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: '111122223333',
      eventCategory: 'Management',
    }
    assert.equal(auditEventText(input()), JSON.stringify(expected))
    const failed = JSON.parse(auditEventText(input({ errorCode: 'DisabledException', errorMessage: 'is disabled.', responseElements: { keyId: KEY } }))) as Record<string, unknown>
    assert.deepEqual(Object.keys(failed).slice(7, 11), ['userAgent', 'errorCode', 'errorMessage', 'requestParameters'])
    assert.equal(failed['errorMessage'], 'is disabled.')
    assert.equal(failed['responseElements'], null)
  })

  it('escapes whatever a request carries', () => {
    const nasty = 'a"b\\c\n\u0000\u2028é😀</script>'
    const event = JSON.parse(auditEventText(input({ userAgent: nasty, errorCode: 'X', errorMessage: nasty, requestParameters: { keyId: nasty } }))) as Record<string, unknown>
    assert.equal(event['userAgent'], nasty)
    assert.equal(event['errorMessage'], nasty)
    assert.deepEqual(event['requestParameters'], { keyId: nasty })
  })

  it('is JSON.stringify of the event object, whatever each member holds', () => {
    // The event as an object, as event.ts built it before it wrote the text member by member.
    const reference = (r: AuditInput): string => {
      const accountId = r.keyArn?.split(':')[4] ?? r.resource?.accountId ?? r.identity.accountId
      const resources =
        r.keyArn !== undefined
          ? [{ accountId, type: 'AWS::KMS::Key', ARN: r.keyArn }]
          : r.resource !== undefined
            ? [{ accountId: r.resource.accountId, type: r.resource.type, ARN: r.resource.arn }]
            : []
      const userIdentity = (JSON.parse(auditEventText(r)) as { userIdentity: unknown }).userIdentity
      return JSON.stringify({
        eventVersion: '1.11',
        userIdentity,
        eventTime: new Date(r.time).toISOString(),
        eventSource: r.eventSource ?? 'kms.amazonaws.com',
        eventName: r.operation,
        awsRegion: r.region,
        sourceIPAddress: r.sourceIp ?? '',
        userAgent: r.userAgent ?? '',
        ...(r.errorCode === undefined ? {} : { errorCode: r.errorCode, errorMessage: r.errorMessage ?? '' }),
        requestParameters: r.requestParameters,
        responseElements: r.errorCode === undefined ? r.responseElements : null,
        requestID: r.requestId,
        eventID: r.eventId,
        readOnly: r.readOnly,
        resources,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: accountId ?? '',
        eventCategory: 'Management',
      })
    }
    const strings = ['', 'plain', 'a"b', 'back\\slash', 'line\nbreak', '\u0000\u001f\u007f', '\u2028\u2029', 'é', '😀', '\ud800 lone', 'lone \udfff', '</script>']
    const times = [Date.UTC(2026, 11, 3, 7, 5, 9, 0), Date.UTC(2026, 11, 3, 7, 5, 9, 7), Date.UTC(2026, 11, 3, 7, 5, 9, 42), Date.UTC(2026, 11, 3, 7, 5, 9, 999), Date.UTC(2026, 11, 3, 7, 5, 10, 1), 0, -1, -1001, Date.UTC(10000, 0, 1), 1.5]
    const cases: Partial<AuditInput>[] = []
    for (const s of strings) {
      cases.push(
        { operation: s, region: s, sourceIp: s, userAgent: s, requestId: s, eventId: s, requestParameters: { keyId: s } },
        { errorCode: s, errorMessage: s, responseElements: { keyId: s } },
        { keyArn: s },
        { keyArn: `arn:aws:kms:${s}:${s}:key/${s}` },
        { keyArn: undefined, resource: { type: s, arn: s, accountId: s } },
      )
    }
    for (const time of times) cases.push({ time }, { time, readOnly: false, sourceIp: undefined, userAgent: undefined })
    for (const over of cases) {
      const r = input(over)
      assert.equal(auditEventText(r), reference(r), JSON.stringify(over))
      // What is stored (the compact form) and its row's columns render the same text back.
      assert.equal(cloudTrailText(auditRow(r, storedEvent(r))), auditEventText(r), JSON.stringify(over))
    }
  })

  it('stores the compact form, well under the whole text, and renders it back', () => {
    const r = input()
    const stored = storedEvent(r)
    const whole = auditEventText(r)
    assert.ok(!stored.startsWith('{'))
    assert.ok(Buffer.byteLength(stored) < 0.6 * Buffer.byteLength(whole), `${Buffer.byteLength(stored)} of ${Buffer.byteLength(whole)} bytes`)
    for (const member of ['eventVersion', 'eventTime', 'eventName', 'eventID', 'resources', 'recipientAccountId', 'eventCategory', 'AWS::KMS::Key', r.eventId]) {
      assert.ok(!stored.includes(member), member)
    }
    assert.equal(cloudTrailText(auditRow(r, stored)), whole)
    // Records that hold their whole event (written before the compact form, summaries) are their own text.
    assert.equal(cloudTrailText(auditRow(r, whole)), whole)
  })

  it('refuses a compact record that is not well formed', () => {
    const r = input()
    const row = auditRow(r, storedEvent(r))
    assert.throws(() => cloudTrailText({ ...row, event: row.event.split('\n').slice(0, -1).join('\n') }), /malformed audit record/)
    // Its resources are those of the key in its key ARN column: without one it cannot be rendered.
    const { keyArn: _, ...withoutKey } = row
    assert.throws(() => cloudTrailText(withoutKey), /malformed audit record/)
  })

  it('writes times as toISOString does', () => {
    const start = Date.UTC(2026, 11, 31, 23, 59, 58, 990)
    for (let ms = start; ms < start + 2030; ms += 7) assert.equal(isoTime(ms), new Date(ms).toISOString())
    for (const ms of [0, -1, -999, -1000, -1001, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), 8.64e15, -8.64e15, 0.25]) {
      assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms))
    }
  })

  it('stores the columns verify derives from the text, for every kind of caller and record', () => {
    const cases: Partial<AuditInput>[] = [
      {},
      { identity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', accessKeyId: 'AKIAALICE', userName: 'alice' } },
      {
        identity: {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::111122223333:assumed-role/r/s',
          accountId: '111122223333',
          accessKeyId: 'ASIAX',
          principalId: 'AROAX:s',
          sessionContext: { attributes: { creationDate: '2026-12-03T07:00:00Z', mfaAuthenticated: 'false' } },
        },
      },
      { identity: { type: 'WebIdentityUser', principalId: 'issuer:sub', userName: 'sub', identityProvider: 'issuer' }, keyArn: undefined },
      { identity: { type: 'Unknown', accessKeyId: 'AKIAUNKNOWN' }, errorCode: 'UnrecognizedClientException', errorMessage: 'no', requestParameters: null },
      { identity: { type: 'Unknown' }, keyArn: undefined, errorCode: 'IncompleteSignatureException', requestParameters: null },
      {
        eventSource: 'sts.amazonaws.com',
        operation: 'AssumeRole',
        keyArn: undefined,
        resource: { type: 'AWS::IAM::Role', arn: 'arn:aws:iam::444455556666:role/r', accountId: '444455556666' },
      },
      { keyArn: 'not-an-arn' },
      { keyArn: '' },
    ]
    for (const over of cases) {
      const record = input(over)
      const text = auditEventText(record)
      assert.deepEqual(auditRow(record, text), auditIndex(JSON.parse(text) as Record<string, unknown>, text), JSON.stringify(over))
    }
  })
})
