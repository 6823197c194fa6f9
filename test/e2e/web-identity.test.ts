// Web-identity federation against a real two-worker server: OIDC ID tokens signed by a test
// issuer (keys from a JWKS file, and from a discovery document served over HTTPS on 127.0.0.1),
// exchanged with AssumeRoleWithWebIdentity through the JS v3 SDK, through the SDKs' own
// web-identity credential chains (JS and boto3, no code change), and attacks on the token.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { GenerateMacCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'
import { createRole, macaw, removeDataDir, spawnServer, type ServerProcess } from '../helpers/process.js'
import { PYTHON, python } from '../helpers/python.js'
import { ACCOUNT, REGION, kmsClient } from '../helpers/server.js'
import { repoPath } from '../helpers/repo.js'

const FILE_ISSUER = 'https://issuer.test/cluster'
const AUDIENCE = 'sts.amazonaws.com'
const SUBJECT = 'system:serviceaccount:default:app'

interface Signer {
  readonly key: CryptoKey
  readonly jwk: JWK
  readonly alg: string
}

async function signer(alg: 'RS256' | 'ES256', kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { key: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, alg }
}

function token(s: Signer, claims: { iss?: string; aud?: string | string[]; sub?: string; exp?: number; iat?: number; nbf?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: s.alg, kid: s.jwk.kid ?? '' })
    .setIssuer(claims.iss ?? FILE_ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject(claims.sub ?? SUBJECT)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 600)
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf)
  return jwt.sign(s.key)
}

/** `header.payload.` with alg none: no signature at all. */
function unsignedToken(): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: FILE_ISSUER, aud: AUDIENCE, sub: SUBJECT, iat: now, exp: now + 600 })}.`
}

const trustProvider = (url: string, sub = SUBJECT): object => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${url}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${url}:sub`]: sub, [`${url}:aud`]: AUDIENCE } },
    },
  ],
})

describe('web-identity federation (OIDC)', { timeout: 180_000 }, () => {
  let dir = ''
  let server: ServerProcess
  let issuer: Server
  let issuerUrl = ''
  let rsa: Signer
  let ec: Signer
  let stranger: Signer
  let roleArn = ''
  let keyId = ''
  const clients: { destroy(): void }[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'macaw-oidc-'))
    ;[rsa, ec, stranger] = await Promise.all([signer('RS256', 'rsa-1'), signer('ES256', 'ec-1'), signer('RS256', 'rsa-1')])
    // The discovery issuer: HTTPS on 127.0.0.1 with a certificate the server is told to trust.
    const cert = join(dir, 'issuer.pem')
    const keyFile = join(dir, 'issuer-key.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
    issuer = createServer({ cert: await readFile(cert), key: await readFile(keyFile) }, (req, res) => {
      const body =
        req.url === '/oidc/.well-known/openid-configuration'
          ? { issuer: issuerUrl, jwks_uri: `${issuerUrl}/keys` }
          : req.url === '/oidc/keys'
            ? { keys: [ec.jwk] }
            : undefined
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body ?? {}))
    })
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve))
    issuerUrl = `https://127.0.0.1:${(issuer.address() as AddressInfo).port}/oidc`
    server = await spawnServer(dir, { MACAW_WORKERS: '2', NODE_EXTRA_CA_CERTS: cert })
    const jwks = join(dir, 'jwks.json')
    await writeFile(jwks, JSON.stringify({ keys: [rsa.jwk] }))
    await macaw(dir, ['oidc-providers', 'create', '--url', FILE_ISSUER, '--client-id', AUDIENCE, '--jwks-file', jwks])
    await macaw(dir, ['oidc-providers', 'create', '--url', issuerUrl, '--client-id', AUDIENCE])
    roleArn = await createRole(dir, ACCOUNT, 'pods', trustProvider('issuer.test/cluster'))
    await createRole(dir, ACCOUNT, 'discovered', trustProvider(issuerUrl.slice('https://'.length)))
    const root = kmsClient(server.url)
    clients.push(root)
    keyId = (await hmacKey(root)).keyId
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: [roleArn, `arn:aws:iam::${ACCOUNT}:role/discovered`] }, Action: 'kms:GenerateMac', Resource: '*' },
      ],
    })
    await root.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy }))
  })

  after(async () => {
    for (const c of clients) c.destroy()
    await server?.stop()
    await new Promise<void>((resolve) => (issuer ? issuer.close(() => resolve()) : resolve()))
    await removeDataDir(dir)
  })

  const sts = (): STSClient => {
    const c = new STSClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } })
    clients.push(c)
    return c
  }
  const exchange = (WebIdentityToken: string, RoleArn = roleArn) =>
    sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn, RoleSessionName: 'pod-1', WebIdentityToken }))

  it('exchanges a token from a JWKS-file issuer for credentials a key policy naming the role honours', async () => {
    const out = await exchange(await token(rsa))
    assert.equal(out.SubjectFromWebIdentityToken, SUBJECT)
    assert.equal(out.Audience, AUDIENCE)
    assert.equal(out.Provider, FILE_ISSUER)
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/pods/pod-1`)
    const c = out.Credentials
    const kms = new KMSClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' } })
    clients.push(kms)
    const { KeyId } = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.match(KeyId ?? '', /^arn:aws:kms:/)
  })

  it('verifies an ES256 token with keys from the issuer’s discovery document over HTTPS', async () => {
    const out = await exchange(await token(ec, { iss: issuerUrl }), `arn:aws:iam::${ACCOUNT}:role/discovered`)
    assert.equal(out.Provider, issuerUrl)
    assert.match(out.Credentials?.AccessKeyId ?? '', /^ASIA/)
  })

  it('refuses forged, unsigned, expired, misaddressed and untrusted tokens with STS’s errors', async () => {
    const now = Math.floor(Date.now() / 1000)
    // The JS SDK names the modeled error by its shape (code InvalidIdentityToken on the wire).
    const invalid = 'InvalidIdentityTokenException'
    await rejectsWith(exchange(unsignedToken()), invalid)
    await rejectsWith(exchange(await token(stranger)), invalid, /could not be validated/)
    await rejectsWith(exchange(await token(rsa, { aud: 'someone-else' })), invalid, 'Incorrect token audience')
    await rejectsWith(exchange(await token(rsa, { iss: 'https://evil.test' })), invalid, 'No OpenIDConnect provider found in your account for https://evil.test')
    await rejectsWith(exchange(await token(rsa, { exp: now - 600, iat: now - 1200 })), 'ExpiredTokenException', /^Token expired: current date\/time .* must be before the expiration date\/time /)
    await rejectsWith(exchange(await token(rsa, { iat: now + 3600, exp: now + 7200 })), invalid)
    await rejectsWith(exchange(await token(rsa, { nbf: now + 3600 })), invalid)
    await rejectsWith(exchange(await token(rsa, { sub: 'system:serviceaccount:default:other' })), 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403)
    await rejectsWith(exchange(await token(rsa), `arn:aws:iam::${ACCOUNT}:role/none`), 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403)
    // A token the discovery issuer signed is not one of the file issuer's, even with its iss.
    await rejectsWith(exchange(await token(ec)), invalid)
    // HS256 with the public key as the secret (algorithm confusion) is never accepted.
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).setIssuer(FILE_ISSUER).setAudience(AUDIENCE).setSubject(SUBJECT).setIssuedAt().setExpirationTime('10m').sign(Buffer.from(JSON.stringify(rsa.jwk)))
    await rejectsWith(exchange(hs), invalid)
    // On the wire: the Query protocol's ErrorResponse with STS's code, unsigned as the SDKs send it.
    const form = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: 'raw', WebIdentityToken: unsignedToken() })
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form.toString() })
    assert.equal(res.status, 400)
    assert.equal(res.headers.get('content-type'), 'text/xml')
    assert.match(await res.text(), /^<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>InvalidIdentityToken<\/Code><Message>[^<]+<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/)
  })

  it('gives the SDKs’ own web-identity credential chains credentials with no code change (JS v3 and boto3)', async () => {
    const tokenFile = join(dir, 'token')
    await writeFile(tokenFile, await token(rsa))
    // No AWS_* variable of this machine: only what a pod would be given.
    const env: Record<string, string> = {
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith('AWS_') && e[1] !== undefined)),
      AWS_ROLE_ARN: roleArn,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_SESSION_NAME: 'sdk-chain',
      AWS_ENDPOINT_URL_STS: server.url,
      AWS_ENDPOINT_URL_KMS: server.url,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    }
    const js = `
      import { KMSClient, GenerateMacCommand } from '@aws-sdk/client-kms'
      const kms = new KMSClient({ maxAttempts: 1 })
      const out = await kms.send(new GenerateMacCommand({ KeyId: process.argv[1], Message: Buffer.from('x'), MacAlgorithm: 'HMAC_SHA_256' }))
      console.log(out.KeyId)`
    const run = promisify(execFile)
    const fromJs = await run(process.execPath, ['--input-type=module', '-e', js, keyId], { env, cwd: repoPath(), timeout: 60_000 })
    assert.match(fromJs.stdout, /^arn:aws:kms:us-east-1:111122223333:key\//)
    if (PYTHON === undefined) {
      console.log('SKIPPED the boto3 half: python3 with boto3 is not installed')
      return
    }
    const py = `
import sys, boto3
kms = boto3.client('kms')
print(kms.generate_mac(KeyId=sys.argv[1], Message=b'x', MacAlgorithm='HMAC_SHA_256')['KeyId'])
print(boto3.client('sts').get_caller_identity()['Arn'])`
    const fromPy = await python(py, [keyId], { env })
    const [macKey, arn] = fromPy.trim().split('\n')
    assert.match(macKey ?? '', /^arn:aws:kms:us-east-1:111122223333:key\//)
    assert.match(arn ?? '', /^arn:aws:sts::111122223333:assumed-role\/pods\//)
  })
})
