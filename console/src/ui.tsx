// Small shared pieces: an API error as AWS words it (access denied explained as a normal state),
// a confirmation dialog, a key state badge, and a hook that runs one API call.
import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { apiError, type ApiError } from './api.js'

export function ErrorBox({ error, action }: { error: ApiError | undefined; action?: string | undefined }) {
  if (error === undefined) return null
  if (error.denied) {
    return (
      <div class="denied" role="alert" data-testid="denied">
        <strong>Access denied.</strong> Your identity is not allowed to {action ?? 'do this'}: no policy allows it, or one denies it. An administrator
        can allow it in your identity policy, the key policy or a grant.
        <div class="hint mono">
          {error.code}: {error.message}
        </div>
      </div>
    )
  }
  return (
    <div class="error" role="alert" data-testid="error">
      <strong>{error.code}</strong>
      {error.message === '' ? null : <span>: {error.message}</span>}
    </div>
  )
}

export function State({ state }: { state: string | undefined }) {
  return <span class={`state ${state ?? ''}`}>{state ?? 'unknown'}</span>
}

export function Confirm(props: { title: string; children: ComponentChildren; confirm: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  return (
    <div class="modal" role="dialog" aria-modal="true" aria-label={props.title}>
      <div class="card">
        <h2>{props.title}</h2>
        {props.children}
        <div class="row">
          <button class={props.danger === true ? 'danger' : ''} onClick={props.onConfirm} data-testid="confirm">
            {props.confirm}
          </button>
          <button class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  )
}

/** Runs `load` now and on `reload()`; its result, or the API error it failed with. */
export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[]): { value: T | undefined; error: ApiError | undefined; loading: boolean; reload: () => void } {
  const [value, setValue] = useState<T | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    setLoading(true)
    load().then(
      (v) => {
        if (!live) return
        setValue(v)
        setError(undefined)
        setLoading(false)
      },
      (err: unknown) => {
        if (!live) return
        setError(apiError(err))
        setLoading(false)
      },
    )
    return () => {
      live = false
    }
  }, [...deps, tick])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { value, error, loading, reload }
}

export function date(value: Date | undefined): string {
  return value === undefined ? '' : value.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}
