// The keys page: the account's keys with state, spec, aliases, tags and creation date, a filter,
// and paging (ListKeys, 25 at a time, then DescribeKey and ListResourceTags of each).
import { DescribeKeyCommand, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand, type AliasListEntry, type KeyMetadata, type Tag } from '@aws-sdk/client-kms'
import { useEffect, useState } from 'preact/hooks'
import { apiError, type ApiError, type Session } from './api.js'
import { date, ErrorBox, State } from './ui.js'

interface KeyRow {
  readonly meta: KeyMetadata
  readonly aliases: string[]
  readonly tags: Tag[] | undefined
}

const PAGE = 25

/** Every alias of the account (ListAliases pages of 100), by the key it points at. */
export async function aliasesByKey(session: Session): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  let Marker: string | undefined
  for (let pages = 0; pages < 100; pages++) {
    const page = await session.kms.send(new ListAliasesCommand({ Limit: 100, ...(Marker === undefined ? {} : { Marker }) }))
    for (const a of page.Aliases ?? ([] as AliasListEntry[])) {
      if (a.TargetKeyId === undefined || a.AliasName === undefined) continue
      out.set(a.TargetKeyId, [...(out.get(a.TargetKeyId) ?? []), a.AliasName])
    }
    if (page.Truncated !== true || page.NextMarker === undefined) break
    Marker = page.NextMarker
  }
  return out
}

async function loadPage(session: Session, marker: string | undefined, aliases: Map<string, string[]>): Promise<{ rows: KeyRow[]; next: string | undefined }> {
  const page = await session.kms.send(new ListKeysCommand({ Limit: PAGE, ...(marker === undefined ? {} : { Marker: marker }) }))
  const rows = await Promise.all(
    (page.Keys ?? []).map(async (k): Promise<KeyRow | undefined> => {
      const id = k.KeyId ?? ''
      const [described, tags] = await Promise.all([
        session.kms.send(new DescribeKeyCommand({ KeyId: id })),
        // A key whose tags the caller may not read still shows.
        session.kms.send(new ListResourceTagsCommand({ KeyId: id })).then((t) => t.Tags ?? [], () => undefined),
      ])
      return described.KeyMetadata === undefined ? undefined : { meta: described.KeyMetadata, aliases: aliases.get(id) ?? [], tags }
    }),
  )
  return { rows: rows.filter((r): r is KeyRow => r !== undefined), next: page.Truncated === true ? page.NextMarker : undefined }
}

function matches(row: KeyRow, filter: string): boolean {
  if (filter === '') return true
  const f = filter.toLowerCase()
  const m = row.meta
  return [m.KeyId, m.Arn, m.KeyState, m.KeySpec, m.Description, ...row.aliases, ...(row.tags ?? []).flatMap((t) => [t.TagKey, t.TagValue])].some((v) => v?.toLowerCase().includes(f) === true)
}

export function KeysPage({ session }: { session: Session }) {
  const [rows, setRows] = useState<KeyRow[]>([])
  const [next, setNext] = useState<string | undefined>(undefined)
  const [aliases, setAliases] = useState<Map<string, string[]>>(new Map())
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [loading, setLoading] = useState(true)
  const [filter, setFilter] = useState('')

  const more = async (marker: string | undefined, known: Map<string, string[]>, reset: boolean) => {
    setLoading(true)
    try {
      const page = await loadPage(session, marker, known)
      setRows((old) => (reset ? page.rows : [...old, ...page.rows]))
      setNext(page.next)
      setError(undefined)
    } catch (err) {
      setError(apiError(err))
    }
    setLoading(false)
  }
  useEffect(() => {
    aliasesByKey(session).then(
      (known) => {
        setAliases(known)
        void more(undefined, known, true)
      },
      (err: unknown) => {
        setError(apiError(err))
        setLoading(false)
      },
    )
  }, [session])

  const shown = rows.filter((r) => matches(r, filter))
  return (
    <section>
      <h1>Keys</h1>
      <div class="row">
        <input type="search" placeholder="Filter by id, alias, state, spec, tag" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} aria-label="Filter keys" size={40} />
        <span class="hint">
          {shown.length} of {rows.length} loaded{next === undefined ? '' : ', more on the server'}
        </span>
      </div>
      <ErrorBox error={error} action="list the keys of this account (kms:ListKeys, kms:DescribeKey)" />
      <table data-testid="keys">
        <thead>
          <tr>
            <th>Key</th>
            <th>Aliases</th>
            <th>State</th>
            <th>Spec</th>
            <th>Tags</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr class="clickable" key={r.meta.KeyId} onClick={() => (window.location.hash = `#/keys/${r.meta.KeyId ?? ''}`)}>
              <td class="mono">
                <a href={`#/keys/${r.meta.KeyId ?? ''}`}>{r.meta.KeyId}</a>
                {r.meta.Description ? <div class="hint">{r.meta.Description}</div> : null}
              </td>
              <td class="mono">{r.aliases.join(', ')}</td>
              <td>
                <State state={r.meta.KeyState} />
              </td>
              <td>{r.meta.KeySpec}</td>
              <td>{r.tags === undefined ? <span class="hint">not allowed</span> : r.tags.map((t) => `${t.TagKey ?? ''}=${t.TagValue ?? ''}`).join(', ')}</td>
              <td>{date(r.meta.CreationDate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="row">
        {next !== undefined ? (
          <button class="secondary" disabled={loading} onClick={() => void more(next, aliases, false)}>
            Load more
          </button>
        ) : null}
        {loading ? <span class="hint">Loading…</span> : null}
      </div>
    </section>
  )
}
