// A small health view from /metrics: requests and errors per second and the p99 latency, sampled
// every 5 s while the page is open (the second sample after 1 s, so that a first rate shows at
// once) and charted over the last 10 minutes.
import { useEffect, useState } from 'preact/hooks'
import { fetchMetrics, p99, sample, type Sample } from './metrics.js'

const EVERY_MS = 5000
const FIRST_RATE_MS = 1000
const KEEP = 120

interface Point {
  readonly at: number
  readonly rps: number
  readonly eps: number
  readonly p99ms: number | undefined
}

function points(samples: readonly Sample[]): Point[] {
  const out: Point[] = []
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as Sample
    const b = samples[i] as Sample
    const seconds = (b.at - a.at) / 1000
    const q = p99(a, b)
    out.push({ at: b.at, rps: (b.requests - a.requests) / seconds, eps: (b.errors - a.errors) / seconds, p99ms: q === undefined ? undefined : q * 1000 })
  }
  return out
}

function Chart({ title, values, unit }: { title: string; values: readonly (number | undefined)[]; unit: string }) {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v))
  const top = Math.max(1, ...known)
  const width = 300
  const height = 100
  const step = width / Math.max(1, KEEP - 1)
  const line = values
    // The newest point at the right edge; the chart fills leftwards as samples accumulate.
    .map((v, i) => (v === undefined || !Number.isFinite(v) ? undefined : `${((KEEP - values.length + i) * step).toFixed(1)},${(height - (v / top) * height).toFixed(1)}`))
    .filter((p) => p !== undefined)
    .join(' ')
  const last = known.at(-1)
  return (
    <div class="card chart">
      <div>{title}</div>
      <div class="now" data-testid={`now-${unit}`}>
        {last === undefined ? '–' : last < 10 ? last.toFixed(2) : last.toFixed(0)} <span class="hint">{unit}</span>
      </div>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`${title} over the last minutes`}>
        <polyline points={line} />
      </svg>
      <div class="hint">max {top < 10 ? top.toFixed(2) : top.toFixed(0)} {unit}</div>
    </div>
  )
}

export function HealthPage() {
  const [samples, setSamples] = useState<Sample[]>([])
  const [problem, setProblem] = useState<string | undefined>(undefined)
  useEffect(() => {
    let live = true
    const take = () => {
      fetchMetrics().then(
        (text) => {
          if (!live) return
          setSamples((old) => [...old, sample(text)].slice(-(KEEP + 1)))
          setProblem(undefined)
        },
        (err: unknown) => live && setProblem(String(err)),
      )
    }
    take()
    const soon = setTimeout(take, FIRST_RATE_MS)
    const timer = setInterval(take, EVERY_MS)
    return () => {
      live = false
      clearTimeout(soon)
      clearInterval(timer)
    }
  }, [])
  const p = points(samples)
  return (
    <section>
      <h1>Health</h1>
      <p class="hint">From this node's /metrics every 5 s since this page opened, the first rate after 1 s (all of the node's workers).</p>
      {problem === undefined ? null : <div class="error">{problem}</div>}
      {p.length === 0 ? <p class="hint">Collecting the first samples…</p> : null}
      <div class="charts">
        <Chart title="Requests per second" values={p.map((x) => x.rps)} unit="req/s" />
        <Chart title="Errors per second" values={p.map((x) => x.eps)} unit="err/s" />
        <Chart title="p99 latency" values={p.map((x) => x.p99ms)} unit="ms" />
      </div>
    </section>
  )
}
