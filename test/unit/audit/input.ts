// One request's audit facts, as the tests of the trail, its events and its verifier build them.
import type { AuditInput } from '../../../src/audit/event.js'

export function auditInput(over: Partial<AuditInput> = {}): AuditInput {
  return {
    time: Date.UTC(2026, 11, 3, 7, 5, 9, 42),
    requestId: 'r',
    eventId: 'e',
    operation: 'GenerateMac',
    readOnly: true,
    region: 'us-east-1',
    sourceIp: '127.0.0.1',
    userAgent: 'test',
    identity: { type: 'Root', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLE000000000' },
    requestParameters: null,
    responseElements: null,
    ...over,
  }
}
