// Key and alias identifiers: formats, ARNs and the parsing of the four KeyId forms (AWS KMS Developer Guide, Key identifiers (KeyId)).

export const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const MRK_KEY_ID = /^mrk-[0-9a-f]{32}$/
const ARN = /^arn:([a-z-]+):kms:([^:]*):([^:]*):(key|alias)\/(.+)$/s

export function isKeyId(id: string): boolean {
  return KEY_ID.test(id) || MRK_KEY_ID.test(id)
}

export function keyArn(partition: string, region: string, accountId: string, keyId: string): string {
  return `arn:${partition}:kms:${region}:${accountId}:key/${keyId}`
}

export function aliasArn(partition: string, region: string, accountId: string, aliasName: string): string {
  return `arn:${partition}:kms:${region}:${accountId}:${aliasName}`
}

export type KeyIdentifier =
  | { readonly form: 'keyId'; readonly keyId: string }
  | { readonly form: 'aliasName'; readonly aliasName: string }
  | {
      readonly form: 'keyArn' | 'aliasArn'
      readonly partition: string
      readonly region: string
      readonly accountId: string
      /** The key id, or the alias name with its `alias/` prefix. */
      readonly resource: string
    }
  | { readonly form: 'invalidArn'; readonly text: string }
  | { readonly form: 'invalid'; readonly text: string }

/** Classifies a KeyId value without touching the store. */
export function parseKeyIdentifier(text: string): KeyIdentifier {
  if (text.startsWith('arn:')) {
    const m = ARN.exec(text)
    if (!m) return { form: 'invalidArn', text }
    const [, partition = '', region = '', accountId = '', type, rest = ''] = m
    if (type === 'key') return { form: 'keyArn', partition, region, accountId, resource: rest }
    return { form: 'aliasArn', partition, region, accountId, resource: `alias/${rest}` }
  }
  if (text.startsWith('alias/')) return { form: 'aliasName', aliasName: text }
  if (isKeyId(text)) return { form: 'keyId', keyId: text }
  return { form: 'invalid', text }
}
