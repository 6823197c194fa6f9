// The web console's files (built by `npm run build` into dist/console/), served at /console/ from
// memory: a fixed list read once at start-up, so no request path ever reaches the file system.
// The console is a static page that signs its own API calls (docs/console.md): the server adds no
// API and no session for it. Every answer carries a strict Content-Security-Policy: scripts,
// styles and requests from this origin only, no inline script, no framing.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface StaticAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

/** The files of a build, by their path under /console/ (index.html for the folder itself). */
const FILES: Readonly<Record<string, string>> = {
  '': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
}

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
}

export class ConsoleFiles {
  private readonly files = new Map<string, Buffer>()
  /** Why the console cannot be served (not built), or undefined. */
  readonly problem: string | undefined

  /** Reads the build in `dir` (default: dist/console beside this module's dist/src). */
  constructor(dir: string = fileURLToPath(new URL('../../console/', import.meta.url))) {
    let problem: string | undefined
    for (const name of Object.keys(FILES)) {
      try {
        this.files.set(name, readFileSync(`${dir}/${name === '' ? 'index.html' : name}`))
      } catch {
        problem = 'The console is not built: run `npm run build` (it writes dist/console/).'
      }
    }
    this.problem = problem
  }

  /** The answer for GET `path` (starting with /console), or undefined when it is not the console's. */
  answer(path: string): StaticAnswer | undefined {
    if (path === '/console') return { status: 301, headers: { ...SECURITY_HEADERS, location: '/console/' }, body: Buffer.alloc(0) }
    if (!path.startsWith('/console/')) return undefined
    if (this.problem !== undefined) return text(503, `${this.problem}\n`)
    const name = path.slice('/console/'.length)
    const type = Object.hasOwn(FILES, name) ? FILES[name] : undefined
    const body = this.files.get(name)
    if (type === undefined || body === undefined) return text(404, 'Not found.\n')
    // The page itself is never cached (a new build takes effect at once); its files briefly.
    const cache = name === '' ? 'no-store' : 'max-age=300'
    return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cache }, body }
  }
}

function text(status: number, message: string): StaticAnswer {
  return { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from(message) }
}
