// The audit trail through CloudTrail's LookupEvents: newest first, one lookup attribute and a time
// range as filters, older pages through NextToken, each event's JSON, and the chain verification
// the service reports in /metrics.
import { LookupEventsCommand, type Event, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail'
import { useEffect, useRef, useState } from 'preact/hooks'
import { apiError, type ApiError, type Session } from './api.js'
import { fetchMetrics, sample } from './metrics.js'
import { date, ErrorBox, useApi } from './ui.js'

const KEYS: LookupAttributeKey[] = ['EventName', 'ResourceName', 'Username', 'AccessKeyId', 'EventSource', 'ReadOnly', 'EventId', 'ResourceType']

interface Filters {
  readonly key: LookupAttributeKey
  readonly value: string
  readonly start: string
  readonly end: string
}

function localTime(text: string): Date | undefined {
  if (text === '') return undefined
  const t = new Date(text)
  return Number.isNaN(t.getTime()) ? undefined : t
}

function ChainStatus() {
  const chain = useApi(async () => {
    const s = sample(await fetchMetrics())
    return s.chain
  }, [])
  const c = chain.value
  if (chain.error !== undefined) return <div class="hint">The chain verification could not be read from /metrics.</div>
  if (c === undefined) return <div class="hint">Reading the chain verification…</div>
  if (c.checkedAt === 0) return <div class="hint" data-testid="chain">The hash chain has not been verified by this node yet.</div>
  if (c.broken) {
    return (
      <div class="error" data-testid="chain">
        <strong>The audit chain is broken.</strong> A record was edited or removed; run <code>macaw audit verify</code> to see which.
      </div>
    )
  }
  return (
    <div class="ok" data-testid="chain">
      Hash chain verified: {c.verified} records, last checked {date(new Date(c.checkedAt * 1000))}.
    </div>
  )
}

/** The client behind a user agent, in a few words (the whole text is in the event's JSON). */
function clientOf(agent: string | undefined): string {
  if (agent === undefined || agent === '') return ''
  if (agent.includes('macaw-console/')) return 'macaw console (browser)'
  if (agent.startsWith('aws-cli/')) return `AWS CLI ${agent.split(' ')[0]?.slice('aws-cli/'.length) ?? ''}`
  if (agent.startsWith('Boto3/')) return `boto3 ${agent.split(' ')[0]?.slice('Boto3/'.length) ?? ''}`
  if (agent.startsWith('aws-sdk-js/')) return `AWS SDK for JavaScript ${agent.split(' ')[0]?.slice('aws-sdk-js/'.length) ?? ''}`
  return agent.length > 40 ? `${agent.slice(0, 40)}…` : agent
}

function EventRow({ event }: { event: Event }) {
  const [open, setOpen] = useState(false)
  const record = JSON.parse(event.CloudTrailEvent ?? '{}') as { errorCode?: string; userAgent?: string; sourceIPAddress?: string }
  return (
    <>
      <tr class="clickable" onClick={() => setOpen(!open)} data-testid="event">
        <td>{date(event.EventTime)}</td>
        <td>{event.EventName}</td>
        <td>{event.Username}</td>
        <td class="mono">{(event.Resources ?? []).map((r) => r.ResourceName).join(', ')}</td>
        <td>{record.errorCode ?? ''}</td>
        <td class="hint" title={record.userAgent}>
          {clientOf(record.userAgent)}
        </td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={6}>
            <pre data-testid="event-json">{JSON.stringify(JSON.parse(event.CloudTrailEvent ?? '{}'), null, 2)}</pre>
          </td>
        </tr>
      ) : null}
    </>
  )
}

export function AuditPage({ session }: { session: Session }) {
  const [draft, setDraft] = useState<Filters>({ key: 'EventName', value: '', start: '', end: '' })
  const [events, setEvents] = useState<Event[]>([])
  const [next, setNext] = useState<string | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [loading, setLoading] = useState(false)
  const [applied, setApplied] = useState<Filters | undefined>(undefined)

  // Only the newest lookup's answer is shown (an older one may arrive after it).
  const latest = useRef(0)
  const lookup = async (filters: Filters, token: string | undefined) => {
    const id = ++latest.current
    setLoading(true)
    const start = localTime(filters.start)
    const end = localTime(filters.end)
    try {
      const out = await session.cloudtrail.send(
        new LookupEventsCommand({
          ...(filters.value === '' ? {} : { LookupAttributes: [{ AttributeKey: filters.key, AttributeValue: filters.value }] }),
          ...(start === undefined ? {} : { StartTime: start }),
          ...(end === undefined ? {} : { EndTime: end }),
          MaxResults: 50,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      )
      if (id !== latest.current) return
      setEvents((old) => (token === undefined ? (out.Events ?? []) : [...old, ...(out.Events ?? [])]))
      setNext(out.NextToken)
      setError(undefined)
      setApplied(filters)
    } catch (err) {
      if (id !== latest.current) return
      setError(apiError(err))
    }
    setLoading(false)
  }
  useEffect(() => {
    void lookup(draft, undefined)
  }, [session])

  return (
    <section>
      <h1>Audit trail</h1>
      <ChainStatus />
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          void lookup(draft, undefined)
        }}
      >
        <select value={draft.key} onChange={(e) => setDraft({ ...draft, key: e.currentTarget.value as LookupAttributeKey })} aria-label="Lookup attribute">
          {KEYS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
        <input value={draft.value} placeholder="value (exact)" onInput={(e) => setDraft({ ...draft, value: e.currentTarget.value })} aria-label="Attribute value" size={36} />
        <label>
          from <input type="datetime-local" value={draft.start} onInput={(e) => setDraft({ ...draft, start: e.currentTarget.value })} />
        </label>
        <label>
          to <input type="datetime-local" value={draft.end} onInput={(e) => setDraft({ ...draft, end: e.currentTarget.value })} />
        </label>
        <button type="submit">Look up</button>
      </form>
      <ErrorBox error={error} action="look up this account's events (cloudtrail:LookupEvents)" />
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>User</th>
            <th>Resources</th>
            <th>Error</th>
            <th>User agent</th>
          </tr>
        </thead>
        <tbody data-testid="events">
          {events.map((e) => (
            <EventRow key={e.EventId} event={e} />
          ))}
        </tbody>
      </table>
      <div class="row">
        {next !== undefined && applied !== undefined ? (
          <button class="secondary" disabled={loading} onClick={() => void lookup(applied, next)}>
            Older events
          </button>
        ) : null}
        {loading ? <span class="hint">Loading…</span> : null}
        {!loading && events.length === 0 && error === undefined ? <span class="hint">No events match.</span> : null}
      </div>
    </section>
  )
}
