// CloudTrail's LookupEvents over the audit trail, on the default deployment (two workers), through
// the JS SDK's CloudTrail client, boto3's paginator and the AWS CLI, unchanged: paging, every
// lookup attribute, the time range, each error, the identity policy, and one account never seeing
// another's records.
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, it } from 'node:test'
import { CloudTrailClient, LookupEventsCommand, type Event, type LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail'
import { DisableKeyCommand, GenerateMacCommand } from '@aws-sdk/client-kms'
import { hmacKey, rejectsWith } from '../helpers/keys.js'
import { createUser, credentialsOf, removeDataDir, spawnServer } from '../helpers/process.js'
import { PYTHON, python } from '../helpers/python.js'
import { ACCOUNT, kmsClient, REGION, ROOT, startKms } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const OTHER = '444455556666'
const AWS_CLI = ['/usr/bin/aws', 'aws'].find((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0)

function cloudtrail(url: string, credentials: { accessKeyId: string; secretAccessKey: string } = ROOT): CloudTrailClient {
  return new CloudTrailClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 })
}

/** Every page of one lookup, MaxResults at a time. */
async function allPages(client: CloudTrailClient, input: LookupEventsCommandInput): Promise<{ events: Event[]; pages: number }> {
  const events: Event[] = []
  let pages = 0
  let NextToken: string | undefined
  do {
    const out = await client.send(new LookupEventsCommand({ ...input, ...(NextToken === undefined ? {} : { NextToken }) }))
    events.push(...(out.Events ?? []))
    NextToken = out.NextToken
    pages++
    assert.ok(pages < 100, 'paging ends')
  } while (NextToken !== undefined)
  return { events, pages }
}

/** For each [key, value]: the event ids of every page of 2, newest first (boto3's paginator). */
const BOTO3 = `
import datetime, json, sys, boto3
url, access, secret, start, end, attributes = sys.argv[1:7]
ct = boto3.client('cloudtrail', endpoint_url=url, region_name='us-east-1', aws_access_key_id=access, aws_secret_access_key=secret)
out = {}
for key, value in json.loads(attributes):
    pages = ct.get_paginator('lookup_events').paginate(
        LookupAttributes=[{'AttributeKey': key, 'AttributeValue': value}],
        StartTime=datetime.datetime.fromtimestamp(float(start), datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(float(end), datetime.timezone.utc),
        PaginationConfig={'PageSize': 2})
    events = [e for page in pages for e in page['Events']]
    assert all(json.loads(e['CloudTrailEvent'])['eventID'] == e['EventId'] for e in events)
    out[key] = [e['EventId'] for e in events]
print(json.dumps(out))
`

describe('CloudTrail LookupEvents on the default deployment', { concurrency: true }, () => {
  it('pages, filters by every attribute and time, refuses bad input, and keeps accounts apart', { timeout: 180_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-cloudtrail-'))
    t.after(() => removeDataDir(dir))
    const server = await spawnServer(dir, { MACAW_WORKERS: '2' })
    const root = kmsClient(server.url, { newConnections: true })
    const trail = cloudtrail(server.url)
    t.after(() => {
      root.destroy()
      trail.destroy()
    })
    const auditor = await createUser(dir, ACCOUNT, 'auditor', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['cloudtrail:LookupEvents', 'kms:*'], Resource: '*' }] })
    const alice = await createUser(dir, ACCOUNT, 'alice', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] })
    const bob = await createUser(dir, OTHER, 'bob', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['cloudtrail:LookupEvents', 'kms:*'], Resource: '*' }] })

    const key = await hmacKey(root)
    // Whole seconds: botocore and the CLI send timestamps as whole epoch seconds.
    const start = Math.floor(Date.now() / 1000) * 1000
    for (let i = 0; i < 5; i++) await root.send(new GenerateMacCommand({ KeyId: key.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))
    const aliceKms = kmsClient(server.url, { credentials: credentialsOf(alice) })
    const bobKms = kmsClient(server.url, { credentials: credentialsOf(bob) })
    t.after(() => {
      aliceKms.destroy()
      bobKms.destroy()
    })
    await aliceKms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))
    await root.send(new DisableKeyCommand({ KeyId: key.keyId }))
    const bobKey = await hmacKey(bobKms)
    await bobKms.send(new GenerateMacCommand({ KeyId: bobKey.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))
    const end = Math.ceil(Date.now() / 1000) * 1000
    // No lookup (recorded too) before the end of the range.
    await new Promise((resolve) => setTimeout(resolve, end - Date.now() + 5))

    // Both workers' records are flushed within their interval.
    await waitFor('the DisableKey record', async () => (await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'DisableKey' }] }))).Events?.length === 1, { timeoutMs: 10_000, everyMs: 50 })

    // Paging: two at a time gives the same events, newest first, as one call of 50. The range ends
    // before the first lookup, whose own records would otherwise join the later calls.
    const one = (await trail.send(new LookupEventsCommand({ StartTime: new Date(start - 1000), EndTime: new Date(end) }))).Events ?? []
    const paged = await allPages(trail, { StartTime: new Date(start - 1000), EndTime: new Date(end), MaxResults: 2 })
    assert.deepEqual(paged.events.map((e) => e.EventId), one.map((e) => e.EventId))
    assert.ok(paged.pages >= Math.ceil(one.length / 2), `${paged.pages} pages of 2 for ${one.length} events`)
    const times = one.map((e) => e.EventTime?.getTime() ?? 0)
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first')
    const names = one.map((e) => e.EventName)
    assert.equal(names.filter((n) => n === 'GenerateMac').length, 6, 'five by root and one by alice, not bob\'s')
    assert.ok(names.includes('DisableKey'))
    assert.ok(!one.some((e) => e.CloudTrailEvent?.includes(OTHER)), 'no record of the other account')

    // The event as CloudTrail shows it: its JSON, and the fields lifted out of it.
    const disable = one.find((e) => e.EventName === 'DisableKey')
    assert.ok(disable)
    const record = JSON.parse(disable.CloudTrailEvent ?? '{}') as { eventID: string; eventSource: string; userIdentity: { accessKeyId: string }; readOnly: boolean; resources: { ARN: string }[] }
    assert.equal(record.eventID, disable.EventId)
    assert.equal(disable.EventSource, 'kms.amazonaws.com')
    assert.equal(disable.Username, 'root')
    assert.equal(disable.AccessKeyId, ROOT.accessKeyId)
    assert.equal(disable.ReadOnly, 'false')
    assert.deepEqual(disable.Resources, [{ ResourceType: 'AWS::KMS::Key', ResourceName: key.arn }])

    // Every attribute, within the range of the requests above (the lookups' own records come after it).
    const by = async (AttributeKey: string, AttributeValue: string, until: number | null = end) =>
      (await allPages(trail, { LookupAttributes: [{ AttributeKey: AttributeKey as 'EventName', AttributeValue }], StartTime: new Date(start - 1000), ...(until === null ? {} : { EndTime: new Date(until) }) })).events
    const ATTRIBUTES: [string, string][] = [
      ['EventId', disable.EventId ?? ''],
      ['EventName', 'GenerateMac'],
      ['Username', 'alice'],
      ['AccessKeyId', alice.AccessKeyId],
      ['ResourceName', key.arn],
      ['ResourceType', 'AWS::KMS::Key'],
      ['ReadOnly', 'false'],
      ['EventSource', 'kms.amazonaws.com'],
    ]
    const expected = new Map<string, Event[]>()
    for (const [k, v] of ATTRIBUTES) expected.set(k, await by(k, v))
    const ids = (k: string) => (expected.get(k) ?? []).map((e) => e.EventId ?? '')
    assert.deepEqual(ids('EventId'), [disable.EventId])
    assert.equal(ids('EventName').length, 6)
    assert.deepEqual((expected.get('Username') ?? []).map((e) => e.EventName), ['GenerateMac'])
    assert.deepEqual((expected.get('AccessKeyId') ?? []).map((e) => e.EventName), ['GenerateMac'])
    const macs = expected.get('ResourceName') ?? []
    assert.deepEqual(new Set(macs.map((e) => e.EventName)), new Set(['CreateKey', 'GenerateMac', 'DisableKey']))
    assert.equal(ids('ResourceType').length, macs.length)
    assert.ok(ids('ReadOnly').length > 0 && (expected.get('ReadOnly') ?? []).every((e) => e.ReadOnly === 'false'))
    assert.deepEqual((expected.get('EventSource') ?? []).map((e) => e.EventName), one.filter((e) => e.EventSource === 'kms.amazonaws.com').map((e) => e.EventName))
    // The lookups' own records, once the workers have flushed them (within their interval).
    let lookups: Event[] = []
    await waitFor('the records of the lookups', async () => (lookups = await by('EventSource', 'cloudtrail.amazonaws.com', null)).length > 0, { timeoutMs: 10_000, everyMs: 100 })
    assert.ok(lookups.length > 0 && lookups.every((e) => e.EventName === 'LookupEvents' && e.ReadOnly === 'true'), 'LookupEvents is itself recorded')

    // The time range: nothing after the end.
    const none = await allPages(trail, { StartTime: new Date(end + 60_000), EndTime: new Date(end + 120_000) })
    assert.deepEqual(none.events, [])

    // Bad input: each refused with CloudTrail's exception.
    await rejectsWith(trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'a' }, { AttributeKey: 'Username', AttributeValue: 'b' }] })), 'InvalidLookupAttributesException')
    await rejectsWith(trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Nope' as 'EventName', AttributeValue: 'a' }] })), 'InvalidLookupAttributesException')
    await rejectsWith(trail.send(new LookupEventsCommand({ MaxResults: 51 })), 'InvalidMaxResultsException')
    await rejectsWith(trail.send(new LookupEventsCommand({ MaxResults: 0 })), 'InvalidMaxResultsException')
    await rejectsWith(trail.send(new LookupEventsCommand({ StartTime: new Date(end), EndTime: new Date(start) })), 'InvalidTimeRangeException')
    await rejectsWith(trail.send(new LookupEventsCommand({ NextToken: 'not-a-token' })), 'InvalidNextTokenException')
    await rejectsWith(trail.send(new LookupEventsCommand({ EventCategory: 'bogus' as 'insight' })), 'InvalidEventCategoryException')
    const first = await trail.send(new LookupEventsCommand({ MaxResults: 1 }))
    assert.ok(first.NextToken)
    await rejectsWith(trail.send(new LookupEventsCommand({ MaxResults: 1, NextToken: first.NextToken, LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GenerateMac' }] })), 'InvalidNextTokenException', 'The NextToken is not valid, or was issued for other parameters.')
    assert.deepEqual((await trail.send(new LookupEventsCommand({ EventCategory: 'insight' }))).Events, [])

    // Authorization: identity policies decide; an account sees only its own records.
    const auditorTrail = cloudtrail(server.url, credentialsOf(auditor))
    const aliceTrail = cloudtrail(server.url, credentialsOf(alice))
    const bobTrail = cloudtrail(server.url, credentialsOf(bob))
    t.after(() => [auditorTrail, aliceTrail, bobTrail].forEach((c) => c.destroy()))
    assert.equal((await allPages(auditorTrail, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GenerateMac' }] })).events.length, 6)
    await rejectsWith(
      aliceTrail.send(new LookupEventsCommand({})),
      'AccessDeniedException',
      `User: ${alice.Arn} is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action`,
    )
    const bobs = (await allPages(bobTrail, {})).events
    assert.ok(bobs.length >= 2, `CreateKey and GenerateMac of bob: ${JSON.stringify(bobs.map((e) => [e.EventName, e.Username]))}`)
    assert.ok(bobs.every((e) => (e.CloudTrailEvent ?? '').includes(OTHER) && !(e.CloudTrailEvent ?? '').includes(`:${ACCOUNT}:`)), 'only the other account\'s records')

    // boto3's paginator, unchanged: the same events for every attribute. The AWS CLI (which pages on
    // its own, here two events a call) for two of them: EventName, the most events and pages, and
    // ResourceName, an ARN through the CLI's shorthand syntax. The attribute is one enum member of
    // one request shape, so the other six would only repeat the CLI's serialisation (each call costs
    // about 0.9 s of CPU); the server's filter for each is checked above and by boto3.
    const window = [String((start - 1000) / 1000), String(end / 1000)] as const
    if (PYTHON !== undefined) {
      const got = JSON.parse(await python(BOTO3, [server.url, ROOT.accessKeyId, ROOT.secretAccessKey, ...window, JSON.stringify(ATTRIBUTES)])) as Record<string, string[]>
      for (const [k] of ATTRIBUTES) assert.deepEqual(got[k], ids(k), `boto3, ${k}`)
    }
    if (AWS_CLI !== undefined) {
      const env = { PATH: process.env['PATH'] ?? '', HOME: dir, AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey, AWS_REGION: REGION, AWS_DEFAULT_REGION: REGION }
      const range = ['--start-time', new Date(start - 1000).toISOString(), '--end-time', new Date(end).toISOString()]
      await Promise.all(
        ATTRIBUTES.filter(([k]) => k === 'EventName' || k === 'ResourceName').map(async ([k, v]) => {
          const { stdout } = await promisify(execFile)(
            AWS_CLI,
            ['--endpoint-url', server.url, 'cloudtrail', 'lookup-events', '--lookup-attributes', `AttributeKey=${k},AttributeValue=${v}`, ...range, '--page-size', '2', '--output', 'json'],
            { env, timeout: 60_000 },
          )
          const out = JSON.parse(stdout) as { Events: { EventId: string }[] }
          assert.deepEqual(out.Events.map((e) => e.EventId), ids(k), `the AWS CLI, ${k}`)
        }),
      )
    }
  })

  it('throttles LookupEvents at CloudTrail\'s two per second and account with --throttle aws', async (t) => {
    const { server } = await startKms(t, { settings: { throttle: 'aws' } })
    const trail = cloudtrail(server.url)
    t.after(() => trail.destroy())
    const outcomes: string[] = []
    for (let i = 0; i < 6; i++) {
      outcomes.push(await trail.send(new LookupEventsCommand({ MaxResults: 1 })).then(() => 'ok', (err: Error) => `${err.name}: ${err.message}`))
    }
    assert.deepEqual(outcomes.slice(0, 2), ['ok', 'ok'], 'a burst of two')
    assert.ok(outcomes.slice(2).every((o) => o === 'ThrottlingException: Rate exceeded'), outcomes.join(', '))
  })
})
