// `macaw keys ...`: a human-friendly admin view of the keys of one account and region, straight
// from the store (changes reach a running server before its next request).
import { newKeyRecord } from '../keys/record.js'
import { randomUUID } from 'node:crypto'
import { HMAC_KEY_SPECS, type HmacKeySpec } from '../domain.js'
import { generateMaterial } from '../crypto/hmac.js'
import { keyMaterialContext, seal } from '../crypto/envelope.js'
import { keyArn } from '../keys/arn.js'
import { checkAliasName } from '../keys/aliases.js'
import { transition } from '../keys/lifecycle.js'
import { keyMetadata } from '../keys/metadata.js'
import type { RawSettings } from '../config.js'
import { KmsError } from '../protocol/errors.js'
import type { KeyRecord } from '../store/store.js'
import { AdminError, locateAdminKey, withAdmin, type Admin } from './admin.js'

/** Left-aligned columns separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n'
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** A key named by id, key ARN, alias name or alias ARN (as DescribeKey takes it). */
async function findKey(admin: Admin, text: string): Promise<{ record: KeyRecord; arn: string }> {
  const loc = await locateAdminKey(admin.config, admin.store, text)
  const record = await admin.store.getKey(loc.accountId, loc.region, loc.keyId)
  if (!record) throw new AdminError(`no key ${text} in account ${loc.accountId}, region ${loc.region}`)
  return { record, arn: keyArn(admin.config.partition, loc.region, loc.accountId, loc.keyId) }
}

export async function keysList(flags: RawSettings & { json?: boolean }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const { accountId, region } = admin.config
    const keys: KeyRecord[] = []
    let after: string | undefined
    do {
      const page = await admin.store.listKeys(accountId, region, after, 1000)
      keys.push(...page.items)
      after = page.next
    } while (after !== undefined)
    const aliases = (await admin.store.listAliases(accountId, region, { limit: 100_000 })).items
    if (flags.json === true) {
      process.stdout.write(`${JSON.stringify(keys.map((k) => keyMetadata(k, keyArn(admin.config.partition, region, accountId, k.keyId))), null, 2)}\n`)
      return
    }
    const rows = keys.map((k) => [
      k.keyId,
      k.keySpec,
      k.state,
      new Date(k.creationDate).toISOString().slice(0, 19) + 'Z',
      aliases.filter((a) => a.keyId === k.keyId).map((a) => a.aliasName).join(','),
      shorten(k.description, 40),
    ])
    process.stdout.write(`${keys.length} key(s) in account ${accountId}, region ${region}\n`)
    process.stdout.write(table(['KEY ID', 'SPEC', 'STATE', 'CREATED', 'ALIASES', 'DESCRIPTION'], rows))
  })
}

export async function keysDescribe(flags: RawSettings & { keyId: string }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const { record, arn } = await findKey(admin, flags.keyId)
    const { accountId, region, keyId } = record
    const aliases = (await admin.store.listAliases(accountId, region, { keyId, limit: 100 })).items.map((a) => a.aliasName)
    const grants = await admin.store.grantsOfKey(accountId, region, keyId)
    const out = {
      KeyMetadata: keyMetadata(record, arn),
      Aliases: aliases,
      Tags: record.tags.map((t) => ({ TagKey: t.key, TagValue: t.value })),
      Grants: grants.map((g) => ({ GrantId: g.grantId, Name: g.name, GranteePrincipal: g.granteePrincipal, Operations: g.operations })),
      Policy: JSON.parse(record.policy) as unknown,
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  })
}

export async function keysCreate(flags: RawSettings & { spec?: string; description?: string; alias?: string }): Promise<void> {
  const spec = (flags.spec ?? 'HMAC_256') as HmacKeySpec
  if (!HMAC_KEY_SPECS.includes(spec)) throw new AdminError(`--spec must be one of ${HMAC_KEY_SPECS.join(', ')}, got '${flags.spec ?? ''}'`)
  if (flags.alias !== undefined) {
    try {
      checkAliasName(flags.alias)
    } catch (err) {
      if (err instanceof KmsError) throw new AdminError(`--alias: ${err.message}`)
      throw err
    }
  }
  await withAdmin(flags, async (admin) => {
    const { accountId, region, partition } = admin.config
    const keyId = randomUUID()
    const arn = keyArn(partition, region, accountId, keyId)
    const material = generateMaterial(spec)
    const wrapped = await seal(admin.root, material, keyMaterialContext(arn))
    material.fill(0)
    const now = Date.now()
    await admin.store.insertKey({
      ...newKeyRecord({ partition, accountId, region, keyId, keySpec: spec, description: flags.description, creationDate: now }),
      material: wrapped,
    })
    if (flags.alias !== undefined) {
      await admin.store.insertAlias({ accountId, region, aliasName: flags.alias, keyId, creationDate: now, lastUpdatedDate: now }).catch(() => {
        throw new AdminError(`key ${keyId} was created, but alias ${flags.alias ?? ''} already exists`)
      })
    }
    process.stdout.write(table(['KEY ID', 'ARN', 'SPEC', 'ALIAS'], [[keyId, arn, spec, flags.alias ?? '']]))
  })
}

export async function keysSetEnabled(flags: RawSettings & { keyId: string }, enable: boolean): Promise<void> {
  await withAdmin(flags, async (admin) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { record, arn } = await findKey(admin, flags.keyId)
      let state
      try {
        state = transition(enable ? 'EnableKey' : 'DisableKey', arn, record.state)
      } catch (err) {
        if (err instanceof KmsError) throw new AdminError(err.message)
        throw err
      }
      try {
        await admin.store.updateKey({ ...record, state })
        process.stdout.write(`${arn}: ${state}\n`)
        return
      } catch {
        // Another writer won the race: read the key again.
      }
    }
    throw new AdminError(`key ${flags.keyId} kept changing; try again`)
  })
}
