// A throwaway SoftHSM2 token for one test file: its own config and token directory (made by
// scripts/setup-softhsm.sh), a PIN file, and pkcs11: URIs for root keys on it. When SoftHSM2 or
// pkcs11js is missing, setUpSoftHsm returns the reason instead, for the tests to skip loudly.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_MODULE_PATH } from '../../src/trust/pkcs11.js'
import { repoPath } from './repo.js'

export const TOKEN_LABEL = 'macaw'
export const USER_PIN = '1234'
export const SO_PIN = '5678'

const SETUP_SCRIPT = repoPath('scripts', 'setup-softhsm.sh')

export interface SoftHsm {
  /** The directory holding softhsm2.conf, the tokens and the PIN file. */
  readonly dir: string
  readonly pinFile: string
  readonly modulePath: string
  /** `pkcs11:token=macaw;object=<object>?module-path=...&pin-source=file:<pinFile>`, or with `query` instead. */
  uri(object: string, query?: Readonly<Record<string, string>>): string
  /** Removes the token directory; call after every root on it is closed. */
  cleanup(): Promise<void>
}

/** Percent-encodes a URI attribute value, leaving the `/` and `:` that RFC 7512 allows as they are. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/%2F/gi, '/').replace(/%3A/gi, ':')
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Why SoftHSM2 tests cannot run on this machine, or undefined when they can. */
export function softHsmUnavailable(modulePath = DEFAULT_MODULE_PATH): string | undefined {
  if (!hasCommand('softhsm2-util'))
    return 'SoftHSM2 is not installed (no softhsm2-util; Debian: apt-get install softhsm2)'
  if (!existsSync(modulePath))
    return `SoftHSM2 module ${modulePath} not found (Debian: apt-get install softhsm2)`
  try {
    createRequire(import.meta.url).resolve('pkcs11js')
  } catch {
    return 'the optional package pkcs11js is not installed (npm install pkcs11js@2)'
  }
  return undefined
}

/**
 * Creates a fresh token and points SOFTHSM2_CONF at it. SoftHSM reads SOFTHSM2_CONF in
 * C_Initialize, which runs when the first pkcs11: root opens; call this first, at the top of the
 * test file (node --test runs each file in a process of its own).
 */
export async function setUpSoftHsm(): Promise<SoftHsm | string> {
  const missing = softHsmUnavailable()
  if (missing !== undefined) {
    console.warn(`SKIPPING pkcs11: root-of-trust tests: ${missing}`)
    return missing
  }
  const dir = await mkdtemp(join(tmpdir(), 'macaw-softhsm-'))
  execFileSync('bash', [SETUP_SCRIPT, dir], { stdio: 'ignore' })
  process.env['SOFTHSM2_CONF'] = join(dir, 'softhsm2.conf')
  const pinFile = join(dir, 'pin')
  await writeFile(pinFile, `${USER_PIN}\n`, { mode: 0o600 })
  return {
    dir,
    pinFile,
    modulePath: DEFAULT_MODULE_PATH,
    uri(object, query = { 'pin-source': `file:${pinFile}` }) {
      const q = new URLSearchParams({ 'module-path': DEFAULT_MODULE_PATH, ...query })
      return `pkcs11:token=${TOKEN_LABEL};object=${encode(object)}?${[...q].map(([k, v]) => `${k}=${encode(v)}`).join('&')}`
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}
