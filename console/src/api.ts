// The console's only way to the service: the AWS SDK for JavaScript v3, as any client uses it,
// signing every call with SigV4 in the browser. The credentials live in memory (and, if the user
// asks, in this tab's sessionStorage); never in a cookie or localStorage.
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail'
import { KMSClient } from '@aws-sdk/client-kms'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'

export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
  readonly region: string
}

export interface Session {
  readonly credentials: Credentials
  readonly arn: string
  readonly account: string
  readonly kms: KMSClient
  readonly cloudtrail: CloudTrailClient
}

/** Names the console in every call's x-amz-user-agent, so the audit trail shows who called. */
export const USER_AGENT = 'macaw-console/1'
const STORAGE_KEY = 'macaw-console-credentials'

function clientConfig(c: Credentials) {
  return {
    endpoint: window.location.origin,
    region: c.region,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) },
    customUserAgent: USER_AGENT,
    maxAttempts: 2,
  }
}

/** Checks the credentials with GetCallerIdentity, and builds the clients. */
export async function signIn(c: Credentials, remember: boolean): Promise<Session> {
  const sts = new STSClient(clientConfig(c))
  try {
    const who = await sts.send(new GetCallerIdentityCommand({}))
    if (remember) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(c))
    else sessionStorage.removeItem(STORAGE_KEY)
    return { credentials: c, arn: who.Arn ?? '', account: who.Account ?? '', kms: new KMSClient(clientConfig(c)), cloudtrail: new CloudTrailClient(clientConfig(c)) }
  } finally {
    sts.destroy()
  }
}

export function remembered(): Credentials | undefined {
  try {
    const text = sessionStorage.getItem(STORAGE_KEY)
    return text === null ? undefined : (JSON.parse(text) as Credentials)
  } catch {
    return undefined
  }
}

export function signOut(session: Session | undefined): void {
  sessionStorage.removeItem(STORAGE_KEY)
  session?.kms.destroy()
  session?.cloudtrail.destroy()
}

/** An API error as AWS words it: its code and message (some, like KMSInvalidMacException, have none). */
export interface ApiError {
  readonly code: string
  readonly message: string
  readonly denied: boolean
}

export function apiError(err: unknown): ApiError {
  const e = err as { name?: string; Code?: string; message?: string }
  const code = e.Code ?? e.name ?? 'Error'
  const message = e.message === undefined || e.message === 'UnknownError' || e.message === code ? '' : e.message
  return { code, message, denied: code === 'AccessDeniedException' || code === 'AccessDenied' }
}
