// Tag rules shared by CreateKey and TagResource (AWS KMS Developer Guide, Tags): reserved `aws:` prefix in any
// case, unique keys, at most 50 tags per key.
import type { Tag } from '../domain.js'
import { TagException } from '../protocol/errors.js'

export const MAX_TAGS = 50

/** Checks tags of one request; returns them as records. */
export function checkRequestTags(tags: readonly { TagKey: string; TagValue: string }[]): Tag[] {
  const seen = new Set<string>()
  for (const t of tags) {
    if (t.TagKey.toLowerCase().startsWith('aws:')) throw new TagException('Tags beginning with aws: are reserved')
    if (seen.has(t.TagKey)) throw new TagException('Duplicate tag keys')
    seen.add(t.TagKey)
  }
  if (tags.length > MAX_TAGS) throw new TagException('Too many tags')
  return tags.map((t) => ({ key: t.TagKey, value: t.TagValue }))
}

/** Existing tags with `added` applied (values replaced, new keys added), sorted by key. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const byKey = new Map(existing.map((t) => [t.key, t.value]))
  for (const t of added) byKey.set(t.key, t.value)
  if (byKey.size > MAX_TAGS) throw new TagException('Too many tags')
  return sortTags([...byKey].map(([key, value]) => ({ key, value })))
}

export function sortTags(tags: readonly Tag[]): Tag[] {
  return [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

export function wireTags(tags: readonly Tag[]): { TagKey: string; TagValue: string }[] {
  return tags.map((t) => ({ TagKey: t.key, TagValue: t.value }))
}
