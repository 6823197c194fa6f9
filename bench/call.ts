// One signed KMS call over node:http, for setting up a scenario (create a key, get a MAC to
// verify). Not used under load: that is the load generator's job.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { CREATE_KEY_FIELDS } from './scenarios.js'
import { BENCH_ACCOUNT, Presigner, SERVER_ENV, signStsQuery, type Credentials, type PresignedRequest } from './sign.js'

export async function kmsCall(
  url: string,
  operation: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const signed = new Presigner(new URL(url).host).sign(`TrentService.${operation}`, JSON.stringify(body))
  const { status, text } = await post(url, signed)
  if (status !== 200) throw new Error(`${operation} on ${url} answered ${status}: ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

/**
 * An IAM user's long-term credentials and a role session's temporary ones on a macaw server, both
 * with the same identity policy (kms:*): the user and a role it may assume are made with the admin
 * commands, then the user calls AssumeRole. A session's cost is judged against the user's.
 */
export async function benchIdentities(url: string, dataDir: string, macawMain: string): Promise<{ user: Credentials; session: Credentials }> {
  const admin = (args: string[]): string =>
    execFileSync(process.execPath, [macawMain, ...args, '--data-dir', dataDir], { env: SERVER_ENV, encoding: 'utf8' })
  const trust = join(dataDir, 'bench-trust.json')
  const policy = join(dataDir, 'bench-policy.json')
  writeFileSync(policy, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:*', 'sts:AssumeRole'], Resource: '*' }] }))
  const user = JSON.parse(admin(['users', 'create', '--name', 'bench', '--policy', policy])) as { AccessKeyId: string; SecretAccessKey: string; Arn: string }
  writeFileSync(trust, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: user.Arn }, Action: 'sts:AssumeRole' }] }))
  admin(['roles', 'create', '--name', 'bench', '--trust-policy', trust, '--policy', policy, '--max-session-seconds', '43200'])
  const signed = signStsQuery(new URL(url).host, { accessKeyId: user.AccessKeyId, secretAccessKey: user.SecretAccessKey }, {
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: `arn:aws:iam::${BENCH_ACCOUNT}:role/bench`,
    RoleSessionName: 'bench',
    DurationSeconds: '43200',
  })
  const { status, text } = await post(url, signed)
  const field = (name: string): string => new RegExp(`<${name}>([^<]+)</${name}>`).exec(text)?.[1] ?? ''
  if (status !== 200 || field('SessionToken') === '') throw new Error(`AssumeRole on ${url} answered ${status}: ${text}`)
  return {
    user: { accessKeyId: user.AccessKeyId, secretAccessKey: user.SecretAccessKey },
    session: { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey'), sessionToken: field('SessionToken') },
  }
}

function post(url: string, signed: PresignedRequest): Promise<{ status: number; text: string }> {
  const u = new URL(url)
  return new Promise<{ status: number; text: string }>(
    (resolve, reject) => {
      const req = request(
        { host: u.hostname, port: u.port, method: 'POST', path: '/', headers: signed.headers },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          )
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(signed.body)
    },
  )
}

export async function createKey(url: string): Promise<string> {
  const answer = await kmsCall(url, 'CreateKey', CREATE_KEY_FIELDS)
  const id = (answer.KeyMetadata as { KeyId?: unknown } | undefined)?.KeyId
  if (typeof id !== 'string')
    throw new Error(`CreateKey answered without KeyMetadata.KeyId: ${JSON.stringify(answer)}`)
  return id
}

export async function generateMac(url: string, keyId: string, message: string): Promise<string> {
  const answer = await kmsCall(url, 'GenerateMac', {
    KeyId: keyId,
    Message: message,
    MacAlgorithm: 'HMAC_SHA_256',
  })
  if (typeof answer.Mac !== 'string')
    throw new Error(`GenerateMac answered without Mac: ${JSON.stringify(answer)}`)
  return answer.Mac
}
