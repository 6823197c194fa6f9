// The macaw console: sign in with an access key (or temporary credentials), then pages that call
// the same APIs as every AWS client, signed in this browser (docs/console.md). Routes live in the
// URL's hash: #/keys, #/keys/<id>, #/try, #/audit, #/health.
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { apiError, remembered, signIn, signOut, type ApiError, type Credentials, type Session } from './api.js'
import { AuditPage } from './audit.js'
import { HealthPage } from './health.js'
import { KeyPage } from './key.js'
import { KeysPage } from './keys.js'
import { TryPage } from './try.js'
import { ErrorBox } from './ui.js'

function useRoute(): string {
  const [route, setRoute] = useState(window.location.hash.slice(1) || '/keys')
  useEffect(() => {
    const changed = () => setRoute(window.location.hash.slice(1) || '/keys')
    window.addEventListener('hashchange', changed)
    return () => window.removeEventListener('hashchange', changed)
  }, [])
  return route
}

function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const [form, setForm] = useState<Credentials>({ accessKeyId: '', secretAccessKey: '', sessionToken: '', region: 'us-east-1' })
  const [remember, setRemember] = useState(false)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    try {
      const { sessionToken, ...rest } = form
      onSession(await signIn(sessionToken ? { ...rest, sessionToken } : rest, remember))
    } catch (err) {
      setError(apiError(err))
    }
    setBusy(false)
  }
  const field = (name: keyof Credentials, label: string, type = 'text') => (
    <>
      <label for={name}>{label}</label>
      <input id={name} name={name} type={type} autocomplete="off" value={form[name] ?? ''} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />
    </>
  )
  return (
    <form class="card signin" onSubmit={(e) => void submit(e)}>
      <h1>Sign in to macaw</h1>
      <p class="hint">The console signs each call in this browser with your key; the server keeps no session. The secret stays in this tab's memory.</p>
      {field('accessKeyId', 'Access key id')}
      {field('secretAccessKey', 'Secret access key', 'password')}
      {field('sessionToken', 'Session token (temporary credentials only)', 'password')}
      {field('region', 'Region')}
      <label>
        <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} /> Keep me signed in in this tab (sessionStorage)
      </label>
      <ErrorBox error={error} action="call GetCallerIdentity" />
      <div class="row">
        <button type="submit" disabled={busy || form.accessKeyId === '' || form.secretAccessKey === ''}>
          Sign in
        </button>
      </div>
    </form>
  )
}

const NAV = [
  ['/keys', 'Keys'],
  ['/try', 'Try it'],
  ['/audit', 'Audit trail'],
  ['/health', 'Health'],
] as const

function App() {
  const [session, setSession] = useState<Session | undefined>(undefined)
  const [restoring, setRestoring] = useState(remembered() !== undefined)
  const route = useRoute()
  useEffect(() => {
    const saved = remembered()
    if (saved === undefined) return
    signIn(saved, true).then(setSession, () => signOut(undefined)).finally(() => setRestoring(false))
  }, [])
  if (restoring) return <p class="hint">Signing in…</p>
  if (session === undefined) return <SignIn onSession={setSession} />
  const page = route.split('?')[0] ?? '/keys'
  return (
    <>
      <header>
        <span class="brand">macaw</span>
        <nav>
          {NAV.map(([path, label]) => (
            <a key={path} href={`#${path}`} class={page.startsWith(path) ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" data-testid="who">
          {session.arn} · {session.credentials.region}
          <button
            class="secondary"
            onClick={() => {
              signOut(session)
              setSession(undefined)
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>
        {page.startsWith('/keys/') ? (
          <KeyPage session={session} keyId={decodeURIComponent(page.slice('/keys/'.length))} />
        ) : page === '/try' ? (
          <TryPage session={session} />
        ) : page === '/audit' ? (
          <AuditPage session={session} />
        ) : page === '/health' ? (
          <HealthPage />
        ) : (
          <KeysPage session={session} />
        )}
      </main>
    </>
  )
}

const root = document.getElementById('app')
if (root !== null) render(<App />, root)
