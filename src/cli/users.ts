// `macaw users ...` and `macaw access-keys ...`: IAM users and access keys, written straight to the
// store (the server may be running: it notices the change before its next request). Secrets are
// sealed under the root of trust, printed once at creation and never listed.
import { readFileSync } from 'node:fs'
import { newAccessKeyId, newSecretAccessKey, rootArn, secretContext, userArn } from '../auth/principals.js'
import { compilePolicy, type PolicyKind } from '../auth/policy.js'
import type { RawSettings } from '../config.js'
import { seal } from '../crypto/envelope.js'
import { KmsError } from '../protocol/errors.js'
import { StoreConflictError } from '../store/store.js'
import { AdminError, withAdmin, type Admin } from './admin.js'

const USER_NAME = /^[\w+=,.@-]{1,64}$/
const MAX_IDENTITY_POLICY_CHARS = 10_240

export function checkUserName(name: string): void {
  if (!USER_NAME.test(name)) throw new AdminError(`user name '${name}' must be 1 to 64 characters of letters, digits and _+=,.@-`)
}

/** Reads and compiles an identity policy file; the problem is reported with the file name. */
export function readIdentityPolicy(file: string): string {
  return readPolicyFile(file, { kind: 'identity', label: 'policy', valid: 'a valid IAM policy', maxChars: MAX_IDENTITY_POLICY_CHARS })
}

/**
 * Reads a policy file of `kind` and compiles it, so that an admin command refuses what the service
 * would refuse; every problem names the file (`label file <path> ...`).
 */
export function readPolicyFile(file: string, rules: { kind: PolicyKind; label: string; valid: string; maxChars: number }): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new AdminError(`cannot read ${rules.label} file ${file}: ${(err as Error).message}`)
  }
  if (text.length > rules.maxChars) throw new AdminError(`${rules.label} file ${file} exceeds ${rules.maxChars} characters`)
  try {
    const policy = compilePolicy(text, rules.kind)
    if (policy.unknownOperators.length > 0) throw new AdminError(`${rules.label} file ${file}: unknown condition operator ${policy.unknownOperators[0] ?? ''}`)
  } catch (err) {
    if (err instanceof KmsError) throw new AdminError(`${rules.label} file ${file} is not ${rules.valid}: ${err.message}`)
    throw err
  }
  return text
}

async function createAccessKey(admin: Admin, accountId: string, userName: string | undefined): Promise<object> {
  const accessKeyId = newAccessKeyId()
  const secretAccessKey = newSecretAccessKey()
  await admin.store.insertAccessKey({
    accessKeyId,
    accountId,
    ...(userName === undefined ? {} : { userName }),
    secret: await seal(admin.root, Buffer.from(secretAccessKey, 'utf8'), secretContext(accessKeyId)),
    status: 'Active',
    createDate: Date.now(),
  })
  const partition = admin.config.partition
  const arn = userName === undefined ? rootArn(partition, accountId) : userArn(partition, accountId, userName)
  return { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, Arn: arn }
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export interface UserFlags extends RawSettings {
  name: string
  policy?: string
}

export async function usersCreate(flags: UserFlags): Promise<void> {
  checkUserName(flags.name)
  const policy = flags.policy === undefined ? undefined : readIdentityPolicy(flags.policy)
  await withAdmin(flags, async (admin) => {
    const accountId = admin.config.accountId
    try {
      await admin.store.insertUser({ accountId, userName: flags.name, ...(policy === undefined ? {} : { policy }), createDate: Date.now() })
    } catch (err) {
      if (err instanceof StoreConflictError) throw new AdminError(`user ${flags.name} already exists in account ${accountId}`)
      throw err
    }
    print(await createAccessKey(admin, accountId, flags.name))
  })
}

export async function usersList(flags: RawSettings & { all?: boolean }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const accountId = flags.all === true ? undefined : admin.config.accountId
    const users = await admin.store.listUsers(accountId)
    const out = []
    for (const u of users) {
      const keys = (await admin.store.listAccessKeys(u.accountId)).filter((k) => k.userName === u.userName)
      out.push({
        UserName: u.userName,
        AccountId: u.accountId,
        Arn: userArn(admin.config.partition, u.accountId, u.userName),
        CreateDate: new Date(u.createDate).toISOString(),
        HasPolicy: u.policy !== undefined,
        AccessKeyIds: keys.map((k) => k.accessKeyId),
      })
    }
    print(out)
  })
}

export async function usersDelete(flags: UserFlags): Promise<void> {
  await withAdmin(flags, async (admin) => {
    if (!(await admin.store.deleteUser(admin.config.accountId, flags.name))) {
      throw new AdminError(`no user ${flags.name} in account ${admin.config.accountId}`)
    }
    process.stdout.write(`deleted user ${flags.name} and its access keys\n`)
  })
}

export async function usersPutPolicy(flags: UserFlags & { policy: string }): Promise<void> {
  const policy = readIdentityPolicy(flags.policy)
  await withAdmin(flags, async (admin) => {
    if (!(await admin.store.putUserPolicy(admin.config.accountId, flags.name, policy))) {
      throw new AdminError(`no user ${flags.name} in account ${admin.config.accountId}`)
    }
    process.stdout.write(`policy of user ${flags.name} replaced\n`)
  })
}

export async function usersGetPolicy(flags: UserFlags): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const user = await admin.store.getUser(admin.config.accountId, flags.name)
    if (!user) throw new AdminError(`no user ${flags.name} in account ${admin.config.accountId}`)
    process.stdout.write(user.policy === undefined ? '' : `${user.policy.trimEnd()}\n`)
  })
}

export async function accessKeysCreate(flags: RawSettings & { userName?: string }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const accountId = admin.config.accountId
    if (flags.userName !== undefined && !(await admin.store.getUser(accountId, flags.userName))) {
      throw new AdminError(`no user ${flags.userName} in account ${accountId}`)
    }
    print(await createAccessKey(admin, accountId, flags.userName))
  })
}

export async function accessKeysDelete(flags: RawSettings & { accessKeyId: string }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    if (!(await admin.store.deleteAccessKey(flags.accessKeyId))) throw new AdminError(`no access key ${flags.accessKeyId}`)
    process.stdout.write(`deleted access key ${flags.accessKeyId}\n`)
  })
}

export async function accessKeysList(flags: RawSettings & { userName?: string }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const keys = await admin.store.listAccessKeys(admin.config.accountId)
    const partition = admin.config.partition
    print(
      keys
        .filter((k) => flags.userName === undefined || k.userName === flags.userName)
        .map((k) => ({
          AccessKeyId: k.accessKeyId,
          AccountId: k.accountId,
          Arn: k.userName === undefined ? rootArn(partition, k.accountId) : userArn(partition, k.accountId, k.userName),
          Status: k.status,
          CreateDate: new Date(k.createDate).toISOString(),
        })),
    )
  })
}
