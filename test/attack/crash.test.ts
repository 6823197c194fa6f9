// Crash safety: `kill -9` a spawned dist/ server while several clients create keys, aliases,
// grants and tags and disable/enable keys; restart on the same data dir and check that every
// acknowledged (HTTP 200) change is there, nothing half-applied is visible (an alias always names a
// key that exists; an Enabled key always has material, so GenerateMac works) and SQLite's
// integrity check passes. `npm test` runs 1 cycle, CI 5
// (MACAW_TEST_FULL=1); MACAW_CRASH_CYCLES=50 is the long version.
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { signedSend, type RawResponse } from '../helpers/raw.js'
import { spawnServer, type ServerProcess, removeDataDir } from '../helpers/process.js'
import { processTree } from '../fuzz/run.js'
import { rounds } from '../helpers/scale.js'

const CYCLES = rounds('MACAW_CRASH_CYCLES', 1, 5)
const CLIENTS = 4

type State = 'Enabled' | 'Disabled'

/** What the server acknowledged, and what was in flight when it died (may or may not have applied). */
interface Ledger {
  readonly keys: Map<string, { state: State; pending?: State | undefined }>
  readonly aliases: Map<string, string>
  readonly tags: Map<string, Map<string, string>>
  readonly grants: Map<string, Set<string>>
  acknowledged: number
}

/** A single process (--workers 1), so that kill -9 hits the process that writes. */
async function start(dataDir: string): Promise<ServerProcess> {
  return spawnServer(dataDir, { MACAW_WORKERS: '1', MACAW_AUDIT: 'on' })
}

async function crash(server: ServerProcess): Promise<void> {
  const tree = processTree(server.child.pid ?? 0)
  await server.kill9()
  for (const pid of tree.slice(1)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

async function call(url: string, op: string, body: object): Promise<RawResponse> {
  return signedSend(url, `TrentService.${op}`, JSON.stringify(body))
}

/** One client: rounds of create key -> alias -> tag -> grant -> disable -> enable until the server dies. */
async function client(url: string, id: string, ledger: Ledger, stop: { now: boolean }): Promise<void> {
  for (let round = 0; !stop.now; round++) {
    let keyId: string | undefined
    const acked = (res: RawResponse): boolean => {
      if (res.status !== 200) throw new Error(`${res.status} ${res.body}`)
      ledger.acknowledged++
      return true
    }
    try {
      const created = await call(url, 'CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: `${id}-${round}` })
      acked(created)
      keyId = (created.json?.['KeyMetadata'] as { KeyId: string }).KeyId
      ledger.keys.set(keyId, { state: 'Enabled' })
      const alias = `alias/${id}-${round}`
      acked(await call(url, 'CreateAlias', { AliasName: alias, TargetKeyId: keyId }))
      ledger.aliases.set(alias, keyId)
      acked(await call(url, 'TagResource', { KeyId: keyId, Tags: [{ TagKey: `owner-${round}`, TagValue: id }] }))
      ledger.tags.set(keyId, new Map([[`owner-${round}`, id]]))
      const grant = await call(url, 'CreateGrant', { KeyId: keyId, GranteePrincipal: 'arn:aws:iam::111122223333:user/crash', Operations: ['GenerateMac'] })
      acked(grant)
      ledger.grants.set(keyId, new Set([String(grant.json?.['GrantId'])]))
      for (const [op, state] of [['DisableKey', 'Disabled'], ['EnableKey', 'Enabled'], ['DisableKey', 'Disabled']] as const) {
        const entry = ledger.keys.get(keyId)
        if (entry) entry.pending = state
        acked(await call(url, op, { KeyId: keyId }))
        ledger.keys.set(keyId, { state })
      }
    } catch {
      // The server died (or refused while dying): whatever was in flight stays `pending`.
      return
    }
  }
}

async function allPages<T>(url: string, op: string, body: object, member: string): Promise<T[]> {
  const out: T[] = []
  let marker: string | undefined
  do {
    const res = await call(url, op, { ...body, Limit: 1000, ...(marker ? { Marker: marker } : {}) })
    assert.equal(res.status, 200, res.body)
    out.push(...(res.json?.[member] as T[]))
    marker = res.json?.['Truncated'] === true ? String(res.json['NextMarker']) : undefined
  } while (marker !== undefined)
  return out
}

function integrityCheck(dataDir: string): void {
  const db = new Database(join(dataDir, 'macaw.db'), { readonly: true, fileMustExist: true })
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  } finally {
    db.close()
  }
}

/** Checks the ledger against the restarted server; `keys` limits the per-key checks. Returns how many acknowledged changes were checked. */
async function verify(url: string, ledger: Ledger, keys: Iterable<string>): Promise<number> {
  let checked = 0
  const listed = new Set((await allPages<{ KeyId: string }>(url, 'ListKeys', {}, 'Keys')).map((k) => k.KeyId))
  // No alias names a missing key, and every acknowledged alias names its key.
  const aliases = await allPages<{ AliasName: string; TargetKeyId?: string }>(url, 'ListAliases', {}, 'Aliases')
  const byName = new Map(aliases.map((a) => [a.AliasName, a.TargetKeyId]))
  for (const a of aliases) if (a.TargetKeyId !== undefined) assert.ok(listed.has(a.TargetKeyId), `${a.AliasName} names missing key ${a.TargetKeyId}`)
  for (const [name, target] of ledger.aliases) {
    assert.equal(byName.get(name), target, `acknowledged alias ${name}`)
    checked++
  }
  for (const keyId of keys) {
    const entry = ledger.keys.get(keyId)
    if (!entry) continue
    const described = await call(url, 'DescribeKey', { KeyId: keyId })
    assert.equal(described.status, 200, `acknowledged key ${keyId}: ${described.body}`)
    checked++
    const state = (described.json?.['KeyMetadata'] as { KeyState: string }).KeyState
    assert.ok(state === entry.state || state === entry.pending, `${keyId} is ${state}; acknowledged ${entry.state}, in flight ${String(entry.pending)}`)
    checked++
    for (const [tagKey, value] of ledger.tags.get(keyId) ?? []) {
      const tags = await allPages<{ TagKey: string; TagValue: string }>(url, 'ListResourceTags', { KeyId: keyId }, 'Tags')
      assert.ok(tags.some((t) => t.TagKey === tagKey && t.TagValue === value), `tag ${tagKey} of ${keyId}`)
      checked++
    }
    const grantIds = ledger.grants.get(keyId)
    if (grantIds) {
      const grants = new Set((await allPages<{ GrantId: string }>(url, 'ListGrants', { KeyId: keyId }, 'Grants')).map((g) => g.GrantId))
      for (const g of grantIds) assert.ok(grants.has(g), `grant ${g} of ${keyId}`)
      checked += grantIds.size
    }
  }
  // Every Enabled key has usable material (none half-created), including keys whose CreateKey was never acknowledged.
  for (const keyId of listed) {
    const described = await call(url, 'DescribeKey', { KeyId: keyId })
    const meta = described.json?.['KeyMetadata'] as { KeyState: string; KeySpec: string }
    if (meta.KeyState !== 'Enabled') continue
    const mac = await call(url, 'GenerateMac', { KeyId: keyId, Message: 'aGk=', MacAlgorithm: 'HMAC_SHA_256' })
    assert.equal(mac.status, 200, `Enabled key ${keyId} cannot MAC: ${mac.body}`)
  }
  return checked
}

describe('crash safety', () => {
  it(`keeps every acknowledged change across ${CYCLES} kill -9 cycles`, { timeout: 60_000 + CYCLES * 20_000 }, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'macaw-crash-'))
    t.after(() => removeDataDir(dataDir))
    const ledger: Ledger = { keys: new Map(), aliases: new Map(), tags: new Map(), grants: new Map(), acknowledged: 0 }
    let server = await start(dataDir)
    t.after(() => crash(server))
    let checkedPerCycle = 0
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const before = new Set(ledger.keys.keys())
      const stop = { now: false }
      const clients = Array.from({ length: CLIENTS }, (_, i) => client(server.url, `c${cycle}x${i}`, ledger, stop))
      // Kill at a random moment, mid-request for most clients.
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 900))
      await crash(server)
      stop.now = true
      await Promise.all(clients)
      integrityCheck(dataDir)
      server = await start(dataDir)
      const touched = [...ledger.keys.keys()].filter((k) => !before.has(k))
      checkedPerCycle += await verify(server.url, ledger, touched)
    }
    // A last restart without a crash, then every acknowledged change of every cycle.
    await server.stop()
    integrityCheck(dataDir)
    server = await start(dataDir)
    const checked = await verify(server.url, ledger, ledger.keys.keys())
    t.diagnostic(`${CYCLES} kill -9 cycles, ${ledger.acknowledged} acknowledged operations; ${checkedPerCycle} checks after the crashes, ${checked} acknowledged changes verified at the end (${ledger.keys.size} keys, ${ledger.aliases.size} aliases)`)
    assert.ok(ledger.acknowledged > CYCLES, 'the clients got work done between crashes')
  })
})
