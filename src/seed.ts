// Seed files (`macaw serve --seed <file>`, YAML or JSON): keys with fixed ids, specs, material,
// descriptions, aliases, tags and policies, created if they do not exist yet, so a test
// environment starts with known keys. The whole file is checked before anything is written; a
// problem is reported with its line. Applying is idempotent: existing keys and aliases are kept.
import { randomBytes } from 'node:crypto'
import { newKeyRecord } from './keys/record.js'
import { readFileSync } from 'node:fs'
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml'
import { compilePolicy } from './auth/policy.js'
import { keyMaterialContext, seal } from './crypto/envelope.js'
import { importLengthRange } from './crypto/hmac.js'
import { HMAC_KEY_SPECS, type HmacKeySpec, type Tag } from './domain.js'
import { keyArn } from './keys/arn.js'
import { checkAliasName } from './keys/aliases.js'
import { checkRequestTags, sortTags } from './keys/tags.js'
import { KmsError } from './protocol/errors.js'
import type { Store } from './store/store.js'
import type { RootOfTrust } from './trust/root-of-trust.js'

export class SeedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SeedError'
  }
}

export interface SeedKey {
  readonly accountId: string
  readonly region: string
  readonly keyId: string
  readonly spec: HmacKeySpec
  readonly material: Buffer | undefined
  readonly description: string
  readonly enabled: boolean
  readonly aliases: readonly string[]
  readonly tags: readonly Tag[]
  readonly policy: string | undefined
}

const KEY_FIELDS = new Set(['id', 'accountId', 'region', 'spec', 'material', 'description', 'enabled', 'aliases', 'tags', 'policy'])
const KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/

/** Reads and checks a seed file; every problem names the file and line. */
export function readSeed(file: string, defaults: { accountId: string; region: string }): SeedKey[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new SeedError(`cannot read seed file ${file}: ${(err as Error).message}`)
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true })
  const at = (path: readonly (string | number)[]): string => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined
    const offset = node?.range?.[0]
    return offset === undefined ? file : `${file}:${lineCounter.linePos(offset).line}`
  }
  const first = doc.errors[0]
  if (first !== undefined) throw new SeedError(`${file}:${first.linePos?.[0].line ?? '?'}: ${first.message.split('\n')[0] ?? ''}`)
  return seedKeys(doc, at, defaults)
}

function seedKeys(doc: Document, at: (path: readonly (string | number)[]) => string, defaults: { accountId: string; region: string }): SeedKey[] {
  const fail = (path: readonly (string | number)[], reason: string): never => {
    throw new SeedError(`${at(path)}: ${reason}`)
  }
  if (!isMap(doc.contents)) fail([], 'a seed file is a mapping with a `keys` list')
  const root = doc.toJS() as Record<string, unknown>
  for (const field of Object.keys(root)) if (field !== 'keys' && field !== 'version') fail([field], `unknown field '${field}' (expected keys, version)`)
  if (root['version'] !== undefined && root['version'] !== 1) fail(['version'], 'version must be 1')
  if (!isSeq(doc.get('keys', true))) fail(['keys'], '`keys` must be a list')
  const raw = root['keys'] as unknown[]
  const seen = new Set<string>()
  const aliasesSeen = new Set<string>()
  return raw.map((item, i): SeedKey => {
    const path = ['keys', i]
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return fail(path, 'each key must be a mapping')
    const k = item as Record<string, unknown>
    for (const field of Object.keys(k)) if (!KEY_FIELDS.has(field)) fail([...path, field], `unknown field '${field}' (expected ${[...KEY_FIELDS].join(', ')})`)
    const str = (name: string, fallback?: string): string => {
      const v = k[name] ?? fallback
      if (typeof v !== 'string') return fail([...path, name], `${name} must be a string`)
      return v
    }
    const keyId = str('id')
    if (!KEY_ID.test(keyId)) fail([...path, 'id'], `id '${keyId}' must be a lower-case UUID or mrk- followed by 32 hex digits`)
    const accountId = str('accountId', defaults.accountId)
    if (!/^\d{12}$/.test(accountId)) fail([...path, 'accountId'], 'accountId must be 12 digits')
    const region = str('region', defaults.region)
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) fail([...path, 'region'], `region '${region}' is not a region name`)
    const spec = str('spec', 'HMAC_256') as HmacKeySpec
    if (!HMAC_KEY_SPECS.includes(spec)) fail([...path, 'spec'], `spec must be one of ${HMAC_KEY_SPECS.join(', ')}`)
    const id = `${accountId}/${region}/${keyId}`
    if (seen.has(id)) fail([...path, 'id'], `key ${keyId} appears twice`)
    seen.add(id)
    let material: Buffer | undefined
    if (k['material'] !== undefined) {
      const m = /^(hex|base64):(.*)$/s.exec(str('material'))
      if (!m) return fail([...path, 'material'], 'material must be "hex:<hex digits>" or "base64:<base64>"')
      const encoding = m[1] === 'hex' ? 'hex' : 'base64'
      const body = (m[2] ?? '').trim()
      const valid = encoding === 'hex' ? /^([0-9a-fA-F]{2})+$/.test(body) : /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0
      if (!valid) fail([...path, 'material'], `material is not valid ${encoding}`)
      material = Buffer.from(body, encoding)
      const range = importLengthRange(spec)
      if (material.length < range.min || material.length > range.max) {
        fail([...path, 'material'], `material for ${spec} must be ${range.min} to ${range.max} bytes, got ${material.length}`)
      }
    }
    const enabled = k['enabled'] ?? true
    if (typeof enabled !== 'boolean') return fail([...path, 'enabled'], 'enabled must be true or false')
    const aliasList = k['aliases'] ?? []
    if (!Array.isArray(aliasList) || aliasList.some((a) => typeof a !== 'string')) return fail([...path, 'aliases'], 'aliases must be a list of alias names')
    aliasList.forEach((a: string, j: number) => {
      try {
        checkAliasName(a)
      } catch (err) {
        fail([...path, 'aliases', j], err instanceof KmsError ? err.message : String(err))
      }
      const aliasId = `${accountId}/${region}/${a}`
      if (aliasesSeen.has(aliasId)) fail([...path, 'aliases', j], `alias ${a} appears twice`)
      aliasesSeen.add(aliasId)
    })
    const tagMap = k['tags'] ?? {}
    if (typeof tagMap !== 'object' || tagMap === null || Array.isArray(tagMap)) return fail([...path, 'tags'], 'tags must be a mapping of tag key to value')
    let tags: Tag[] = []
    try {
      tags = sortTags(checkRequestTags(Object.entries(tagMap).map(([TagKey, v]) => ({ TagKey, TagValue: String(v) }))))
    } catch (err) {
      fail([...path, 'tags'], err instanceof KmsError ? err.message : String(err))
    }
    let policy: string | undefined
    if (k['policy'] !== undefined) {
      policy = typeof k['policy'] === 'string' ? k['policy'] : JSON.stringify(k['policy'], null, 2)
      try {
        compilePolicy(policy, 'key')
      } catch (err) {
        fail([...path, 'policy'], `policy: ${err instanceof KmsError ? err.message : String(err)}`)
      }
    }
    return { accountId, region, keyId, spec, material, description: typeof k['description'] === 'string' ? k['description'] : '', enabled, aliases: aliasList as string[], tags, policy }
  })
}

/**
 * Creates the seed's keys and aliases that do not exist yet. Checks every alias against the store
 * first, so a conflict is reported before anything is written. Returns what was created.
 */
export async function applySeed(keys: readonly SeedKey[], store: Store, root: RootOfTrust, partition: string, now: number): Promise<{ keys: number; aliases: number }> {
  for (const k of keys) {
    for (const a of k.aliases) {
      const existing = await store.getAlias(k.accountId, k.region, a)
      if (existing !== undefined && existing.keyId !== k.keyId) {
        throw new SeedError(`alias ${a} already points at key ${existing.keyId}, not ${k.keyId}`)
      }
    }
  }
  let createdKeys = 0
  let createdAliases = 0
  for (const k of keys) {
    if ((await store.getKey(k.accountId, k.region, k.keyId)) === undefined) {
      const arn = keyArn(partition, k.region, k.accountId, k.keyId)
      const material = k.material === undefined ? randomBytes(importLengthRange(k.spec).min) : Buffer.from(k.material)
      const sealed = await seal(root, material, keyMaterialContext(arn))
      material.fill(0)
      const fields = newKeyRecord({
        partition,
        accountId: k.accountId,
        region: k.region,
        keyId: k.keyId,
        keySpec: k.spec,
        enabled: k.enabled,
        description: k.description,
        creationDate: now,
        primaryRegion: k.keyId.startsWith('mrk-') ? k.region : undefined,
        policy: k.policy,
        tags: k.tags,
      })
      await store.insertKey({ ...fields, material: sealed })
      createdKeys++
    }
    for (const a of k.aliases) {
      if ((await store.getAlias(k.accountId, k.region, a)) === undefined) {
        await store.insertAlias({ accountId: k.accountId, region: k.region, aliasName: a, keyId: k.keyId, creationDate: now, lastUpdatedDate: now })
        createdAliases++
      }
    }
  }
  return { keys: createdKeys, aliases: createdAliases }
}
