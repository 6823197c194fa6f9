// One key's page: metadata, aliases, tags, the key policy (edited as JSON, validated as typed, shown
// as a diff before PutKeyPolicy), grants, and enable / disable / schedule and cancel deletion, each
// confirmed first.
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { useState } from 'preact/hooks'
import { apiError, type ApiError, type Session } from './api.js'
import { aliasesByKey } from './keys.js'
import { lineDiff } from './diff.js'
import { Confirm, date, ErrorBox, State, useApi } from './ui.js'

type Action = 'enable' | 'disable' | 'schedule' | 'cancel'

const ACTIONS: Record<Action, { label: string; title: string; action: string }> = {
  enable: { label: 'Enable', title: 'Enable this key?', action: 'enable this key (kms:EnableKey)' },
  disable: { label: 'Disable', title: 'Disable this key?', action: 'disable this key (kms:DisableKey)' },
  schedule: { label: 'Schedule deletion', title: 'Schedule this key for deletion?', action: 'schedule the deletion of this key (kms:ScheduleKeyDeletion)' },
  cancel: { label: 'Cancel deletion', title: 'Cancel the deletion of this key?', action: 'cancel the deletion of this key (kms:CancelKeyDeletion)' },
}

function pretty(policy: string): string {
  try {
    return JSON.stringify(JSON.parse(policy), null, 2)
  } catch {
    return policy
  }
}

/** Why `text` cannot be a key policy, or undefined: JSON, an object, with a Statement. */
function policyProblem(text: string): string | undefined {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    return `Not valid JSON: ${(err as Error).message}`
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'A policy is a JSON object.'
  if (!('Statement' in doc)) return 'A policy needs a Statement.'
  return undefined
}

function PolicyEditor({ session, keyId }: { session: Session; keyId: string }) {
  const policy = useApi(async () => pretty((await session.kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy ?? ''), [keyId])
  const [draft, setDraft] = useState<string | undefined>(undefined)
  const [reviewing, setReviewing] = useState(false)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [saved, setSaved] = useState(false)
  const current = policy.value ?? ''
  const text = draft ?? current
  const problem = draft === undefined ? undefined : policyProblem(draft)
  const save = async () => {
    setReviewing(false)
    try {
      await session.kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: text }))
      setDraft(undefined)
      setError(undefined)
      setSaved(true)
      policy.reload()
    } catch (err) {
      setError(apiError(err))
    }
  }
  return (
    <div class="card">
      <h2>Key policy</h2>
      <ErrorBox error={policy.error} action="read this key's policy (kms:GetKeyPolicy)" />
      {policy.value === undefined ? null : (
        <>
          <textarea rows={16} value={text} aria-label="Key policy" onInput={(e) => (setDraft(e.currentTarget.value), setSaved(false))} spellcheck={false} />
          {problem === undefined ? null : <div class="error">{problem}</div>}
          {saved ? <div class="ok">Policy saved.</div> : null}
          <ErrorBox error={error} action="change this key's policy (kms:PutKeyPolicy)" />
          <div class="row">
            <button disabled={draft === undefined || draft === current || problem !== undefined} onClick={() => setReviewing(true)}>
              Review changes
            </button>
            <button class="secondary" disabled={draft === undefined} onClick={() => setDraft(undefined)}>
              Discard
            </button>
          </div>
        </>
      )}
      {reviewing ? (
        <Confirm title="Put this key policy?" confirm="Put key policy" onConfirm={() => void save()} onCancel={() => setReviewing(false)}>
          <pre class="diff" data-testid="policy-diff">
            {lineDiff(current, pretty(text)).map((l, i) => (
              <span key={i} class={l.kind}>
                {l.kind === 'add' ? '+ ' : l.kind === 'del' ? '- ' : '  '}
                {l.text}
              </span>
            ))}
          </pre>
        </Confirm>
      ) : null}
    </div>
  )
}

export function KeyPage({ session, keyId }: { session: Session; keyId: string }) {
  const key = useApi(async () => {
    const [described, aliases] = await Promise.all([session.kms.send(new DescribeKeyCommand({ KeyId: keyId })), aliasesByKey(session).catch(() => new Map<string, string[]>())])
    return { meta: described.KeyMetadata, aliases: aliases.get(described.KeyMetadata?.KeyId ?? '') ?? [] }
  }, [keyId])
  const tags = useApi(async () => (await session.kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags ?? [], [keyId])
  const grants = useApi(async () => (await session.kms.send(new ListGrantsCommand({ KeyId: keyId, Limit: 100 }))).Grants ?? [], [keyId])
  const [asking, setAsking] = useState<Action | undefined>(undefined)
  const [days, setDays] = useState(30)
  const [actionError, setActionError] = useState<{ error: ApiError; action: Action } | undefined>(undefined)

  const run = async (action: Action) => {
    setAsking(undefined)
    try {
      if (action === 'enable') await session.kms.send(new EnableKeyCommand({ KeyId: keyId }))
      if (action === 'disable') await session.kms.send(new DisableKeyCommand({ KeyId: keyId }))
      if (action === 'schedule') await session.kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: days }))
      if (action === 'cancel') await session.kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }))
      setActionError(undefined)
      key.reload()
    } catch (err) {
      setActionError({ error: apiError(err), action })
    }
  }

  const m = key.value?.meta
  const state = m?.KeyState
  return (
    <section>
      <p>
        <a href="#/keys">← Keys</a>
      </p>
      <h1 class="mono">{keyId}</h1>
      <ErrorBox error={key.error} action="describe this key (kms:DescribeKey)" />
      {m === undefined ? null : (
        <>
          <div class="card">
            <dl class="meta" data-testid="key-meta">
              <dt>ARN</dt>
              <dd class="mono">{m.Arn}</dd>
              <dt>State</dt>
              <dd>
                <State state={state} />
                {m.DeletionDate ? <span class="hint"> deleted on {date(m.DeletionDate)}</span> : null}
              </dd>
              <dt>Key spec / usage</dt>
              <dd>
                {m.KeySpec} / {m.KeyUsage}
              </dd>
              <dt>MAC algorithms</dt>
              <dd>{(m.MacAlgorithms ?? []).join(', ')}</dd>
              <dt>Description</dt>
              <dd>{m.Description}</dd>
              <dt>Origin</dt>
              <dd>
                {m.Origin}
                {m.MultiRegion === true ? ' (multi-Region)' : ''}
              </dd>
              <dt>Created</dt>
              <dd>{date(m.CreationDate)}</dd>
              <dt>Aliases</dt>
              <dd class="mono">{key.value?.aliases.join(', ')}</dd>
              <dt>Tags</dt>
              <dd>{tags.error !== undefined ? <span class="hint">{tags.error.code}</span> : (tags.value ?? []).map((t) => `${t.TagKey ?? ''}=${t.TagValue ?? ''}`).join(', ')}</dd>
            </dl>
            <div class="row">
              {state === 'Disabled' ? <button onClick={() => setAsking('enable')}>Enable</button> : null}
              {state === 'Enabled' ? <button onClick={() => setAsking('disable')}>Disable</button> : null}
              {state === 'PendingDeletion' ? <button onClick={() => setAsking('cancel')}>Cancel deletion</button> : <button class="danger" onClick={() => setAsking('schedule')}>Schedule deletion</button>}
            </div>
            {actionError === undefined ? null : <ErrorBox error={actionError.error} action={ACTIONS[actionError.action].action} />}
          </div>
          <PolicyEditor session={session} keyId={keyId} />
          <div class="card">
            <h2>Grants</h2>
            <ErrorBox error={grants.error} action="list this key's grants (kms:ListGrants)" />
            <table>
              <thead>
                <tr>
                  <th>Grant</th>
                  <th>Grantee</th>
                  <th>Operations</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {(grants.value ?? []).map((g) => (
                  <tr key={g.GrantId}>
                    <td class="mono">{g.Name || g.GrantId}</td>
                    <td class="mono">{g.GranteePrincipal}</td>
                    <td>{(g.Operations ?? []).join(', ')}</td>
                    <td>{date(g.CreationDate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {grants.value?.length === 0 ? <p class="hint">No grants.</p> : null}
          </div>
        </>
      )}
      {asking === undefined ? null : (
        <Confirm title={ACTIONS[asking].title} confirm={ACTIONS[asking].label} danger={asking === 'schedule' || asking === 'disable'} onConfirm={() => void run(asking)} onCancel={() => setAsking(undefined)}>
          {asking === 'disable' ? <p>Every GenerateMac and VerifyMac with this key fails with DisabledException until it is enabled again.</p> : null}
          {asking === 'schedule' ? (
            <p>
              The key becomes unusable now and is deleted, with its material, after{' '}
              <input type="number" min={7} max={30} value={days} onInput={(e) => setDays(Number(e.currentTarget.value))} aria-label="Pending window in days" /> days (7 to 30). You can
              cancel until then.
            </p>
          ) : null}
        </Confirm>
      )}
    </section>
  )
}
