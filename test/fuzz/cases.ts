// Request generators for the fuzzers (fast-check): random and truncated JSON, a wrong JSON type for
// every member of every operation, odd numbers and base64, huge and deep bodies, duplicate keys,
// bad UTF-8, odd targets, headers, methods and paths. Each yields a FuzzRequest with what its
// answer must be.
import fc from 'fast-check'
import type { FuzzRequest } from './wire.js'

/** JSON kinds of request members, as protocol/validate.ts reads them. */
export type Kind = 'string' | 'blob' | 'int' | 'bool' | 'timestamp' | 'strings' | 'tags' | 'struct' | 'map'

const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab'
const B64 = 'aGVsbG8='

/** A valid value of each kind: the rest of a request stays well formed while one member is wrong. */
const VALID: Readonly<Record<Kind, unknown>> = {
  string: KEY,
  blob: B64,
  int: 10,
  bool: false,
  timestamp: 1_900_000_000,
  strings: ['GenerateMac'],
  tags: [{ TagKey: 'k', TagValue: 'v' }],
  struct: { AttestationDocument: 'x' },
  map: { a: 'b' },
}

/**
 * Request members per operation, copied from the `request:` tables in src/operations (the shapes
 * in the botocore model). Kept by hand: the operation table erases them behind `execute`.
 */
export const OPERATION_MEMBERS: Readonly<Record<string, Readonly<Record<string, Kind>>>> = {
  CreateKey: { Policy: 'string', Description: 'string', KeyUsage: 'string', CustomerMasterKeySpec: 'string', KeySpec: 'string', Origin: 'string', CustomKeyStoreId: 'string', BypassPolicyLockoutSafetyCheck: 'bool', Tags: 'tags', MultiRegion: 'bool', XksKeyId: 'string' },
  DescribeKey: { KeyId: 'string', GrantTokens: 'strings' },
  ListKeys: { Limit: 'int', Marker: 'string' },
  GenerateMac: { Message: 'blob', KeyId: 'string', MacAlgorithm: 'string', GrantTokens: 'strings', DryRun: 'bool' },
  VerifyMac: { Message: 'blob', KeyId: 'string', MacAlgorithm: 'string', Mac: 'blob', GrantTokens: 'strings', DryRun: 'bool' },
  EnableKey: { KeyId: 'string' },
  DisableKey: { KeyId: 'string' },
  ScheduleKeyDeletion: { KeyId: 'string', PendingWindowInDays: 'int' },
  CancelKeyDeletion: { KeyId: 'string' },
  UpdateKeyDescription: { KeyId: 'string', Description: 'string' },
  CreateAlias: { AliasName: 'string', TargetKeyId: 'string' },
  UpdateAlias: { AliasName: 'string', TargetKeyId: 'string' },
  DeleteAlias: { AliasName: 'string' },
  ListAliases: { KeyId: 'string', Limit: 'int', Marker: 'string' },
  TagResource: { KeyId: 'string', Tags: 'tags' },
  UntagResource: { KeyId: 'string', TagKeys: 'strings' },
  ListResourceTags: { KeyId: 'string', Limit: 'int', Marker: 'string' },
  GetKeyPolicy: { KeyId: 'string', PolicyName: 'string' },
  PutKeyPolicy: { KeyId: 'string', PolicyName: 'string', Policy: 'string', BypassPolicyLockoutSafetyCheck: 'bool' },
  ListKeyPolicies: { KeyId: 'string', Limit: 'int', Marker: 'string' },
  CreateGrant: { KeyId: 'string', GranteePrincipal: 'string', RetiringPrincipal: 'string', Operations: 'strings', Name: 'string', GrantTokens: 'strings', DryRun: 'bool' },
  ListGrants: { KeyId: 'string', Limit: 'int', Marker: 'string', GrantId: 'string', GranteePrincipal: 'string' },
  ListRetirableGrants: { RetiringPrincipal: 'string', Limit: 'int', Marker: 'string' },
  RetireGrant: { GrantToken: 'string', KeyId: 'string', GrantId: 'string', DryRun: 'bool' },
  RevokeGrant: { KeyId: 'string', GrantId: 'string', DryRun: 'bool' },
  GetParametersForImport: { KeyId: 'string', WrappingAlgorithm: 'string', WrappingKeySpec: 'string' },
  ImportKeyMaterial: { KeyId: 'string', ImportToken: 'blob', EncryptedKeyMaterial: 'blob', ValidTo: 'timestamp', ExpirationModel: 'string', ImportType: 'string', KeyMaterialDescription: 'string', KeyMaterialId: 'string' },
  DeleteImportedKeyMaterial: { KeyId: 'string', KeyMaterialId: 'string' },
  ReplicateKey: { KeyId: 'string', ReplicaRegion: 'string', Policy: 'string', BypassPolicyLockoutSafetyCheck: 'bool', Description: 'string', Tags: 'tags' },
  UpdatePrimaryRegion: { KeyId: 'string', PrimaryRegion: 'string' },
  GetKeyRotationStatus: { KeyId: 'string' },
  EnableKeyRotation: { KeyId: 'string', RotationPeriodInDays: 'int' },
  DisableKeyRotation: { KeyId: 'string' },
  RotateKeyOnDemand: { KeyId: 'string' },
  ListKeyRotations: { KeyId: 'string', Limit: 'int', Marker: 'string' },
  GenerateRandom: { NumberOfBytes: 'int', CustomKeyStoreId: 'string', Recipient: 'struct' },
  Encrypt: { KeyId: 'string', GrantTokens: 'strings' },
  Decrypt: { KeyId: 'string', GrantTokens: 'strings' },
  ReEncrypt: { DestinationKeyId: 'string', SourceKeyId: 'string', GrantTokens: 'strings' },
  GenerateDataKey: { KeyId: 'string', GrantTokens: 'strings' },
  GenerateDataKeyWithoutPlaintext: { KeyId: 'string', GrantTokens: 'strings' },
  GenerateDataKeyPair: { KeyId: 'string', GrantTokens: 'strings' },
  GenerateDataKeyPairWithoutPlaintext: { KeyId: 'string', GrantTokens: 'strings' },
  Sign: { KeyId: 'string', GrantTokens: 'strings' },
  Verify: { KeyId: 'string', GrantTokens: 'strings' },
  DeriveSharedSecret: { KeyId: 'string', GrantTokens: 'strings' },
  GetPublicKey: { KeyId: 'string', GrantTokens: 'strings' },
}

export const OPERATION_NAMES = Object.keys(OPERATION_MEMBERS)

/**
 * Operations that a random body may make succeed with a change that tests after the run must
 * account for (a new key); the fuzzer records their 200 answers.
 */
export const CREATING = new Set(['CreateKey', 'ReplicateKey'])

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable', 'toLocaleString', 'prototype']

/** JSON values of every kind except `kind` (null is absent, so it is never "wrong"). */
function wrongValues(kind: Kind): fc.Arbitrary<unknown> {
  const str = fc.string({ maxLength: 20 })
  const num = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
  const obj = fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 })
  const arr = fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 3 })
  switch (kind) {
    case 'string':
    case 'blob':
      return fc.oneof(num, fc.boolean(), arr, obj)
    case 'int':
      return fc.oneof(str, fc.boolean(), arr, obj, fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isSafeInteger(d)))
    case 'bool':
      return fc.oneof(str, num, arr, obj, fc.constantFrom('true', 'false', 0, 1))
    case 'timestamp':
      return fc.oneof(str, fc.boolean(), arr, obj)
    case 'strings':
      return fc.oneof(str, num, fc.boolean(), obj, fc.array(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), obj), { minLength: 1, maxLength: 3 }))
    case 'tags':
      return fc.oneof(str, num, fc.boolean(), obj, fc.array(fc.oneof(str, num, fc.constant(null), fc.constant({ TagKey: 5, TagValue: 'v' })), { minLength: 1, maxLength: 3 }))
    case 'struct':
      return fc.oneof(str, num, fc.boolean(), arr, fc.constant({ AttestationDocument: 5 }))
    case 'map':
      return fc.oneof(str, num, fc.boolean(), arr, fc.constant({ a: 5 }))
  }
}

function validBody(op: string): Record<string, unknown> {
  const members = OPERATION_MEMBERS[op] ?? {}
  return Object.fromEntries(Object.entries(members).map(([name, kind]) => [name, VALID[kind]]))
}

const opName = fc.constantFrom(...OPERATION_NAMES)
const target = (op: string): string => `TrentService.${op}`
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8')

/** One member of one operation has a JSON value of the wrong type: SerializationException. */
const wrongType: fc.Arbitrary<FuzzRequest> = opName
  .chain((op) => fc.tuple(fc.constant(op), fc.constantFrom(...Object.keys(OPERATION_MEMBERS[op] ?? {}))))
  .chain(([op, member]) =>
    wrongValues(OPERATION_MEMBERS[op]?.[member] ?? 'string').map((value): FuzzRequest => ({
      family: 'wrong-type',
      target: target(op),
      body: utf8(JSON.stringify({ ...validBody(op), [member]: value })),
      signed: true,
      mustFail: true,
      expect: ['SerializationException'],
    })),
  )

/** Random JSON (any value, often not an object) to a random operation. */
const randomJson: fc.Arbitrary<FuzzRequest> = fc.tuple(opName, fc.json({ maxDepth: 4 })).map(([op, text]): FuzzRequest => {
  const value: unknown = JSON.parse(text)
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value)
  return { family: 'random-json', target: target(op), body: utf8(text), signed: true, mustFail: !isObject, ...(isObject ? {} : { expect: ['SerializationException'] }) }
})

/** Random members with random values (right names, any types) merged into a valid body. */
const randomMembers: fc.Arbitrary<FuzzRequest> = opName.chain((op) =>
  fc
    .dictionary(fc.constantFrom(...Object.keys(OPERATION_MEMBERS[op] ?? {}), ...PROTOTYPE_NAMES), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    .map((extra): FuzzRequest => ({ family: 'random-members', target: target(op), body: utf8(JSON.stringify({ ...validBody(op), ...extra })), signed: true, mustFail: false })),
)

/** A valid body cut short somewhere: never JSON, so SerializationException. */
const truncated: fc.Arbitrary<FuzzRequest> = opName.chain((op) => {
  const text = JSON.stringify(validBody(op))
  return fc.integer({ min: 1, max: Math.max(1, text.length - 1) }).map((cut): FuzzRequest => ({
    family: 'truncated-json',
    target: target(op),
    body: utf8(text.slice(0, cut)),
    signed: true,
    mustFail: true,
    expect: ['SerializationException'],
  }))
})

/** Integers out of range, negative, fractional, beyond 2^53, or overflowing to Infinity. */
const oddNumbers: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom(['ListKeys', 'Limit'], ['ScheduleKeyDeletion', 'PendingWindowInDays'], ['GenerateRandom', 'NumberOfBytes'], ['EnableKeyRotation', 'RotationPeriodInDays'], ['ListGrants', 'Limit'], ['ListAliases', 'Limit']),
    fc.constantFrom('-1', '0', '-0', '1.5', '1e300', '1e400', '-1e400', '9007199254740993', '100000000000000000000', '2.0000000001', '1E3', '-9223372036854775808', '0.0000001', '4294967297'),
  )
  .map(([[op, member], number]): FuzzRequest => {
    const base = JSON.stringify(validBody(op)).slice(1, -1)
    const body = `{${base}${base === '' ? '' : ','}"${member}":${number}}`
    // "1E3" is a valid integer (1000), within some of these ranges.
    if (number === '1E3') return { family: 'odd-number', target: target(op), body: utf8(body), signed: true, mustFail: false }
    return { family: 'odd-number', target: target(op), body: utf8(body), signed: true, mustFail: true, expect: ['SerializationException', 'ValidationException'] }
  })

/** Blobs that are not base64, or decode to more bytes than the model allows. */
const badBase64: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom(['GenerateMac', 'Message'], ['VerifyMac', 'Message'], ['VerifyMac', 'Mac'], ['ImportKeyMaterial', 'ImportToken'], ['ImportKeyMaterial', 'EncryptedKeyMaterial']),
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)),
      fc.constantFrom('aGk', 'aGk==', '====', 'a===', 'aGVsbG8', ' aGk=', 'aGk=\n', 'aG-k', 'aG_k', '\u0000\u0000\u0000\u0000', 'aGk=aGk=', '=aGk'),
      fc.integer({ min: 6145, max: 20_000 }).map((n) => Buffer.alloc(n, 7).toString('base64')),
      fc.constant(''),
    ),
  )
  .map(([[op, member], value]): FuzzRequest => ({
    family: 'bad-base64',
    target: target(op),
    body: utf8(JSON.stringify({ ...validBody(op), [member]: value })),
    signed: true,
    mustFail: true,
    expect: ['SerializationException', 'ValidationException'],
  }))

/** Very deep nesting inside an ignored member and inside a read one, and wide bodies near the limit. */
const hugeAndDeep: fc.Arbitrary<FuzzRequest> = fc
  .tuple(opName, fc.integer({ min: 1000, max: 50_000 }), fc.constantFrom('unknown-deep', 'member-deep', 'array-deep', 'wide', 'long-string', 'over-limit'))
  .map(([op, n, how]): FuzzRequest => {
    const members = Object.keys(OPERATION_MEMBERS[op] ?? {})
    const member = members[n % Math.max(1, members.length)] ?? 'KeyId'
    const base = JSON.stringify(validBody(op)).slice(1, -1)
    const sep = base === '' ? '' : ','
    switch (how) {
      case 'unknown-deep':
        return { family: 'deep', target: target(op), body: utf8(`{${base}${sep}"Deep":${'['.repeat(n)}${']'.repeat(n)}}`), signed: true, mustFail: false }
      case 'member-deep':
        return { family: 'deep', target: target(op), body: utf8(`{${base}${sep}"${member}":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`), signed: true, mustFail: true }
      case 'array-deep':
        return { family: 'deep', target: target(op), body: utf8(`${'['.repeat(n)}${']'.repeat(n)}`), signed: true, mustFail: true, expect: ['SerializationException'] }
      case 'wide':
        return { family: 'huge', target: target(op), body: utf8(JSON.stringify({ ...validBody(op), ...Object.fromEntries(Array.from({ length: n / 10 }, (_, i) => [`k${i}`, i])) })), signed: true, mustFail: false }
      case 'long-string':
        // Longer than every string maximum but Policy's; an over-long 'xxx...' policy is malformed anyway.
        return { family: 'huge', target: target(op), body: utf8(JSON.stringify({ ...validBody(op), [member]: 'x'.repeat(8196 + n * 4) })), signed: true, mustFail: true }
      case 'over-limit':
        // Above the default 256 KiB body limit: refused before it is parsed.
        return { family: 'huge', target: target(op), body: Buffer.alloc(256 * 1024 + n, 0x20), signed: true, mustFail: true, expect: ['SerializationException'] }
    }
  })

/** The same key twice with different types; JSON.parse keeps the last one. */
const duplicateKeys: fc.Arbitrary<FuzzRequest> = opName.chain((op) =>
  fc.constantFrom(...Object.keys(OPERATION_MEMBERS[op] ?? {})).map((member): FuzzRequest => {
    const base = JSON.stringify(validBody(op)).slice(1, -1)
    const kind = OPERATION_MEMBERS[op]?.[member]
    // The second value is of a type wrong for the member, so the answer shows which one won.
    const second = kind === 'int' || kind === 'timestamp' ? '"5"' : kind === 'struct' || kind === 'map' ? '5' : '{"nested":true}'
    return { family: 'duplicate-keys', target: target(op), body: utf8(`{${base},"${member}":${second}}`), signed: true, mustFail: true, expect: ['SerializationException'] }
  }),
)

/** Invalid UTF-8 inside a string value, or a body of random bytes. */
const badUtf8: fc.Arbitrary<FuzzRequest> = fc
  .tuple(opName, fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xfe, 0xff]), fc.uint8Array({ minLength: 1, maxLength: 200 }))
  .map(([op, bad, noise]): FuzzRequest => {
    const useNoise = noise[0] !== undefined && noise[0] % 2 === 0
    const body = useNoise
      ? Buffer.concat([Buffer.from(noise), Buffer.from(bad)])
      : Buffer.concat([utf8(`{"KeyId":"`), Buffer.from(bad), utf8('"}')])
    return { family: 'bad-utf8', target: target(op), body, signed: true, mustFail: true, expect: ['SerializationException'] }
  })

/** Targets that must not name an operation: case changes, whitespace, prototype names, others. */
const oddTarget: fc.Arbitrary<FuzzRequest> = fc
  .oneof(
    opName.map((op) => `trentservice.${op}`),
    opName.map((op) => `TrentService.${op.toLowerCase()}`),
    opName.map((op) => `TRENTSERVICE.${op}`),
    opName.chain((op) => fc.constantFrom(`TrentService.${op} `, ` TrentService.${op}`, `TrentService.${op}\t`, `TrentService. ${op}`, `TrentService.${op}.`, `TrentService..${op}`, `TrentService/${op}`, `TrentService.${op}, TrentService.ListKeys`)),
    fc.constantFrom(...PROTOTYPE_NAMES).map((p) => `TrentService.${p}`),
    fc.constantFrom('TrentService.', 'TrentService', '', '.', 'Other.ListKeys', 'TrentService.Nope'),
    fc.string({ maxLength: 40 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
  )
  .filter((t) => !(t.startsWith('TrentService.') && Object.hasOwn(OPERATION_MEMBERS, t.slice('TrentService.'.length))))
  .chain((t) => {
    // HTTP strips whitespace around a header value (RFC 9110 §5.5) before the server sees it:
    // ' TrentService.ListKeys\t' is TrentService.ListKeys on the wire, so it may succeed.
    const trimmed = t.trim()
    const sameAsValid = trimmed.startsWith('TrentService.') && Object.hasOwn(OPERATION_MEMBERS, trimmed.slice('TrentService.'.length))
    return fc.boolean().map((signed): FuzzRequest => ({
      family: 'odd-target',
      target: t,
      body: utf8('{}'),
      signed,
      mustFail: !sameAsValid,
      ...(sameAsValid ? {} : { expect: ['UnknownOperationException'] }),
    }))
  })

/** Wrong or missing content types, methods and paths. */
const oddEnvelope: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.constantFrom('application/json', 'text/plain', 'application/x-amz-json-1.2', 'application/x-amz-json', '', 'application/x-amz-json-1.1x', 'multipart/form-data').map(
    (contentType): FuzzRequest => ({ family: 'content-type', target: 'TrentService.ListKeys', body: utf8('{}'), signed: true, contentType, mustFail: true, expect: ['UnknownOperationException'] }),
  ),
  fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS').map(
    (method): FuzzRequest => ({ family: 'method', target: 'TrentService.ListKeys', body: utf8('{}'), signed: false, method, mustFail: true, expect: ['UnknownOperationException', 'SerializationException'] }),
  ),
  fc.constantFrom('/x', '/..', '//', '/?', '/%00', '/metrics/x', '/healthz/', '/TrentService.ListKeys', '/' + 'a'.repeat(4000)).map(
    (path): FuzzRequest => ({ family: 'path', target: 'TrentService.ListKeys', body: utf8('{}'), signed: false, path, mustFail: true, expect: ['UnknownOperationException', 'MissingAuthenticationTokenException'] }),
  ),
)

/** Garbled or missing signatures over valid bodies. */
const badAuth: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom('ListKeys', 'GenerateMac', 'CreateKey', 'DescribeKey'),
    fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 200 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
      fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256 Credential=', 'AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00', 'AWS4-HMAC-SHA256 Credential=AKIAMACAWTESTROOT001/20200101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + '0'.repeat(64), 'Basic dXNlcjpwYXNz', 'AWS4-HMAC-SHA512 Credential=x'),
    ),
  )
  .map(([op, authorization]): FuzzRequest => ({
    family: 'bad-auth',
    target: target(op),
    body: utf8(JSON.stringify(validBody(op))),
    signed: false,
    ...(authorization === undefined ? {} : { unsignedExtra: { authorization, 'x-amz-date': '20200101T000000Z' } }),
    mustFail: true,
    expect: ['MissingAuthenticationTokenException', 'IncompleteSignatureException', 'InvalidSignatureException', 'UnrecognizedClientException'],
  }))

/** Signed requests with odd extra headers (signed or not) that must not change the outcome class. */
const oddHeaders: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom(...PROTOTYPE_NAMES.map((p) => p.toLowerCase()), 'x-amz-security-token', 'x-amz-content-sha256', 'x-forwarded-for', 'x-amz-user-agent'),
    fc.string({ maxLength: 30 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
    fc.boolean(),
  )
  .map(([name, value, signHeader]): FuzzRequest => {
    const extra = { [name]: value }
    return {
      family: 'odd-header',
      target: 'TrentService.ListKeys',
      body: utf8('{}'),
      signed: true,
      ...(signHeader ? { signedExtra: extra } : { unsignedExtra: extra }),
      // A wrong x-amz-content-sha256 is a signature failure; the others are harmless.
      mustFail: false,
    }
  })

export interface Family {
  readonly name: string
  readonly weight: number
  readonly arbitrary: fc.Arbitrary<FuzzRequest>
}

export const FAMILIES: readonly Family[] = [
  { name: 'wrong-type', weight: 30, arbitrary: wrongType },
  { name: 'random-json', weight: 15, arbitrary: randomJson },
  { name: 'random-members', weight: 15, arbitrary: randomMembers },
  { name: 'truncated-json', weight: 8, arbitrary: truncated },
  { name: 'odd-number', weight: 5, arbitrary: oddNumbers },
  { name: 'bad-base64', weight: 6, arbitrary: badBase64 },
  { name: 'huge-and-deep', weight: 2, arbitrary: hugeAndDeep },
  { name: 'duplicate-keys', weight: 5, arbitrary: duplicateKeys },
  { name: 'bad-utf8', weight: 5, arbitrary: badUtf8 },
  { name: 'odd-target', weight: 8, arbitrary: oddTarget },
  { name: 'odd-envelope', weight: 4, arbitrary: oddEnvelope },
  { name: 'bad-auth', weight: 6, arbitrary: badAuth },
  { name: 'odd-header', weight: 3, arbitrary: oddHeaders },
]

/** All families mixed by weight. */
export const anyRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(...FAMILIES.map((f) => ({ arbitrary: f.arbitrary, weight: f.weight })))
