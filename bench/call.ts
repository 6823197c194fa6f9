// One signed KMS call over node:http, for setting up a scenario (create a key, get a MAC to
// verify). Not used under load: that is the load generator's job.
import { request } from 'node:http'
import { CREATE_KEY_FIELDS } from './scenarios.js'
import { Presigner } from './sign.js'

export async function kmsCall(
  url: string,
  operation: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const u = new URL(url)
  const signed = new Presigner(u.host).sign(`TrentService.${operation}`, JSON.stringify(body))
  const { status, text } = await new Promise<{ status: number; text: string }>(
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
  if (status !== 200) throw new Error(`${operation} on ${url} answered ${status}: ${text}`)
  return JSON.parse(text) as Record<string, unknown>
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
