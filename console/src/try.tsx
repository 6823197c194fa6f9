// "Try it": GenerateMac and VerifyMac on a key, with the message as text and the MAC as base64.
import { GenerateMacCommand, VerifyMacCommand, type MacAlgorithmSpec } from '@aws-sdk/client-kms'
import { useState } from 'preact/hooks'
import { apiError, type ApiError, type Session } from './api.js'
import { ErrorBox } from './ui.js'

const ALGORITHMS: MacAlgorithmSpec[] = ['HMAC_SHA_256', 'HMAC_SHA_224', 'HMAC_SHA_384', 'HMAC_SHA_512']

function toBase64(bytes: Uint8Array): string {
  let text = ''
  for (const b of bytes) text += String.fromCharCode(b)
  return btoa(text)
}

function fromBase64(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}

export function TryPage({ session }: { session: Session }) {
  const [keyId, setKeyId] = useState(() => new URLSearchParams(window.location.hash.split('?')[1] ?? '').get('key') ?? '')
  const [algorithm, setAlgorithm] = useState<MacAlgorithmSpec>('HMAC_SHA_256')
  const [message, setMessage] = useState('Hello World')
  const [mac, setMac] = useState('')
  const [result, setResult] = useState<string | undefined>(undefined)
  const [error, setError] = useState<{ error: ApiError; action: string } | undefined>(undefined)
  const bytes = () => new TextEncoder().encode(message)

  const generate = async () => {
    setResult(undefined)
    try {
      const out = await session.kms.send(new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: algorithm, Message: bytes() }))
      setMac(out.Mac === undefined ? '' : toBase64(out.Mac))
      setError(undefined)
      setResult(`GenerateMac with ${out.KeyId ?? keyId}: the MAC is in the field below.`)
    } catch (err) {
      setError({ error: apiError(err), action: 'generate a MAC with this key (kms:GenerateMac)' })
    }
  }
  const verify = async () => {
    setResult(undefined)
    const decoded = fromBase64(mac)
    if (decoded === undefined) {
      setError({ error: { code: 'Not base64', message: 'The MAC must be base64.', denied: false }, action: '' })
      return
    }
    try {
      const out = await session.kms.send(new VerifyMacCommand({ KeyId: keyId, MacAlgorithm: algorithm, Message: bytes(), Mac: decoded }))
      setError(undefined)
      setResult(out.MacValid === true ? 'VerifyMac: the MAC is valid.' : 'VerifyMac: the MAC is not valid.')
    } catch (err) {
      setError({ error: apiError(err), action: 'verify a MAC with this key (kms:VerifyMac)' })
    }
  }
  return (
    <section>
      <h1>Try GenerateMac and VerifyMac</h1>
      <div class="card">
        <div class="row">
          <label>
            Key id, ARN or alias <input value={keyId} onInput={(e) => setKeyId(e.currentTarget.value)} size={60} aria-label="Key" />
          </label>
          <label>
            Algorithm{' '}
            <select value={algorithm} onChange={(e) => setAlgorithm(e.currentTarget.value as MacAlgorithmSpec)} aria-label="MAC algorithm">
              {ALGORITHMS.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
        </div>
        <label>
          Message (UTF-8 text)
          <textarea rows={4} value={message} onInput={(e) => setMessage(e.currentTarget.value)} aria-label="Message" />
        </label>
        <label>
          MAC (base64)
          <textarea rows={2} value={mac} onInput={(e) => setMac(e.currentTarget.value)} aria-label="MAC" />
        </label>
        <div class="row">
          <button onClick={() => void generate()} disabled={keyId === ''}>
            GenerateMac
          </button>
          <button class="secondary" onClick={() => void verify()} disabled={keyId === '' || mac === ''}>
            VerifyMac
          </button>
        </div>
        {result === undefined ? null : (
          <div class="ok" data-testid="result">
            {result}
          </div>
        )}
        <ErrorBox error={error?.error} action={error?.action} />
      </div>
    </section>
  )
}
