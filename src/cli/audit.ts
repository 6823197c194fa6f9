// `macaw audit verify` and `macaw audit query`: read the audit trail straight from the store.
import { verifyPage, type ChainState } from '../audit/chain.js'
import { loadChainKey } from '../audit/chain-key.js'
import { cloudTrailText } from '../audit/event.js'
import { buildConfig, fromEnv, type Config, type RawSettings } from '../config.js'
import { keyArn } from '../keys/arn.js'
import { openStore } from '../store/index.js'
import type { AuditFilter, Store } from '../store/store.js'
import { AdminError, locateAdminKey, requireStore, withAdmin } from './admin.js'

const PAGE = 5000

async function withStore<T>(flags: RawSettings, fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = buildConfig(fromEnv(flags))
  requireStore(config)
  const store = await openStore(config.store, { watchChanges: false })
  try {
    return await fn(store, config)
  } finally {
    await store.close()
  }
}

/**
 * `macaw audit verify`: the chain from the anchor to the last record, keyed hashes checked under
 * the chain key (so it needs the root of trust the store is sealed under).
 */
export async function auditVerify(flags: RawSettings): Promise<void> {
  await withAdmin(flags, async ({ store, root }) => {
    const key = await loadChainKey(store, root, false)
    const anchor = await store.auditAnchor()
    if (key === undefined && (await store.queryAudit({ afterSeq: anchor.seq, limit: 1 })).length > 0) {
      throw new AdminError('the store has no audit chain key, so its records cannot be verified: it was removed, or no server of this version has started on this store yet (start one: it makes the key)')
    }
    const state: ChainState = { ...anchor }
    let count = 0
    for (;;) {
      const rows = await store.queryAudit({ afterSeq: state.seq, limit: PAGE })
      // A gap right after the last verified record shows up as the next row's seq.
      // The last page must end on a seal (each batch is committed with its seal).
      const problem = verifyPage(anchor, rows, state, key, rows.length < PAGE)
      if (problem !== undefined) {
        const id = problem.eventId === undefined ? '' : ` (eventID ${problem.eventId})`
        throw new AdminError(`audit chain broken at record ${problem.seq}${id}: ${problem.reason}`)
      }
      count += rows.length
      if (rows.length < PAGE) break
    }
    key?.key.fill(0)
    const from = anchor.seq === 0 ? 'the start' : `record ${anchor.seq} (earlier records removed by retention)`
    const unkeyed = state.unkeyed ?? 0
    const note =
      unkeyed === 0
        ? ' (keyed under the root of trust)'
        : `; the first ${unkeyed} predate the keyed chain: someone with write access to the database could have rewritten those`
    process.stdout.write(`audit chain ok: ${count} records verified from ${from}${note}\n`)
  })
}

export interface AuditQueryFlags extends RawSettings {
  from?: string
  to?: string
  key?: string
  principal?: string
  eventName?: string
  outcome?: string
  limit?: string
}

function time(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const t = Date.parse(text)
  if (Number.isNaN(t)) throw new AdminError(`--${name} must be a date such as 2026-11-25T10:00:00Z, got '${text}'`)
  return t
}

export async function auditQuery(flags: AuditQueryFlags): Promise<void> {
  const limit = Number(flags.limit ?? 1000)
  if (!Number.isInteger(limit) || limit < 1) throw new AdminError(`--limit must be a positive integer, got '${flags.limit ?? ''}'`)
  if (flags.outcome !== undefined && flags.outcome !== 'success' && flags.outcome !== 'failure') {
    throw new AdminError(`--outcome must be success or failure, got '${flags.outcome}'`)
  }
  const from = time('from', flags.from)
  const to = time('to', flags.to)
  const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {
    limit: Math.min(limit, PAGE),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(flags.principal === undefined ? {} : { principal: flags.principal }),
    ...(flags.eventName === undefined ? {} : { eventName: flags.eventName }),
    ...(flags.outcome === undefined ? {} : { outcome: flags.outcome }),
  }
  await withStore(flags, async (store, config) => {
    // --key in any form DescribeKey takes; records name keys by ARN.
    if (flags.key !== undefined) {
      const loc = await locateAdminKey(config, store, flags.key)
      filter.keyArn = keyArn(config.partition, loc.region, loc.accountId, loc.keyId)
    }
    let printed = 0
    let afterSeq = 0
    while (printed < limit) {
      const wanted = Math.min(PAGE, limit - printed)
      const rows = await store.queryAudit({ ...filter, afterSeq, limit: wanted })
      for (const row of rows) process.stdout.write(`${cloudTrailText(row)}\n`)
      printed += rows.length
      const last = rows.at(-1)
      if (last === undefined || rows.length < wanted) break
      afterSeq = last.seq
    }
  })
}
