// `macaw roles ...`: IAM roles, written straight to the store (the server may be running: every
// worker and node sees the change before its next request). A role holds no secret: its sessions
// are sealed tokens that STS issues (auth/session-token.ts).
import { newRoleId, roleArn } from '../auth/principals.js'
import type { RawSettings } from '../config.js'
import { StoreConflictError, type RoleRecord } from '../store/store.js'
import { AdminError, withAdmin, type Admin } from './admin.js'
import { print, readIdentityPolicy, readPolicyFile } from './users.js'

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/
/** IAM's quota for a trust policy (AWS: role trust policy length, 2,048 characters by default; 4,096 at most). */
const MAX_TRUST_POLICY_CHARS = 4096
/** AWS: MaxSessionDuration is 3,600 to 43,200 seconds. */
const MIN_SESSION_SECONDS = 3600
const MAX_SESSION_SECONDS = 43200

export interface RoleFlags extends RawSettings {
  name: string
  trustPolicy?: string
  policy?: string
  maxSessionSeconds?: string
}

function checkRoleName(name: string): void {
  if (!ROLE_NAME.test(name)) throw new AdminError(`role name '${name}' must be 1 to 64 characters of letters, digits and _+=,.@-`)
}

function readTrustPolicy(file: string): string {
  return readPolicyFile(file, { kind: 'trust', label: 'trust policy', valid: 'a valid trust policy', maxChars: MAX_TRUST_POLICY_CHARS })
}

function maxSession(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN
  if (!(n >= MIN_SESSION_SECONDS && n <= MAX_SESSION_SECONDS)) {
    throw new AdminError(`--max-session-seconds must be an integer from ${MIN_SESSION_SECONDS} to ${MAX_SESSION_SECONDS}, got '${text}'`)
  }
  return n
}

/** The role as IAM's GetRole shows it (no policies' text: get-policy prints that). */
function describe(admin: Admin, role: RoleRecord): object {
  return {
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: roleArn(admin.config.partition, role.accountId, role.roleName),
    AccountId: role.accountId,
    CreateDate: new Date(role.createDate).toISOString(),
    MaxSessionDuration: role.maxSessionSeconds,
    AssumeRolePolicyDocument: JSON.parse(role.trustPolicy) as unknown,
    HasPolicy: role.policy !== undefined,
    ...(role.sessionsValidAfter === undefined ? {} : { SessionsRevokedBefore: new Date(role.sessionsValidAfter).toISOString() }),
  }
}

async function existing(admin: Admin, name: string): Promise<RoleRecord> {
  const role = await admin.store.getRole(admin.config.accountId, name)
  if (role === undefined) throw new AdminError(`no role ${name} in account ${admin.config.accountId}`)
  return role
}

/** Writes a changed role; a role deleted meanwhile is reported. */
async function update(admin: Admin, role: RoleRecord): Promise<void> {
  if (!(await admin.store.updateRole(role))) throw new AdminError(`no role ${role.roleName} in account ${role.accountId}`)
}

export async function rolesCreate(flags: RoleFlags & { trustPolicy: string }): Promise<void> {
  checkRoleName(flags.name)
  const trustPolicy = readTrustPolicy(flags.trustPolicy)
  const policy = flags.policy === undefined ? undefined : readIdentityPolicy(flags.policy)
  const maxSessionSeconds = maxSession(flags.maxSessionSeconds, MIN_SESSION_SECONDS)
  await withAdmin(flags, async (admin) => {
    const role: RoleRecord = {
      accountId: admin.config.accountId,
      roleName: flags.name,
      roleId: newRoleId(),
      trustPolicy,
      ...(policy === undefined ? {} : { policy }),
      maxSessionSeconds,
      createDate: Date.now(),
    }
    try {
      await admin.store.insertRole(role)
    } catch (err) {
      if (err instanceof StoreConflictError) throw new AdminError(`role ${flags.name} already exists in account ${role.accountId}`)
      throw err
    }
    print({ Role: describe(admin, role) })
  })
}

export async function rolesList(flags: RawSettings & { all?: boolean }): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const roles = await admin.store.listRoles(flags.all === true ? undefined : admin.config.accountId)
    print(roles.map((r) => describe(admin, r)))
  })
}

export async function rolesDescribe(flags: RoleFlags): Promise<void> {
  await withAdmin(flags, async (admin) => print({ Role: describe(admin, await existing(admin, flags.name)) }))
}

export async function rolesDelete(flags: RoleFlags): Promise<void> {
  await withAdmin(flags, async (admin) => {
    if (!(await admin.store.deleteRole(admin.config.accountId, flags.name))) throw new AdminError(`no role ${flags.name} in account ${admin.config.accountId}`)
    process.stdout.write(`deleted role ${flags.name}; its sessions no longer work\n`)
  })
}

export async function rolesPutPolicy(flags: RoleFlags & { policy: string }): Promise<void> {
  const policy = readIdentityPolicy(flags.policy)
  await withAdmin(flags, async (admin) => {
    await update(admin, { ...(await existing(admin, flags.name)), policy })
    process.stdout.write(`policy of role ${flags.name} replaced\n`)
  })
}

export async function rolesGetPolicy(flags: RoleFlags): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const role = await existing(admin, flags.name)
    process.stdout.write(role.policy === undefined ? '' : `${role.policy.trimEnd()}\n`)
  })
}

export async function rolesPutTrustPolicy(flags: RoleFlags & { trustPolicy: string }): Promise<void> {
  const trustPolicy = readTrustPolicy(flags.trustPolicy)
  await withAdmin(flags, async (admin) => {
    await update(admin, { ...(await existing(admin, flags.name)), trustPolicy })
    process.stdout.write(`trust policy of role ${flags.name} replaced\n`)
  })
}

export async function rolesUpdate(flags: RoleFlags): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const role = await existing(admin, flags.name)
    await update(admin, { ...role, maxSessionSeconds: maxSession(flags.maxSessionSeconds, role.maxSessionSeconds) })
    process.stdout.write(`role ${flags.name} updated\n`)
  })
}

/** Every session issued until now is denied everything from the next request on (AWS's revoke). */
export async function rolesRevokeSessions(flags: RoleFlags): Promise<void> {
  await withAdmin(flags, async (admin) => {
    const now = Date.now()
    await update(admin, { ...(await existing(admin, flags.name)), sessionsValidAfter: now })
    process.stdout.write(`sessions of role ${flags.name} issued before ${new Date(now).toISOString()} are revoked\n`)
  })
}
